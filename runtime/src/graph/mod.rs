//! Graph files: the spec as written, loading with places, validation and diagnostics.

pub(crate) mod diff;
pub(crate) mod document;
pub(crate) mod draw;
pub(crate) mod error;
pub(crate) mod load;
pub(crate) mod negotiate;
pub(crate) mod place;
pub(crate) mod report;
pub(crate) mod schema;
pub(crate) mod schema_check;
pub(crate) mod spec;
pub(crate) mod validate;
