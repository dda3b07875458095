//! Who may talk to the control plane: the names it answers to (`Host`), the
//! web pages it lets change state (`Origin`), and the bearer token.
//!
//! Loopback is no trust boundary once a browser runs on the machine: any web
//! page can send requests to `127.0.0.1`, and with DNS rebinding a name the
//! attacker controls can point there too. So a request is served only when its
//! `Host` names this server, and a page may change state only when it comes
//! from one of this server's own origins or one the user allowed.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// What the control plane lets in: the address it listens on, the extra names
/// and origins the user allowed, and the token, if any.
#[derive(Clone, Debug)]
pub struct Access {
    listen: SocketAddr,
    token: Option<Token>,
    hosts: Vec<AllowedHost>,
    origins: Vec<AllowedOrigin>,
}

impl Access {
    /// Access to a server listening on `listen` (the bound address, port
    /// included); `token` (when set and not empty) guards state changes.
    pub fn new(listen: SocketAddr, token: Option<String>) -> Access {
        Access {
            listen,
            token: token.filter(|t| !t.is_empty()).map(Token),
            hosts: Vec::new(),
            origins: Vec::new(),
        }
    }

    /// Also answers to these names (a reverse proxy's, a LAN name).
    pub fn with_hosts(mut self, hosts: impl IntoIterator<Item = AllowedHost>) -> Access {
        self.hosts.extend(hosts);
        self
    }

    /// Also lets pages of these origins change state and read responses.
    pub fn with_origins(mut self, origins: impl IntoIterator<Item = AllowedOrigin>) -> Access {
        self.origins.extend(origins);
        self
    }

    /// Whether a token is configured.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Whether `authorization` (the header's value) carries the configured
    /// token; always false when none is configured.
    pub fn carries_token(&self, authorization: Option<&str>) -> bool {
        let Some(token) = &self.token else { return false };
        let Some(value) = authorization else { return false };
        let Some((scheme, given)) = value.split_once(' ') else {
            return false;
        };
        scheme.eq_ignore_ascii_case("bearer") && same_secret(given.trim().as_bytes(), token.0.as_bytes())
    }

    /// Whether a request whose `Host` header is `host` is for this server.
    pub fn serves_host(&self, host: &str) -> bool {
        Authority::parse(host).is_some_and(|authority| self.serves(&authority, 80))
    }

    fn serves(&self, authority: &Authority, default_port: u16) -> bool {
        if self
            .hosts
            .iter()
            .any(|allowed| allowed.matches(authority, default_port))
        {
            return true;
        }
        if authority.port.unwrap_or(default_port) != self.listen.port() {
            return false;
        }
        let listen = self.listen.ip();
        match authority.ip() {
            Some(ip) => listen.is_unspecified() || ip == listen || (listen.is_loopback() && ip.is_loopback()),
            None => authority.host == "localhost" && (listen.is_loopback() || listen.is_unspecified()),
        }
    }

    /// Whether a page of `origin` (an `Origin` header) is one of ours, for a
    /// request that named `host`: the user allowed it, or it is this very
    /// server under plain HTTP — the same origin as the request, or one of
    /// its loopback names (`localhost` and `127.0.0.1` are the same server).
    pub fn origin_is_ours(&self, origin: &str, host: Option<&str>) -> bool {
        if self
            .origins
            .iter()
            .any(|allowed| allowed.0.eq_ignore_ascii_case(origin))
        {
            return true;
        }
        let Some((scheme, authority)) = origin.split_once("://") else {
            return false;
        };
        let default_port = match scheme.to_ascii_lowercase().as_str() {
            "http" => 80,
            "https" => 443,
            _ => return false,
        };
        let Some(authority) = Authority::parse(authority) else {
            return false;
        };
        if self
            .hosts
            .iter()
            .any(|allowed| allowed.matches_origin(&authority, default_port, self.listen.port()))
        {
            return true;
        }
        // This server speaks plain HTTP: an `https` page on its port is another server.
        if default_port != 80 || !self.serves(&authority, 80) {
            return false;
        }
        let same_origin = host
            .and_then(Authority::parse)
            .is_some_and(|host| host.host == authority.host && host.port.unwrap_or(80) == authority.port.unwrap_or(80));
        // Listening on every address, an IP is ours only as the request's own,
        // and a loopback name only for a request that came over loopback: to
        // a browser on another machine, its `localhost` is another server.
        let host_is_loopback = host.and_then(Authority::parse).is_some_and(|h| h.is_loopback());
        // Otherwise only on our own port: another port of a name we answer to
        // (`--allow-host localhost`) is another server, such as a dev server.
        let on_our_port = authority.port.unwrap_or(80) == self.listen.port();
        same_origin
            || (on_our_port && (!self.listen.ip().is_unspecified() || (authority.is_loopback() && host_is_loopback)))
    }

