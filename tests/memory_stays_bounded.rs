//! Memory stays bounded however long a stream runs: ffmpeg publishes 18,000
//! H.264 access units of many different sizes over RTMP, as fast as it can,
//! into `rtmp_source → null_sink`, and the process's resident memory at the
//! end is within a stated bound of what it was after warm-up.

mod support;

use std::time::Duration;

use support::{Server, finish_ffmpeg, free_port, scratch, start_ffmpeg, wait_for};

/// Access units published: ten minutes of 30 fps video.
const UNITS: u64 = 18_000;
/// Units after which the process counts as warmed up (threads started, the
/// RTMP session's buffers grown, the pool's first buffers of each size class made).
const WARM_UP: u64 = 1_000;
/// The frame pool keeps at most this many bytes of free buffers while the
/// graph holds few in flight (`FrameAllocator`'s floor, 32 MiB); here at most a
/// queue's worth of access units (tens of KiB each) is in flight, so the floor
/// is the budget.
const POOL_BUDGET: u64 = 32 << 20;
/// What the allocator may keep beyond what the pool holds: freed memory it
/// keeps in its arenas instead of handing back, the access unit being read.
const ALLOCATOR_SLACK: u64 = 16 << 20;

/// The process's resident memory, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process is running");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("/proc/<pid>/status has VmRSS");
    kib * 1024
}

/// A gauge without labels from `/metrics`.
fn gauge(server: &Server, name: &str) -> Option<u64> {
    let text = server.get("/metrics").expect("metrics answer");
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn publishing_many_access_unit_sizes_keeps_memory_bounded() {
    let dir = scratch("memory");
    let rtmp = free_port();
    let graph = dir.join("graph.yaml");
    std::fs::write(
        &graph,
        format!(
            r#"version: 1
name: rtmp-memory
nodes:
  obs:
    kind: rtmp_source
    params: {{ listen: "127.0.0.1:{rtmp}", app: live, key: secret }}
  sink:
    kind: null_sink
    inputs: {{ video: obs }}
"#
        ),
    )
    .expect("the graph is written");
    let server = Server::start(graph.to_str().expect("utf-8 path"), &["--no-status"]);
    let pid = server.child.id();
    let idle = rss(pid);
    // No `-re`: as fast as x264 goes. An average bitrate (not CBR padding)
    // makes nearly every access unit a size of its own.
    let mut args: Vec<String> = "-f lavfi -i testsrc2=size=640x360:rate=30 \
         -c:v libx264 -preset ultrafast -tune zerolatency \
         -b:v 8M -maxrate 8M -bufsize 8M -g 60 -pix_fmt yuv420p -f flv"
        .split_whitespace()
        .map(String::from)
        .collect();
    args.extend([
        "-frames:v".to_string(),
        UNITS.to_string(),
        format!("rtmp://127.0.0.1:{rtmp}/live/secret"),
    ]);
    let ffmpeg = start_ffmpeg(&args);
    let published = |server: &Server| server.metric("ooblex_node_frames_out_total", "obs").unwrap_or(0);
    assert!(
        wait_for(Duration::from_secs(60), || published(&server) >= WARM_UP),
        "the publisher did not get going: {} units",
        published(&server)
    );
    let warm = rss(pid);

    let (status, err) = finish_ffmpeg(ffmpeg, Duration::from_secs(300));
    assert!(status.success(), "ffmpeg failed: {err}");
    assert!(
        wait_for(Duration::from_secs(10), || published(&server) >= UNITS),
        "only {} of {UNITS} units came through",
        published(&server)
    );
    let end = rss(pid);
    let growth = end.saturating_sub(warm);
    let mib = |bytes: u64| bytes as f64 / f64::from(1 << 20);
    eprintln!(
        "RSS before publishing: {:.1} MiB; after {WARM_UP} units: {:.1} MiB; after {UNITS}: {:.1} MiB",
        mib(idle),
        mib(warm),
        mib(end)
    );
    assert!(
        growth <= POOL_BUDGET + ALLOCATOR_SLACK,
        "resident memory grew by {:.1} MiB over {UNITS} access units (from {:.1} to {:.1} MiB); \
         the bound is the pool's budget plus allocator slack, {} MiB",
        mib(growth),
        mib(warm),
        mib(end),
        (POOL_BUDGET + ALLOCATOR_SLACK) >> 20
    );
    let free = gauge(&server, "ooblex_pool_free_bytes").expect("/metrics reports the pool's free bytes");
    assert!(free <= POOL_BUDGET, "the pool holds {free} free bytes");
    assert!(
        gauge(&server, "ooblex_pool_in_use_bytes").is_some(),
        "/metrics reports the bytes handed out"
    );
}
