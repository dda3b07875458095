//! Starting the real `ooblex` binary and talking to it over real HTTP.

#![allow(dead_code)]

pub mod browser;
pub mod hosts;
pub mod python;

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository root (graphs/, tests/fixtures/ are relative to it).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `ooblex` binary cargo built for this test.
pub fn ooblex() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ooblex"));
    command.current_dir(repo_root());
    command
}

/// Runs `ooblex ARGS` to completion.
pub fn run(args: &[&str]) -> Output {
    ooblex().args(args).output().expect("the ooblex binary runs")
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("loopback has free ports")
}

/// A fresh scratch directory `ooblex-<name>-<pid>` for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ooblex-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    dir
}

/// Runs `ooblex run GRAPH` headless on a free port until the graph ends.
pub fn run_graph(graph: &Path) -> Output {
    ooblex()
        .args(["run", graph.to_str().expect("utf-8 path"), "--no-status"])
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .output()
        .expect("ooblex runs")
}

/// `codec,width,height,frames` of a file's first video stream, as ffprobe reads it.
pub fn probe(path: &Path) -> String {
    try_probe(path).unwrap_or_else(|err| panic!("ffprobe {}: {err}", path.display()))
}

/// [`probe`], or what ffprobe said when it could not read the file.
pub fn try_probe(path: &Path) -> Result<String, String> {
    ffprobe(
        path.as_os_str(),
        &[
            "-count_frames",
            "-show_entries",
            "stream=codec_name,width,height,nb_read_frames",
        ],
    )
}

/// What ffprobe prints, as CSV without keys, about the first video stream of
/// `input` (a file or URL), given `args`; its error output when it fails.
pub fn ffprobe(input: &std::ffi::OsStr, args: &[&str]) -> Result<String, String> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-of", "csv=p=0"])
        .args(args)
        .arg(input)
        .output()
        .expect("ffprobe is installed (the test command installs ffmpeg)");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).to_string());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// x264 as OBS sets it up: B-frames, a keyframe a second at 30 fps.
