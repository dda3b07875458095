//! Running graphs: queues, hubs, the executor and the supervisor.

pub(crate) mod executor;
pub(crate) mod hub;
pub(crate) mod queue;
pub(crate) mod supervisor;
