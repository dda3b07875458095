//! What a process's zenoh session is opened with, from the graph's `hosts:`.

use std::collections::BTreeSet;

use crate::graph::spec::GraphSpec;

/// Where a process listens and whom it connects to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransportConfig {
    /// Endpoints to listen on (`tcp/127.0.0.1:7447`).
    pub listen: Vec<String>,
    /// Endpoints of other hosts to connect to; retried until they answer.
    pub connect: Vec<String>,
    /// Whether to find peers by multicast scouting on the LAN.
    pub multicast_scouting: bool,
}

impl TransportConfig {
    /// The session of `host`'s part of `spec`; with `None`, of a process that
    /// runs the whole graph: it listens where every host listens and connects
    /// where they connect, except to itself, so peers outside the graph (a
    /// Python process) reach it at any host's address.
    pub fn for_part(spec: &GraphSpec, host: Option<&str>) -> TransportConfig {
        let hosts: Vec<_> = match host {
            Some(host) => spec.hosts.get(host).into_iter().collect(),
            None => spec.hosts.values().collect(),
        };
        let listen: BTreeSet<&String> = hosts.iter().flat_map(|h| &h.listen).collect();
        let connect: BTreeSet<&String> = hosts
            .iter()
            .flat_map(|h| &h.connect)
            .filter(|endpoint| !listen.contains(endpoint))
            .collect();
        TransportConfig {
            listen: listen.into_iter().cloned().collect(),
            connect: connect.into_iter().cloned().collect(),
            multicast_scouting: hosts.iter().any(|h| h.multicast_scouting),
        }
    }

    /// The session of a tool that talks to the hosts of `spec` (`ooblex
    /// status`, `ooblex deploy`): it connects to where each host listens (an
    /// unspecified address, `0.0.0.0` or `[::]`, as this machine's loopback),
    /// and listens on a port of its own, which the hosts it reaches tell the
    /// others about: hosts that only connect (and so cannot be reached) then
    /// connect to it, since zenoh peers do not pass queries on for others.
    pub fn reaching(spec: &GraphSpec) -> TransportConfig {
        let connect: BTreeSet<String> = spec
            .hosts
            .values()
            .flat_map(|h| &h.listen)
            .map(|endpoint| {
                endpoint
                    .replacen("/0.0.0.0:", "/127.0.0.1:", 1)
                    .replacen("/[::]:", "/[::1]:", 1)
            })
            .collect();
        TransportConfig {
            listen: vec!["tcp/0.0.0.0:0".to_string()],
            connect: connect.into_iter().collect(),
            multicast_scouting: spec.hosts.values().any(|h| h.multicast_scouting),
        }
    }

    /// The zenoh configuration: a peer with these endpoints, multicast
    /// scouting as asked, shared memory only for buffers we place there
    /// ourselves (zenoh would otherwise copy every large payload into a pool
    /// of its own), and quick reconnection.
    pub(crate) fn zenoh(&self) -> Result<zenoh::Config, String> {
        let mut config = zenoh::Config::default();
        let settings = [
            ("mode", serde_json::json!("peer")),
            ("listen/endpoints", serde_json::json!(self.listen)),
            ("connect/endpoints", serde_json::json!(self.connect)),
            ("scouting/multicast/enabled", serde_json::json!(self.multicast_scouting)),
            (
                "transport/shared_memory/transport_optimization/enabled",
                serde_json::json!(false),
            ),
        ];
        for (key, value) in settings {
            config
                .insert_json5(key, &value.to_string())
                .map_err(|err| format!("`{key}`: {err}"))?;
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::load::load_str;

    fn spec(yaml: &str) -> GraphSpec {
        load_str("test.yaml", yaml)
            .map_err(|e| e.render(false))
            .expect("a valid graph")
            .spec
    }

    #[test]
    fn one_process_for_the_whole_graph_never_connects_to_itself() {
        let spec = spec(
            "version: 1\nname: t\nhosts:\n  stage: { listen: [\"tcp/127.0.0.1:7447\"] }\n  gpu: { connect: [\"tcp/127.0.0.1:7447\", \"tcp/10.0.0.9:7447\"] }\nnodes:\n  a: { kind: test_pattern }\n",
        );
        let whole = TransportConfig::for_part(&spec, None);
        assert_eq!(whole.listen, ["tcp/127.0.0.1:7447"]);
        assert_eq!(whole.connect, ["tcp/10.0.0.9:7447"]);
        let gpu = TransportConfig::for_part(&spec, Some("gpu"));
        assert!(gpu.listen.is_empty());
        assert_eq!(gpu.connect.len(), 2);
        assert!(
            !gpu.multicast_scouting,
            "multicast scouting is off unless the graph turns it on"
        );
        gpu.zenoh().expect("a configuration zenoh takes");
    }
}
