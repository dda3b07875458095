//! The control plane does not trust a browser on the same machine: requests are
//! sent as a browser sends them — raw HTTP/1.1 with its `Host`, `Origin` and
//! content type — and a foreign page can neither replace the graph, nor reach
//! it by DNS rebinding, nor read video or secrets.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use support::{Server, free_port, scratch, wait_for};

/// A stream key no response may show without the token.
const KEY: &str = "studio-key-7f3a";
/// The token of the servers that have one.
const TOKEN: &str = "tok-5e1f-secret";

/// A running graph with an RTMP server guarded by [`KEY`], and `extra` nodes.
fn write_graph(dir: &Path, extra: &str) -> String {
    let path = dir.join("graph.yaml");
    let rtmp = free_port();
    std::fs::write(
        &path,
        format!(
            "version: 1\nname: guarded\nnodes:\n  camera: {{ kind: test_pattern, params: {{ width: 64, height: 64, fps: 10 }} }}\n  preview: {{ kind: mjpeg_sink, inputs: {{ video: camera }} }}\n  obs: {{ kind: rtmp_source, params: {{ listen: \"127.0.0.1:{rtmp}\", key: {KEY} }} }}\n{extra}"
        ),
    )
    .expect("the scratch directory is writable");
    path.to_str().expect("utf-8 path").to_string()
}

/// A graph that replaces the running one: the camera gone, a new node in.
const REPLACEMENT: &str = "version: 1\nname: replaced\nnodes:\n  intruder: { kind: test_pattern, params: { width: 32, height: 32, fps: 5 } }\n  out: { kind: null_sink, inputs: { video: intruder } }\n";

/// One HTTP response as read off the socket.
#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    /// The value of header `name`, if sent.
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim().to_string())
        })
    }
}

/// Sends `method path` to the server on `port` with exactly `headers` (the
/// test writes `Host` itself, as a browser under DNS rebinding would) and `body`.
fn send(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut request = format!("{method} {path} HTTP/1.1\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0\r\nConnection: close\r\n");
    if !body.is_empty() || method == "POST" {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the server accepts connections");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("a read timeout can be set");
    stream.write_all(request.as_bytes()).expect("the request is sent");
    let mut data = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        let n = stream.read(&mut chunk).expect("the server answers");
        assert!(n > 0, "the connection closed before a full response head: {data:?}");
        data.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {head}"));
    let mut reply = Reply {
        status,
        head,
        body: String::new(),
    };
    if status == 101 {
        return reply; // a WebSocket: the connection stays open
    }
    let mut rest = data[head_end + 4..].to_vec();
    stream.read_to_end(&mut rest).expect("the body is read to its end");
    if reply
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        rest = dechunk(&rest);
    }
    reply.body = String::from_utf8_lossy(&rest).to_string();
    reply
}

/// The payload of a `Transfer-Encoding: chunked` body.
fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").expect("a chunk size line");
        let size_text = String::from_utf8_lossy(&data[..line_end]).to_string();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or_else(|_| panic!("a chunk size: {size_text:?}"));
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

fn port_of(server: &Server) -> u16 {
    server
        .base
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("the base URL ends in the port")
}

