//! What a process's zenoh session is opened with, from the graph's `hosts:`.

use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::graph::spec::{GraphSpec, LinkTls};

/// Where a process listens and whom it connects to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransportConfig {
    /// Endpoints to listen on (`tcp/127.0.0.1:7447`).
    pub listen: Vec<String>,
    /// Endpoints of other hosts to connect to; retried until they answer.
    pub connect: Vec<String>,
    /// Whether to find peers by multicast scouting on the LAN.
    pub multicast_scouting: bool,
    /// The user and password this process presents and requires of peers.
    pub auth: Option<LinkCredentials>,
    /// The certificates of its `tls/` endpoints.
    pub tls: Option<LinkTls>,
}

/// The graph's `links.tls`, if any.
fn tls_of(spec: &GraphSpec) -> Option<LinkTls> {
    spec.links.as_ref()?.tls.clone()
}

/// A user, and where its password is: the graph's `links.auth`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkCredentials {
    /// The user.
    pub user: String,
    /// The environment variable that holds the password.
    pub password_env: String,
}

impl LinkCredentials {
    /// The credentials `spec` asks of its links, if any.
    fn of(spec: &GraphSpec) -> Option<LinkCredentials> {
        let auth = spec.links.as_ref()?.auth.as_ref()?;
        Some(LinkCredentials {
            user: auth.user.clone().unwrap_or_else(|| spec.name.to_string()),
            password_env: auth.password_env.clone(),
        })
    }

    /// The password, read from its environment variable.
    pub fn password(&self) -> Result<String, String> {
        let name = &self.password_env;
        let fix =
            "set it to the graph's link password on every host, and where `ooblex status` or `ooblex deploy` runs";
        match std::env::var(name) {
            Ok(password) if password.is_empty() => Err(format!("`links.auth`: `{name}` is empty; {fix}")),
            Ok(password) if password.contains(['\n', '\r']) => Err(format!(
                "`links.auth`: `{name}` holds a line break, which a password cannot have"
            )),
            Ok(password) => Ok(password),
            Err(_) => Err(format!(
                "`links.auth`: the environment variable `{name}` is not set; {fix}"
            )),
        }
    }
}

/// The file of users and passwords a zenoh session accepts, which zenoh
/// reads as it opens; readable by this user only, and removed when dropped.
pub(crate) struct Dictionary(PathBuf);

impl Dictionary {
    fn write(user: &str, password: &str) -> Result<Dictionary, String> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "ooblex-links-{}-{}.dict",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_file(&path);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|err| format!("cannot write the links' password file {}: {err}", path.display()))?;
        let dictionary = Dictionary(path);
        writeln!(file, "{user}:{password}").map_err(|err| {
            format!(
                "cannot write the links' password file {}: {err}",
                dictionary.0.display()
            )
        })?;
        Ok(dictionary)
    }
}

impl Drop for Dictionary {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
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
            auth: LinkCredentials::of(spec),
            tls: tls_of(spec),
        }
    }

    /// The session of a tool that talks to the hosts of `spec` (`ooblex
    /// status`, `ooblex deploy`): it connects to where each host listens (an
    /// unspecified address, `0.0.0.0` or `[::]`, as this machine's loopback),
    /// and listens on a port of its own (over TLS when the links are), which
    /// the hosts it reaches tell the others about: hosts that only connect
    /// (and so cannot be reached) then connect to it, since zenoh peers do
    /// not pass queries on for others.
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
        let tls = tls_of(spec);
        let protocol = if tls.is_some() { "tls" } else { "tcp" };
        TransportConfig {
            listen: vec![format!("{protocol}/0.0.0.0:0")],
            connect: connect.into_iter().collect(),
            multicast_scouting: spec.hosts.values().any(|h| h.multicast_scouting),
            auth: LinkCredentials::of(spec),
            tls,
        }
    }

    /// The zenoh configuration: a peer with these endpoints, multicast
    /// scouting as asked, shared memory only for buffers we place there
    /// ourselves (zenoh would otherwise copy every large payload into a pool
    /// of its own), the links' user and password, presented and required,
    /// with the file that holds them until the session opens, and the TLS
    /// certificates, presented and required of every peer.
    pub(crate) fn zenoh(&self) -> Result<(zenoh::Config, Option<Dictionary>), String> {
        let mut config = zenoh::Config::default();
        let mut dictionary = None;
        if let Some(auth) = &self.auth {
            let password = auth.password()?;
            let file = Dictionary::write(&auth.user, &password)?;
            let usrpwd = serde_json::json!({
                "user": auth.user,
                "password": password,
                "dictionary_file": file.0.to_string_lossy(),
            });
            config
                .insert_json5("transport/auth/usrpwd", &usrpwd.to_string())
                .map_err(|err| format!("`transport/auth/usrpwd`: {err}"))?;
            dictionary = Some(file);
        }
        if let Some(tls) = &self.tls {
            let tls = tls_settings(tls)?;
            config
                .insert_json5("transport/link/tls", &tls.to_string())
                .map_err(|err| format!("`transport/link/tls`: {err}"))?;
        }
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
        Ok((config, dictionary))
    }
}

/// zenoh's TLS settings for `tls`: this host's certificate when it listens
/// and when it connects, peers' certificates checked against the CA both ways
/// (mutual TLS), and the name a peer is reached by checked against its
/// certificate. Each file must be readable now: zenoh's own error would not
/// say which setting it came from.
fn tls_settings(tls: &LinkTls) -> Result<serde_json::Value, String> {
    for (field, path) in tls.files() {
        std::fs::File::open(path).map_err(|err| {
            format!(
                "`links.tls.{field}`: cannot read `{path}`: {err}; every host (and `ooblex status`, `ooblex deploy`) needs its own copy, at this path relative to where it runs"
            )
        })?;
    }
    Ok(serde_json::json!({
        "root_ca_certificate": tls.ca,
        "listen_certificate": tls.cert,
        "listen_private_key": tls.key,
        "connect_certificate": tls.cert,
        "connect_private_key": tls.key,
        "enable_mtls": true,
        "verify_name_on_connect": true,
    }))
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
        assert!(gpu.auth.is_none(), "no user and password unless the graph asks");
        assert!(gpu.tls.is_none(), "no certificates unless the graph asks");
    }

    #[test]
    fn tools_reach_tls_hosts_over_tls_and_take_their_certificates() {
        let spec = spec(
            "version: 1\nname: t\nhosts:\n  stage: { listen: [\"tls/0.0.0.0:7447\"] }\nlinks:\n  tls: { ca: /nonexistent/ca.pem, cert: host.pem, key: host.key }\nnodes:\n  a: { kind: test_pattern, host: stage }\n",
        );
        let tool = TransportConfig::reaching(&spec);
        assert_eq!(tool.listen, ["tls/0.0.0.0:0"]);
        assert_eq!(tool.connect, ["tls/127.0.0.1:7447"]);
        let err = tool
            .zenoh()
            .err()
            .expect("a certificate that cannot be read stops the session");
        assert!(
            err.contains("`links.tls.ca`: cannot read `/nonexistent/ca.pem`"),
            "{err}"
        );
    }
}
