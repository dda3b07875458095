//! Links between processes over zenoh: the session a process opens from the
//! graph's hosts ([`Transport`]), and publishers and subscribers of frames in
//! the wire format of docs/WIRE.md ([`FramePublisher`], [`FrameSubscriber`]).

pub(crate) mod config;
pub(crate) mod deploy;
pub(crate) mod link;
pub(crate) mod presence;
pub(crate) mod query;
pub(crate) mod session;
pub(crate) mod shm;
pub(crate) mod wire;
