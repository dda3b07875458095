//! Node kinds and running nodes: ports, params, shapes and the registry.

pub(crate) mod context;
pub(crate) mod error;
pub(crate) mod formats;
pub(crate) mod kind;
pub(crate) mod params;
pub(crate) mod port;
pub(crate) mod registry;
pub(crate) mod shapes;
pub(crate) mod shutdown;