/// The ids of the running graph's nodes, as a script (no Origin) reads them.
fn node_ids(server: &Server) -> Vec<String> {
    let graph: serde_json::Value =
        serde_json::from_str(&server.get("/api/graph").expect("the graph API answers")).expect("JSON");
    let mut ids: Vec<String> = graph["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["node"].as_str().map(String::from))
        .collect();
    ids.sort();
    ids
}

#[test]
fn a_text_plain_post_from_any_page_leaves_the_graph_running() {
    let dir = scratch("guard-post");
    let server = Server::start(&write_graph(&dir, ""), &["--no-status", "--no-watch"]);
    let port = port_of(&server);
    let host = format!("127.0.0.1:{port}");
    let before = node_ids(&server);
    assert_eq!(before, ["camera", "obs", "preview"]);

    // `fetch(url, { method: 'POST', mode: 'no-cors', body })` from any site:
    // a simple request, sent without asking first.
    let evil = send(
        port,
        "POST",
        "/api/graph",
        &[
            ("Host", &host),
            ("Origin", "http://evil.example"),
            ("Content-Type", "text/plain;charset=UTF-8"),
        ],
        REPLACEMENT,
    );
    assert_eq!(evil.status, 403, "{evil:?}");
    assert!(
        evil.body.contains("--allow-origin http://evil.example"),
        "the refusal says how to allow a page: {}",
        evil.body
    );

    // An HTML form posts `application/x-www-form-urlencoded`, even from our own page.
    let own = format!("http://{host}");
    let form = send(
        port,
        "POST",
        "/api/graph",
        &[
            ("Host", &host),
            ("Origin", &own),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        REPLACEMENT,
    );
    assert_eq!(form.status, 415, "{form:?}");
    assert!(form.body.contains("application/yaml"), "{}", form.body);

    // A script that forgot the type is told which to use.
    let untyped = send(port, "POST", "/api/graph", &[("Host", &host)], REPLACEMENT);
    assert_eq!(untyped.status, 415, "{untyped:?}");
    assert_eq!(node_ids(&server), before, "no refused request replaced the graph");
    assert!(
        server
            .get("/metrics")
            .expect("metrics")
            .contains("ooblex_graph_reloads_total{result=\"applied\"} 0"),
        "nothing was applied"
    );

    // Our own page, with the type that forces a preflight, is obeyed.
    let applied = send(
        port,
        "POST",
        "/api/graph",
        &[("Host", &host), ("Origin", &own), ("Content-Type", "application/yaml")],
        REPLACEMENT,
    );
    assert_eq!(applied.status, 200, "{applied:?}");
    assert_eq!(node_ids(&server), ["intruder", "out"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn requests_for_a_foreign_host_are_refused_so_dns_rebinding_reaches_nothing() {
    let dir = scratch("guard-host");
    let server = Server::start(&write_graph(&dir, ""), &["--no-status", "--no-watch"]);
    let port = port_of(&server);
    let rebound = format!("evil.example:{port}");

    for path in ["/api/graph", "/health", "/api/streams", "/streams/preview.jpg", "/"] {
        let reply = send(port, "GET", path, &[("Host", &rebound)], "");
        assert_eq!(reply.status, 421, "GET {path}: {reply:?}");
        assert!(
            reply.body.contains("--allow-host evil.example`"),
            "the refusal says how to allow a name: {}",
            reply.body
        );
        assert!(!reply.body.contains(KEY), "{}", reply.body);
    }
    // After rebinding, the attacker's page is same-origin with the name it rebound.
    let post = send(
        port,
        "POST",
        "/api/graph",
        &[
            ("Host", &rebound),
            ("Origin", &format!("http://{rebound}")),
            ("Content-Type", "application/yaml"),
        ],
        REPLACEMENT,
    );
    assert_eq!(post.status, 421, "{post:?}");
    assert_eq!(node_ids(&server), ["camera", "obs", "preview"]);

    for ours in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let reply = send(port, "GET", "/health", &[("Host", &ours)], "");
        assert_eq!(reply.status, 200, "Host {ours}: {reply:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn names_and_origins_the_user_allows_are_let_in() {
    let dir = scratch("guard-allow");
    let server = Server::start(
        &write_graph(&dir, ""),
        &[
            "--no-status",
            "--no-watch",
            "--allow-host",
            "studio.test",
            "--allow-origin",
            "https://dashboard.example",
        ],
    );
    let port = port_of(&server);
    for host in [format!("studio.test:{port}"), "studio.test".to_string()] {
        let reply = send(port, "GET", "/health", &[("Host", &host)], "");
        assert_eq!(reply.status, 200, "Host {host}: {reply:?}");
    }
    let host = format!("127.0.0.1:{port}");
    let preflight = send(
        port,
        "OPTIONS",
        "/api/graph",
        &[
            ("Host", &host),
            ("Origin", "https://dashboard.example"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        "",
    );
    assert_eq!(preflight.status, 204, "{preflight:?}");
    assert_eq!(
        preflight.header("access-control-allow-origin").as_deref(),
        Some("https://dashboard.example")
    );
    let applied = send(
        port,
        "POST",
        "/api/graph",
        &[
            ("Host", &host),
            ("Origin", "https://dashboard.example"),
            ("Content-Type", "application/json"),
        ],
        r#"{"version": 1, "name": "from-json", "nodes": {"a": {"kind": "test_pattern"}, "b": {"kind": "null_sink", "inputs": {"video": "a"}}}}"#,
    );
    assert_eq!(applied.status, 200, "a JSON graph is a YAML graph: {applied:?}");
    assert_eq!(
        applied.header("access-control-allow-origin").as_deref(),
        Some("https://dashboard.example"),
        "the allowed page may read the answer"
    );
    assert_eq!(node_ids(&server), ["a", "b"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cors_preflights_are_answered_only_for_our_origins() {
    let dir = scratch("guard-preflight");
    let server = Server::start(&write_graph(&dir, ""), &["--no-status", "--no-watch"]);
    let port = port_of(&server);
    let host = format!("127.0.0.1:{port}");
    let ask = |origin: &str| {
        send(
            port,
            "OPTIONS",
            "/api/graph",
            &[
                ("Host", &host),
                ("Origin", origin),
                ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "content-type"),
            ],
            "",
        )
    };
    let foreign = ask("http://evil.example");
    assert_eq!(foreign.status, 403, "{foreign:?}");
    assert_eq!(foreign.header("access-control-allow-origin"), None, "{foreign:?}");

    // `localhost` and `127.0.0.1` on our port are this server under two names.
    let own = format!("http://localhost:{port}");
    let ours = ask(&own);
    assert_eq!(ours.status, 204, "{ours:?}");
    assert_eq!(ours.header("access-control-allow-origin"), Some(own));
    assert!(
        ours.header("access-control-allow-methods")
            .is_some_and(|m| m.contains("POST")),
        "{ours:?}"
    );
    assert!(
        ours.header("access-control-allow-headers")
            .is_some_and(|h| h.contains("content-type")),
        "{ours:?}"
    );
    // Another app on this machine is another origin.
    assert_eq!(ask("http://localhost:3000").status, 403);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn only_our_own_pages_may_read_video_and_state() {
    let dir = scratch("guard-read");
    let hls = "  encode: { kind: h264_encode, inputs: { video: camera }, params: { keyframe_interval: 10, fps: 10 } }\n  clip: { kind: hls_sink, inputs: { video: encode }, params: { segment: 1, window: 4 } }\n";
    let server = Server::start(&write_graph(&dir, hls), &["--no-status", "--no-watch"]);
    let port = port_of(&server);
    let host = format!("127.0.0.1:{port}");
    assert!(
        wait_for(Duration::from_secs(20), || server
            .get("/hls/clip/index.m3u8")
            .is_ok_and(|p| p.contains(".m4s"))),
        "the playlist lists a segment"
    );
    for path in ["/hls/clip/index.m3u8", "/api/graph", "/api/streams"] {
        let foreign = send(
            port,
            "GET",
            path,
            &[("Host", &host), ("Origin", "http://evil.example")],
            "",
        );
        assert_eq!(foreign.status, 200, "{path}: {foreign:?}");
        assert_eq!(
            foreign.header("access-control-allow-origin"),
            None,
            "{path}: no foreign page may read it: {foreign:?}"
        );
        let own = format!("http://localhost:{port}");
        let ours = send(port, "GET", path, &[("Host", &host), ("Origin", &own)], "");
        assert_eq!(
            ours.header("access-control-allow-origin"),
            Some(own),
            "{path}: {ours:?}"
        );
        assert!(
            ours.header("vary")
                .is_some_and(|v| v.to_ascii_lowercase().contains("origin")),
            "{path}: {ours:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn event_websockets_from_foreign_pages_are_refused() {
    let dir = scratch("guard-events");
    let server = Server::start(&write_graph(&dir, ""), &["--no-status", "--no-watch"]);
    let port = port_of(&server);
    let host = format!("127.0.0.1:{port}");
    let upgrade = |origin: Option<&str>| {
        let mut headers = vec![
            ("Host", host.as_str()),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
        ];
        headers.extend(origin.map(|o| ("Origin", o)));
        send(port, "GET", "/api/events", &headers, "")
    };
    let foreign = upgrade(Some("http://evil.example"));
    assert_eq!(foreign.status, 403, "{foreign:?}");
    assert_eq!(upgrade(Some(&format!("http://{host}"))).status, 101);
    assert_eq!(upgrade(None).status, 101, "a script without an Origin connects");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_stream_key_leaves_only_with_the_token_and_the_token_never() {
    let dir = scratch("guard-secrets");
    let server = Server::start(&write_graph(&dir, ""), &["--no-status", "--no-watch", "--token", TOKEN]);
    let port = port_of(&server);
    let host = format!("127.0.0.1:{port}");
    let bearer = format!("Bearer {TOKEN}");
    let read = |headers: &[(&str, &str)]| {
        let mut all = vec![("Host", host.as_str())];
        all.extend_from_slice(headers);
        let reply = send(port, "GET", "/api/graph", &all, "");
        assert_eq!(reply.status, 200, "{reply:?}");
        assert!(
            !reply.body.contains(TOKEN),
            "the token is never returned: {}",
            reply.body
        );
        serde_json::from_str::<serde_json::Value>(&reply.body).expect("JSON")
    };
    for headers in [
        &[][..],
        &[("Authorization", "Bearer wrong-token-123")][..],
        &[("Origin", "http://evil.example")][..],
    ] {
        let graph = read(headers);
        let text = graph.to_string();
        assert!(!text.contains(KEY), "{headers:?}: the key is masked: {text}");
        assert_eq!(graph["spec"]["nodes"]["obs"]["params"]["key"], "***", "{text}");
        assert_eq!(
            graph["spec"]["nodes"]["obs"]["params"]["listen"]
                .as_str()
                .map(|l| l.starts_with("127.0.0.1:")),
            Some(true),
            "what is not secret is shown: {text}"
        );
    }
    let graph = read(&[("Authorization", &bearer)]);
    assert_eq!(graph["spec"]["nodes"]["obs"]["params"]["key"], KEY);

    server.signal("TERM");
    let (status, stderr) = server.wait(Duration::from_secs(10));
    assert!(status.success(), "{stderr}");
    assert!(!stderr.contains(TOKEN), "the token is never logged:\n{stderr}");

    // Without a token configured there is none to carry: the key stays masked.
    let open = Server::start(&write_graph(&dir, ""), &["--no-status", "--no-watch"]);
    let text = open.get("/api/graph").expect("the graph API answers");
    assert!(!text.contains(KEY), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// With GStreamer: a camera's URL password and an RTMP sink's stream key stay
/// masked in the spec, in node errors and in events, for clients without the
/// token — GStreamer's own message quotes the whole RTMP URL.
#[cfg(feature = "gstreamer")]
#[test]
fn url_credentials_and_stream_keys_stay_masked_in_errors_and_events() {
    let dir = scratch("guard-urls");
    let nowhere = free_port();
    let extra = format!(
        "  ipcam: {{ kind: rtsp_source, params: {{ url: \"rtsp://admin:hunter2pw@127.0.0.1:{nowhere}/stream1\" }} }}\n  push: {{ kind: rtmp_sink, inputs: {{ video: camera }}, params: {{ url: \"rtmp://127.0.0.1:{nowhere}/live/streamkey-4242\" }} }}\n"
    );
    let graph = write_graph(&dir, &extra);
    let server = Server::start(&graph, &["--no-status", "--no-watch", "--token", TOKEN]);
    let url = format!("{}/api/events", server.base.replace("http://", "ws://"));
    let (mut events, _) = tungstenite::connect(url.as_str()).expect("the events WebSocket opens");
    if let tungstenite::stream::MaybeTlsStream::Plain(stream) = events.get_ref() {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("a read timeout can be set");
    }
    let secrets = ["hunter2pw", "streamkey-4242", KEY];
    // The RTMP sink fails on every frame it cannot send, and is restarted.
    let mut errors_seen = 0;
    while errors_seen < 2 {
        let message = events.read().expect("node errors arrive as events within 30 s");
        let text = message.to_text().expect("text").to_string();
        for secret in secrets {
            assert!(!text.contains(secret), "an event shows `{secret}`: {text}");
        }
        let event: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        if event["node"] == "push" && event["error"].is_string() {
            errors_seen += 1;
        }
    }
    let text = server.get("/api/graph").expect("the graph API answers");
    for secret in secrets {
        assert!(!text.contains(secret), "GET /api/graph shows `{secret}`: {text}");
    }
    let graph: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(
        graph["spec"]["nodes"]["ipcam"]["params"]["url"],
        format!("rtsp://admin:***@127.0.0.1:{nowhere}/stream1")
    );
    assert_eq!(graph["spec"]["nodes"]["push"]["params"]["url"], "***");
    let _ = std::fs::remove_dir_all(&dir);
}