    /// The names this server answers to, for messages.
    pub fn describe_hosts(&self) -> String {
        let port = self.listen.port();
        let listen = self.listen.ip();
        let mut names = Vec::new();
        if listen.is_unspecified() {
            names.push(format!("any of this machine's addresses on port {port}"));
        } else {
            names.push(SocketAddr::new(listen, port).to_string());
        }
        if listen.is_loopback() || listen.is_unspecified() {
            names.push(format!("localhost:{port}"));
        }
        names.extend(self.hosts.iter().map(ToString::to_string));
        names.join(", ")
    }
}

/// The bearer token. Its `Debug` never shows it, so it cannot reach a log.
#[derive(Clone)]
struct Token(String);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// Compares two secrets in time that depends on their length only, never on
/// where they first differ, so a client cannot guess a token byte by byte.
pub(crate) fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    if given.len() != expected.len() {
        return false;
    }
    let difference = given
        .iter()
        .zip(expected)
        .fold(0u8, |acc, (a, b)| std::hint::black_box(acc | (a ^ b)));
    difference == 0
}

/// A `host[:port]` as written in a `Host` header or an origin, lower-cased,
/// IPv6 without its brackets.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Authority {
    host: String,
    port: Option<u16>,
}

impl Authority {
    /// `host`, `host:port`, `[v6]`, `[v6]:port`; `None` for anything else
    /// (user info, paths, spaces, a bare IPv6 address, a bad port).
    fn parse(text: &str) -> Option<Authority> {
        if text.is_empty() || text.contains(['@', '/', '\\', '?', '#']) || text.contains(char::is_whitespace) {
            return None;
        }
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, after) = rest.split_once(']')?;
            host.parse::<std::net::Ipv6Addr>().ok()?;
            (host, after)
        } else {
            text.find(':').map_or((text, ""), |colon| text.split_at(colon))
        };
        let port = match port.strip_prefix(':') {
            None if port.is_empty() => None,
            None => return None,
            Some("") => None,
            Some(port) => Some(port.parse().ok()?),
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        (!host.is_empty()).then_some(Authority { host, port })
    }

    fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    fn is_loopback(&self) -> bool {
        self.host == "localhost" || self.ip().is_some_and(|ip| ip.is_loopback())
    }
}

/// A name the user lets the server answer to, such as `studio.lan` (any port)
/// or `studio.lan:8800` (that port only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost(Authority);

impl AllowedHost {
    /// Whether a page at `authority` (under a scheme whose default port is
    /// `default_port`) is ours: on the allowed name's port when it has one,
    /// else on the web's default ports (a proxy in front) or ours. Another
    /// port of the same name is another server, such as a dev server.
    fn matches_origin(&self, authority: &Authority, default_port: u16, ours: u16) -> bool {
        let port = authority.port.unwrap_or(default_port);
        self.0.host == authority.host
            && match self.0.port {
                Some(allowed) => allowed == port,
                None => port == 80 || port == 443 || port == ours,
            }
    }

