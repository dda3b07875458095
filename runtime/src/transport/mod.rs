//! Links between processes over zenoh: the session a process opens from the
//! graph's hosts (`session`, `config`), frames in the wire format of
//! docs/WIRE.md (`wire`, `link`) and born in shared memory (`shm`), and the
//! hosts' presence, status and deployments (`presence`, `deploy`, `query`).

pub(crate) mod config;
pub(crate) mod deploy;
pub(crate) mod link;
pub(crate) mod presence;
pub(crate) mod query;
pub(crate) mod session;
pub(crate) mod shm;
pub(crate) mod wire;
