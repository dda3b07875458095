//! Sources: node kinds that produce frames.

pub(crate) mod image_source;
mod pacer;
pub(crate) mod rtmp_source;
pub(crate) mod test_pattern;
pub(crate) mod y4m_source;
