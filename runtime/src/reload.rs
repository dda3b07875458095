//! Hot reload: new graphs — from the watched file or `POST /api/graph` — go
//! through one path: load, validate, diff, apply. Invalid graphs are reported
//! and the running graph is left as it was.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::{mpsc, oneshot};

use crate::control::redact::secrets_of;
use crate::control::state::ControlState;
use crate::events::Event;
use crate::exec::executor::RunningGraph;
use crate::graph::diff::GraphDiff;
use crate::graph::load::{GraphErrors, load_str};
use crate::graph::place::{PlaceError, check_replaceable, place};
use crate::graph::validate::validate;
use crate::node::registry::Registry;

/// Quiet time after the last write to the file before it is read, when the
/// writer has not closed it yet: a burst of writes is applied once.
pub const DEBOUNCE: Duration = Duration::from_millis(50);
/// Quiet time after the file was closed or renamed into place: events of the
/// same save still in flight are gathered, then the file is read at once.
const SETTLE: Duration = Duration::from_millis(2);

/// What a file event says about the graph file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    /// Written, maybe not completely yet.
    Partial,
    /// Closed after writing, or renamed into place: complete.
    Complete,
}

/// A graph applied to the running one.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reloaded {
    /// What changed.
    pub diff: GraphDiff,
    /// Time from receiving the text to the new nodes being started.
    #[serde(rename = "took_ms", serialize_with = "millis")]
    pub took: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1e3)
}

/// Why a new graph was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// It does not load or validate; the old graph keeps running.
    #[error(transparent)]
    Invalid(GraphErrors),
    /// It validates but this host cannot run its part (a node without a host).
    #[error(transparent)]
    Unplaceable(PlaceError),
    /// The graph is no longer running.
    #[error("the graph is not running any more")]
    Stopped,
}

struct Request {
    origin: String,
    text: String,
    reply: oneshot::Sender<Result<Reloaded, ReloadError>>,
}

/// Hands new graph text to the task that owns the running graph.
#[derive(Clone)]
pub struct Reloader {
    requests: mpsc::Sender<Request>,
}

impl Reloader {
    /// Loads, validates and applies `text`; `origin` names it in messages.
    pub async fn apply(&self, origin: &str, text: String) -> Result<Reloaded, ReloadError> {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            origin: origin.to_string(),
            text,
            reply,
        };
        self.requests.send(request).await.map_err(|_| ReloadError::Stopped)?;
        answer.await.map_err(|_| ReloadError::Stopped)?
    }
}

/// The task that owns a running graph and applies reloads to it one at a time.
pub struct GraphController {
    requests: mpsc::Receiver<Request>,
    running: RunningGraph,
    registry: Registry,
    control: ControlState,
    /// The host whose part of each graph is run; `None` runs the whole graph.
    host: Option<String>,
}

impl GraphController {
    /// A controller of `running`, and the handle that feeds it.
    pub fn new(running: RunningGraph, registry: Registry, control: ControlState) -> (GraphController, Reloader) {
        let (tx, rx) = mpsc::channel(8);
        control.set_graph(Some(running.graph()));
        let controller = GraphController {
            requests: rx,
            running,
            registry,
            control,
            host: None,
        };
        (controller, Reloader { requests: tx })
    }

    /// Runs `host`'s part of every new graph ([`place`]) instead of the whole graph.
    pub fn placing(mut self, host: Option<String>) -> GraphController {
        self.host = host;
        self
    }

