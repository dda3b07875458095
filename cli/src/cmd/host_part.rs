//! What `ooblex run --host NAME` adds to a run: only the nodes placed on that
//! host, a zenoh session for the edges to the others, the host's presence
//! and the deployments it takes. A build without the `hosts` feature refuses
//! `--host` with the way to get it, and runs graphs that name hosts wholly in
//! one process.

use ooblex_runtime::{Reloader, RuntimeEnv, ValidatedGraph};

/// Held while the process takes part; dropping it leaves.
pub type Guard = Box<dyn Send>;

#[cfg(feature = "hosts")]
mod with_hosts {
    use ooblex_runtime::{Transport, TransportConfig, TransportError, announce, place, serve_deployments};

    use super::*;

    /// The part of `graph` placed on `host`.
    pub fn place_part(graph: &ValidatedGraph, host: &str) -> anyhow::Result<ValidatedGraph> {
        Ok(place(graph, host, &ooblex_nodes::registry())?)
    }

    /// The runtime's environment, with a zenoh session for the graph's hosts.
    pub fn env(graph: &ValidatedGraph, host: Option<&str>) -> RuntimeEnv {
        RuntimeEnv {
            transport: Transport::new(TransportConfig::for_part(&graph.spec, host)),
            ..RuntimeEnv::default()
        }
    }

    /// Listens now, so that the other hosts find this one whatever its
    /// links, and says who this is.
    pub async fn announce_host(env: &RuntimeEnv, graph: &ValidatedGraph, host: &str) -> anyhow::Result<Guard> {
        let presence = announce(&env.transport, &graph.name, host, env.metrics.clone())
            .await
            .map_err(|err| match err {
                TransportError::Open { .. } => anyhow::anyhow!(
                    "{err}\nhelp: another process may listen on that endpoint; check `hosts:` in the graph"
                ),
                other => other.into(),
            })?;
        Ok(Box::new(presence))
    }

    /// Takes the graph's deployments (`ooblex deploy`) for `host`.
    pub async fn take_deployments(
        env: &RuntimeEnv,
        graph: &str,
        host: &str,
        token: Option<String>,
        reloader: Reloader,
    ) -> anyhow::Result<Guard> {
        Ok(Box::new(
            serve_deployments(&env.transport, graph, host, token, reloader).await?,
        ))
    }

    /// Closes the zenoh session, if a link opened it.
    pub async fn close(env: &RuntimeEnv) {
        env.transport.close().await;
    }
}

#[cfg(not(feature = "hosts"))]
mod without_hosts {
    use super::*;

    /// `--host` in a build without hosts: the way to get them.
    pub fn place_part(_graph: &ValidatedGraph, host: &str) -> anyhow::Result<ValidatedGraph> {
        anyhow::bail!(
            "`--host {host}`: this ooblex was built without the `hosts` feature, so it runs a graph's \
             hosts only together in one process\nhelp: rebuild with `cargo build --release --features hosts` \
             to run one host per process, or leave out `--host`"
        )
    }

    /// The runtime's environment.
    pub fn env(_graph: &ValidatedGraph, _host: Option<&str>) -> RuntimeEnv {
        RuntimeEnv::default()
    }

    /// Never called: `place_part` refuses every host.
    pub async fn announce_host(_env: &RuntimeEnv, _graph: &ValidatedGraph, host: &str) -> anyhow::Result<Guard> {
        place_part_refused(host)
    }

    /// Never called: `place_part` refuses every host.
    pub async fn take_deployments(
        _env: &RuntimeEnv,
        _graph: &str,
        host: &str,
        _token: Option<String>,
        _reloader: Reloader,
    ) -> anyhow::Result<Guard> {
        place_part_refused(host)
    }

    fn place_part_refused(host: &str) -> anyhow::Result<Guard> {
        anyhow::bail!("host `{host}`: this ooblex was built without the `hosts` feature")
    }

    /// Nothing to close.
    pub async fn close(_env: &RuntimeEnv) {}
}

#[cfg(feature = "hosts")]
pub use with_hosts::*;
#[cfg(not(feature = "hosts"))]
pub use without_hosts::*;