    fn matches(&self, authority: &Authority, default_port: u16) -> bool {
        self.0.host == authority.host
            && self
                .0
                .port
                .is_none_or(|port| port == authority.port.unwrap_or(default_port))
    }
}

impl FromStr for AllowedHost {
    type Err = AccessError;

    fn from_str(text: &str) -> Result<AllowedHost, AccessError> {
        Authority::parse(text.trim())
            .map(AllowedHost)
            .ok_or_else(|| AccessError::BadHost(text.to_string()))
    }
}

impl fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = &self.0.host;
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.clone()
        };
        match self.0.port {
            Some(port) => write!(f, "{host}:{port}"),
            None => write!(f, "{host}"),
        }
    }
}

/// A web origin the user lets change state, such as `https://studio.example.com`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigin(String);

impl FromStr for AllowedOrigin {
    type Err = AccessError;

    fn from_str(text: &str) -> Result<AllowedOrigin, AccessError> {
        let text = text.trim().trim_end_matches('/');
        let bad = || AccessError::BadOrigin(text.to_string());
        let (scheme, authority) = text.split_once("://").ok_or_else(bad)?;
        let scheme_ok = !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !scheme_ok || Authority::parse(authority).is_none() {
            return Err(bad());
        }
        Ok(AllowedOrigin(text.to_ascii_lowercase()))
    }
}