    /// Applies reloads until every node has ended or `stop` completes; returns
    /// the running graph (to be stopped) and whether `stop` ended the loop.
    /// A reload in progress always finishes first.
    pub async fn run(mut self, stop: impl Future<Output = ()>) -> (RunningGraph, bool) {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => return (self.running, true),
                request = self.requests.recv() => match request {
                    Some(request) => self.handle(request).await,
                    None => {
                        tokio::select! {
                            () = &mut stop => return (self.running, true),
                            () = self.running.wait() => return (self.running, false),
                        }
                    }
                },
                () = self.running.wait() => return (self.running, false),
            }
        }
    }

    /// Applies one request and answers it.
    async fn handle(&mut self, request: Request) {
        let started = Instant::now();
        let checked = load_str(&request.origin, &request.text)
            .and_then(|loaded| {
                // Before anything runs or is reported: its nodes' first errors
                // and the diagnostics of an invalid graph may quote them.
                self.control.remember_secrets(secrets_of(&loaded.spec, &self.registry));
                validate(&loaded, &self.registry)
            })
            .map_err(ReloadError::Invalid)
            .and_then(|graph| match &self.host {
                Some(host) => check_replaceable(self.running.graph(), &graph)
                    .and_then(|()| place(&graph, host, &self.registry))
                    .map_err(ReloadError::Unplaceable),
                None => Ok(graph),
            });
        let result = match checked {
            Ok(graph) => {
                let diff = self.running.apply(graph).await;
                self.control.set_graph(Some(self.running.graph()));
                let took = started.elapsed();
                self.control.env.metrics.count_reload(true);
                self.control.env.events.publish(Event::GraphReloaded {
                    origin: request.origin.clone(),
                    diff: diff.clone(),
                    took_ms: took.as_secs_f64() * 1e3,
                });
                tracing::info!(
                    "graph reloaded from {} in {:.1} ms: {diff}",
                    request.origin,
                    took.as_secs_f64() * 1e3
                );
                Ok(Reloaded { diff, took })
            }
            Err(err) => {
                self.control.env.metrics.count_reload(false);
                if let ReloadError::Invalid(errors) = &err {
                    self.control.env.events.publish(Event::GraphRejected {
                        origin: request.origin.clone(),
                        errors: errors.diagnostics.iter().map(|d| d.to_report(&errors.origin)).collect(),
                    });
                    tracing::error!(
                        "new graph from {} rejected; the running graph is unchanged:\n{}",
                        request.origin,
                        self.control.scrub(errors.render(false).trim_end())
                    );
                }
                if let ReloadError::Unplaceable(why) = &err {
                    tracing::error!(
                        "new graph from {} rejected; the running graph is unchanged: {why}",
                        request.origin
                    );
                }
                Err(err)
            }
        };
        let _ = request.reply.send(result);
    }
}

/// Watches a graph file and applies it whenever it changes, editors that save
/// by writing a new file and renaming it over the old one included.
/// The watch ends when the returned guard is dropped.
pub fn watch_file(path: &Path, reloader: Reloader) -> Result<WatchGuard, notify::Error> {
    let path = std::path::absolute(path).map_err(notify::Error::io)?;
    let dir = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    let (tx, mut rx) = mpsc::unbounded_channel::<Change>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if !event.paths.iter().any(|p| p.file_name() == Some(name.as_os_str())) {
            return;
        }
        let change = match event.kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write)) | EventKind::Modify(ModifyKind::Name(_)) => {
                Change::Complete
            }
            EventKind::Create(_) | EventKind::Modify(_) => Change::Partial,
            _ => return,
        };
        let _ = tx.send(change);
    })?;
    // The directory, not the file: a rename-style save replaces the file's inode.
    watcher.watch(&dir, RecursiveMode::NonRecursive)?;
    let origin = path.display().to_string();
    let task = tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            // Gather the rest of the save: briefly once the file is complete,
            // longer while it is still being written.
            let mut complete = first == Change::Complete;
            loop {
                let quiet = if complete { SETTLE } else { DEBOUNCE };
                match tokio::time::timeout(quiet, rx.recv()).await {
                    Ok(Some(change)) => complete |= change == Change::Complete,
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            match tokio::fs::read_to_string(&path).await {
                Ok(text) => {
                    let _ = reloader.apply(&origin, text).await;
                }
                // Between an editor's delete and its write; the next event reloads.
                Err(err) => tracing::debug!("cannot read {origin} yet: {err}"),
            }
        }
    });
    Ok(WatchGuard {
        _watcher: Box::new(watcher),
        task,
    })
}

/// Keeps a file watch alive.
pub struct WatchGuard {
    _watcher: Box<dyn Watcher + Send>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        self.task.abort();
    }
}
