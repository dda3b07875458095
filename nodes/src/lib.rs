//! The built-in node kinds.