impl fmt::Display for AllowedOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A name or origin to allow that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// Not `NAME` or `NAME:PORT`.
    #[error(
        "`{0}` is not a host name; hint: write a name or address, optionally with a port: `studio.lan`, `studio.lan:8800`, `[fd00::5]:8800`"
    )]
    BadHost(String),
    /// Not `scheme://host[:port]`.
    #[error(
        "`{0}` is not a web origin; hint: write scheme, host and port only, as a browser sends it: `https://studio.example.com`, `http://localhost:3000`"
    )]
    BadOrigin(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback() -> Access {
        Access::new("127.0.0.1:8800".parse().expect("an address"), Some("s3cret".into()))
    }

    #[test]
    fn a_loopback_server_answers_to_its_address_and_localhost_on_its_port() {
        let access = loopback();
        for host in [
            "127.0.0.1:8800",
            "localhost:8800",
            "LOCALHOST:8800",
            "localhost.:8800",
            "[::1]:8800",
        ] {
            assert!(access.serves_host(host), "{host}");
        }
        for host in [
            "evil.example:8800",
            "evil.example",
            "127.0.0.1",
            "localhost:8801",
            "127.0.0.1.evil.example:8800",
            "user@127.0.0.1:8800",
            "127.0.0.1:8800/x",
            "::1:8800",
            "192.168.1.5:8800",
            "",
        ] {
            assert!(!access.serves_host(host), "{host}");
        }
    }

    #[test]
    fn a_server_on_one_address_answers_to_that_address_only() {
        let access = Access::new("192.168.1.5:8800".parse().expect("an address"), None);
        assert!(access.serves_host("192.168.1.5:8800"));
        assert!(!access.serves_host("localhost:8800"));
        assert!(!access.serves_host("10.0.0.7:8800"));
    }

    #[test]
    fn a_server_on_every_address_answers_to_any_ip_but_no_foreign_name() {
        let access = Access::new("0.0.0.0:8800".parse().expect("an address"), Some("t".into()));
        assert!(access.serves_host("10.0.0.7:8800"));
        assert!(access.serves_host("localhost:8800"));
        assert!(!access.serves_host("evil.example:8800"));
    }

    #[test]
    fn allowed_names_match_any_port_unless_they_give_one() {
        let access = loopback().with_hosts([
            "Studio.LAN".parse().expect("a name"),
            "proxy.example:443".parse().expect("a name"),
        ]);
        assert!(access.serves_host("studio.lan"));
        assert!(access.serves_host("studio.lan:9000"));
        assert!(access.serves_host("proxy.example:443"));
        assert!(!access.serves_host("proxy.example:8800"));
        assert!(!access.serves_host("other.lan:8800"));
    }

    #[test]
    fn bad_names_and_origins_are_refused_with_a_hint() {
        for bad in ["http://studio.lan", "a b", "", "studio.lan:port", "::1"] {
            let err = bad.parse::<AllowedHost>().expect_err(bad);
            assert!(err.to_string().contains("hint:"), "{err}");
        }
        for bad in ["studio.example.com", "https://", "https://a/b", "*"] {
            assert!(bad.parse::<AllowedOrigin>().is_err(), "{bad}");
        }
        assert_eq!(
            "HTTPS://Studio.example.com/"
                .parse::<AllowedOrigin>()
                .expect("an origin")
                .to_string(),
            "https://studio.example.com"
        );
    }

    #[test]
    fn our_origins_are_this_server_over_http_and_those_allowed() {
        let access = loopback().with_origins(["https://studio.example.com".parse().expect("an origin")]);
        let host = Some("127.0.0.1:8800");
        for origin in [
            "http://127.0.0.1:8800",
            "http://localhost:8800",
            "http://[::1]:8800",
            "https://studio.example.com",
            "HTTPS://STUDIO.EXAMPLE.COM",
        ] {
            assert!(access.origin_is_ours(origin, host), "{origin}");
        }
        for origin in [
            "http://evil.example",
            "http://evil.example:8800",
            "https://127.0.0.1:8800",
            "http://localhost:3000",
            "null",
            "file://",
            "https://studio.example.com.evil.example",
            "",
        ] {
            assert!(!access.origin_is_ours(origin, host), "{origin}");
        }
    }

    #[test]
    fn on_every_address_a_lan_origin_is_ours_only_as_the_request_s_own() {
        let access = Access::new("0.0.0.0:8800".parse().expect("an address"), Some("t".into()));
        assert!(access.origin_is_ours("http://10.0.0.7:8800", Some("10.0.0.7:8800")));
        assert!(!access.origin_is_ours("http://10.0.0.8:8800", Some("10.0.0.7:8800")));
        assert!(
            !access.origin_is_ours("http://localhost:8800", Some("10.0.0.7:8800")),
            "to a browser on another machine, its localhost is another server"
        );
        assert!(access.origin_is_ours("http://localhost:8800", Some("localhost:8800")));
    }

    #[test]
    fn an_allowed_name_without_a_port_is_ours_on_web_ports_and_ours_only() {
        let access = loopback().with_hosts([
            "localhost".parse().expect("a name"),
            "studio.lan".parse().expect("a name"),
        ]);
        let host = Some("localhost:8800");
        for origin in [
            "http://studio.lan",
            "https://studio.lan",
            "http://studio.lan:8800",
            "http://localhost:8800",
        ] {
            assert!(access.origin_is_ours(origin, host), "{origin}");
        }
        for origin in [
            "http://localhost:3000",
            "http://studio.lan:3000",
            "https://localhost:5173",
        ] {
            assert!(
                !access.origin_is_ours(origin, host),
                "another port is another server: {origin}"
            );
        }
    }

    #[test]
    fn the_token_is_compared_whole_and_never_shown() {
        let access = loopback();
        assert!(access.carries_token(Some("Bearer s3cret")));
        assert!(access.carries_token(Some("bearer s3cret")));
        for wrong in [
            "Bearer s3cre",
            "Bearer s3cret2",
            "Bearer S3CRET",
            "Basic s3cret",
            "s3cret",
            "Bearer ",
        ] {
            assert!(!access.carries_token(Some(wrong)), "{wrong}");
        }
        assert!(!access.carries_token(None));
        assert!(!Access::new("127.0.0.1:1".parse().expect("an address"), None).carries_token(Some("Bearer ")));
        assert!(!format!("{access:?}").contains("s3cret"));
    }

    #[test]
    fn secrets_compare_equal_only_when_identical() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
        assert!(same_secret(b"", b""));
    }
}
