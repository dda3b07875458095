//! Helpers shared by the unit tests of the node kinds.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use ooblex_runtime::testing::Harness;
use ooblex_runtime::{Frame, KindInfo};

/// The registered kind `name`.
pub(crate) fn kind(name: &str) -> KindInfo {
    crate::registry()
        .get(name)
        .unwrap_or_else(|| panic!("`{name}` is registered"))
        .clone()
}

/// Runs transform `name` with `params` over `frames` (into port `video`) and
/// returns what it sent, checking that it ended cleanly.
pub(crate) fn run_transform(name: &str, params: serde_json::Value, frames: Vec<Frame>) -> Vec<Frame> {
    let out = Harness::new(&kind(name), params).input("video", frames).run();
    out.result
        .as_ref()
        .unwrap_or_else(|err| panic!("`{name}` failed: {err}"));
    out.video().to_vec()
}

/// A path in the temp directory no other test uses.
pub(crate) fn temp_path(name: &str) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("ooblex-nodes-{}-{n}-{name}", std::process::id()))
}