pub const X264: &[&str] = &["-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "30"];

/// ffmpeg's arguments (after its logging flags) to publish `seconds` of a
/// 320x240 test picture at 30 fps with AAC audio to `url` over RTMP, in real
/// time as OBS does, with the video encoded by `video_codec` (such as [`X264`]).
pub fn rtmp_publish_args(url: &str, seconds: u32, video_codec: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30"]
        .iter()
        .chain(&["-f", "lavfi", "-i", "sine", "-t"])
        .map(|arg| arg.to_string())
        .collect();
    args.push(seconds.to_string());
    args.extend(video_codec.iter().map(|arg| arg.to_string()));
    args.extend(["-c:a", "aac", "-f", "flv", url].map(String::from));
    args
}

/// Starts ffmpeg with `args` (after its logging flags), its errors piped.
pub fn start_ffmpeg<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Child {
    Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ffmpeg is installed (the test command installs it)")
}

/// Waits up to `timeout` for ffmpeg started by [`start_ffmpeg`] to exit,
/// killing it after that; how it exited and what it wrote to stderr.
pub fn finish_ffmpeg(mut child: Child, timeout: Duration) -> (ExitStatus, String) {
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("ffmpeg can be polled") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ffmpeg ran past {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
    (status, err)
}

/// Waits up to `timeout` for `done`, polling every 100 ms; whether it came true.
pub fn wait_for(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    done()
}

/// Whether the `/health` body `health` says the graph runs with no node still
/// starting: `ready`, or nodes that all started though some fail (a graph
/// whose camera is unreachable never gets ready).
fn started(health: &str) -> bool {
    let health: serde_json::Value = serde_json::from_str(health).unwrap_or_default();
    let nodes = health["nodes"].as_object();
    health["ready"] == true || nodes.is_some_and(|nodes| !nodes.is_empty() && !nodes.contains_key("starting"))
}

/// A running `ooblex run` process, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    /// Starts `ooblex run GRAPH` on a free port and waits until `/health` answers.
    pub fn start(graph: &str, extra: &[&str]) -> Server {
        Server::start_in(&repo_root(), graph, extra)
    }

    /// [`Server::start`] with `dir` as the working directory.
    pub fn start_in(dir: &Path, graph: &str, extra: &[&str]) -> Server {
        let listen = format!("127.0.0.1:{}", free_port());
        let mut command = ooblex();
        command
            .current_dir(dir)
            .args(["run", graph, "--listen", &listen])
            .args(extra);
        Server::start_command(command, &listen)
    }

    /// Starts `command`, an `ooblex run` that listens on `listen`, and waits
    /// until `/health` answers there with every node past starting (sources
    /// take input from then on).
    pub fn start_command(mut command: Command, listen: &str) -> Server {
        let child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the ooblex binary starts");
        let mut server = Server {
            child,
            base: format!("http://{listen}"),
        };
        // Nodes that load a model stay `starting` while tract optimises it,
        // which takes tens of seconds in a debug build on a loaded machine.
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut health = None;
        while Instant::now() < deadline {
            if let Some(status) = server.child.try_wait().expect("the child can be polled") {
                let mut err = String::new();
                let _ = server.child.stderr.take().map(|mut e| e.read_to_string(&mut err));
                panic!("ooblex exited early ({status}):\n{err}");
            }
            health = server.get("/health").ok();
            if health.as_deref().is_some_and(started) {
                return server;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("ooblex did not have every node started within 120 s; /health: {health:?}");
    }

    /// GET `path`, returning the body as text.
    pub fn get(&self, path: &str) -> Result<String, ureq::Error> {
        ureq::get(&format!("{}{path}", self.base))
            .call()?
            .body_mut()
            .read_to_string()
    }

    /// GET `path`, returning the body as bytes; panics unless it answers 200.
    pub fn get_bytes(&self, path: &str) -> Vec<u8> {
        ureq::get(&format!("{}{path}", self.base))
            .call()
            .unwrap_or_else(|err| panic!("GET {path}: {err}"))
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .unwrap_or_else(|err| panic!("GET {path}: {err}"))
    }

    /// Counter `name` of node `node` from `/metrics`; `None` before the node reports.
    pub fn metric(&self, name: &str, node: &str) -> Option<u64> {
        self.metric_value(name, node)
    }

    /// [`Server::metric`] as any number (a histogram's `_sum` is fractional).
    pub fn metric_value<T: std::str::FromStr>(&self, name: &str, node: &str) -> Option<T> {
        let text = self.get("/metrics").expect("metrics answer");
        let prefix = format!("{name}{{node=\"{node}\"");
        text.lines()
            .find(|line| line.starts_with(&prefix))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    /// Sends a signal (`TERM`, `INT`) to the process.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the process to exit; returns its status and stderr.
    pub fn wait(mut self, timeout: Duration) -> (ExitStatus, String) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be polled") {
                let mut err = String::new();
                let _ = self.child.stderr.take().map(|mut e| e.read_to_string(&mut err));
                return (status, err);
            }
            assert!(Instant::now() < deadline, "ooblex did not exit within {timeout:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads parts of a `multipart/x-mixed-replace` MJPEG stream as a browser does.
pub struct MjpegReader {
    reader: Box<dyn Read + Send>,
    buffer: Vec<u8>,
}

impl MjpegReader {
    /// Opens `url`, checking the content type.
    pub fn open(url: &str) -> MjpegReader {
        let response = ureq::get(url).call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            content_type.starts_with("multipart/x-mixed-replace; boundary="),
            "content type {content_type}"
        );
        MjpegReader {
            reader: Box::new(response.into_body().into_reader()),
            buffer: Vec::new(),
        }
    }

    /// The next JPEG part's bytes.
    pub fn next_part(&mut self) -> Vec<u8> {
        let header_end = self.read_until(b"\r\n\r\n");
        let header = String::from_utf8_lossy(&self.buffer[..header_end]).to_string();
        let length: usize = header
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("part without Content-Length: {header}"));
        self.buffer.drain(..header_end + 4);
        while self.buffer.len() < length + 2 {
            self.fill();
        }
        let part: Vec<u8> = self.buffer.drain(..length).collect();
        assert_eq!(&self.buffer[..2], b"\r\n", "a part ends with CRLF");
        self.buffer.drain(..2);
        part
    }

    fn read_until(&mut self, needle: &[u8]) -> usize {
        loop {
            if let Some(i) = self.buffer.windows(needle.len()).position(|w| w == needle) {
                return i;
            }
            self.fill();
        }
    }

    fn fill(&mut self) {
        let mut chunk = [0u8; 65536];
        let n = self.reader.read(&mut chunk).expect("the stream stays open");
        assert!(n > 0, "the stream ended");
        self.buffer.extend_from_slice(&chunk[..n]);
    }
}
