//! The live status line: frames per second and drops of every node, once a second.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use ooblex_runtime::{MetricsRegistry, NodeSnapshot, NodeState};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How often the line is redrawn on a terminal.
const TERMINAL_PERIOD: Duration = Duration::from_secs(1);
/// How often a line is printed when stderr is not a terminal (logs).
const LOG_PERIOD: Duration = Duration::from_secs(10);

/// A running status line; stop it before printing anything else.
pub struct StatusLine {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl StatusLine {
    /// Starts redrawing the line from `metrics`.
    pub fn start(metrics: MetricsRegistry, page: String) -> StatusLine {
        let (stop, mut stopped) = oneshot::channel();
        let terminal = std::io::stderr().is_terminal();
        let period = if terminal { TERMINAL_PERIOD } else { LOG_PERIOD };
        let task = tokio::spawn(async move {
            let mut previous: HashMap<String, u64> = metrics
                .snapshots()
                .into_iter()
                .map(|n| (n.node, n.frames_out))
                .collect();
            let mut last = Instant::now();
            let mut ticker = tokio::time::interval(period);
            ticker.tick().await;
            loop {
                tokio::select! {
                    _ = ticker.tick() => {}
                    _ = &mut stopped => break,
                }
                let elapsed = last.elapsed().as_secs_f64();
                last = Instant::now();
                let snapshots = metrics.snapshots();
                let line = render(&snapshots, &mut previous, elapsed, &page);
                let mut err = std::io::stderr().lock();
                if terminal {
                    let _ = write!(err, "\r\x1b[2K{line}");
                } else {
                    let _ = writeln!(err, "status: {line}");
                }
                let _ = err.flush();
            }
            if terminal {
                let _ = write!(std::io::stderr(), "\r\x1b[2K");
            }
        });
        StatusLine { stop, task }
    }

    /// Stops and clears the line.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// `cam 30.0 fps · blur 29.9 fps 2 drops · view FAILED | http://...`
fn render(nodes: &[NodeSnapshot], previous: &mut HashMap<String, u64>, elapsed: f64, page: &str) -> String {
    let parts: Vec<String> = nodes
        .iter()
        .map(|n| {
            let before = previous.insert(n.node.clone(), n.frames_out).unwrap_or(n.frames_out);
            let fps = (n.frames_out.saturating_sub(before)) as f64 / elapsed.max(1e-3);
            let mut part = format!("{} {fps:.1} fps", n.node);
            if n.drops > 0 {
                part.push_str(&format!(" {} drops", n.drops));
            }
            match n.state {
                NodeState::Running | NodeState::Starting => {}
                NodeState::Restarting => part.push_str(&format!(" RESTARTING ({})", n.restarts)),
                NodeState::Failed => part.push_str(" FAILED"),
                NodeState::Finished => part.push_str(" done"),
                NodeState::Stopped => part.push_str(" stopped"),
            }
            part
        })
        .collect();
    format!("{} | {page}", parts.join(" · "))
}
