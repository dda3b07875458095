//! `ooblex run GRAPH`: start the graph and the control plane, show a live
//! status line, stop cleanly on Ctrl-C or SIGTERM.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use ooblex_runtime::{
    Access, AllowedHost, AllowedOrigin, ControlState, GraphController, RunningGraph, ServeError, bind, router,
    watch_file,
};

use super::host_part;
use crate::status_line::StatusLine;

/// How long nodes get to drain their queues on stop.
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// Arguments of `ooblex run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The graph file.
    graph: PathBuf,
    /// Address of the HTTP control plane (streams, metrics, API).
    #[arg(long, default_value = "127.0.0.1:8800", value_name = "ADDR")]
    listen: SocketAddr,
    /// Bearer token required by state-changing requests; needed to listen beyond loopback.
    #[arg(long, env = "OOBLEX_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Another name the control plane answers to (`NAME` on any port, or
    /// `NAME:PORT`), besides its address and `localhost`; repeatable.
    #[arg(
        long = "allow-host",
        env = "OOBLEX_ALLOW_HOST",
        value_delimiter = ',',
        value_name = "NAME"
    )]
    allow_host: Vec<AllowedHost>,
    /// A web origin whose pages may change state, open the events and read
    /// streams (`https://studio.example.com`); repeatable.
    #[arg(
        long = "allow-origin",
        env = "OOBLEX_ALLOW_ORIGIN",
        value_delimiter = ',',
        value_name = "ORIGIN"
    )]
    allow_origin: Vec<AllowedOrigin>,
    /// Run only the nodes the graph places on this host (one of its `hosts:`);
    /// edges to nodes of other hosts go over zenoh. Without it, a graph with
    /// hosts runs wholly in this process.
    #[arg(long, value_name = "NAME")]
    host: Option<String>,
    /// Do not print the live status line.
    #[arg(long)]
    no_status: bool,
    /// Do not apply edits of the graph file while running.
    #[arg(long)]
    no_watch: bool,
}

/// Runs the graph until it ends or the process is told to stop.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let Some(graph) = super::load_and_validate(&args.graph)? else {
        return Ok(ExitCode::FAILURE);
    };
    let graph = match &args.host {
        Some(host) => host_part::place_part(&graph, host)?,
        None => graph,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("ooblex-worker")
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(run_graph(graph, args));
    // Threads still blocked (a sink writing into a stalled pipe) do not keep the process alive.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("OOBLEX_LOG")
        // zenoh's own start-up chatter (its id, its addresses, a peer not up
        // yet) says nothing the lines of the session and its links do not;
        // ONNX Runtime's info lines (every graph transformer, every arena
        // allocation) were 368 lines for one graph with two models.
        .unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(
                "info,zenoh=warn,zenoh::net::runtime::orchestrator=error,ort::logging=warn",
            )
        });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

async fn run_graph(graph: ooblex_runtime::ValidatedGraph, args: RunArgs) -> anyhow::Result<ExitCode> {
    let listener = match bind(args.listen, args.token.as_deref()).await {
        Ok(listener) => listener,
        Err(err @ ServeError::AddrInUse { .. }) => {
            anyhow::bail!("{err}\nhelp: another process uses this port; choose another with `--listen 127.0.0.1:PORT`")
        }
        Err(err @ ServeError::TokenRequired { .. }) => {
            anyhow::bail!("{err}\nhelp: set a token with `--token SECRET` (or OOBLEX_TOKEN), or listen on 127.0.0.1")
        }
        Err(err) => return Err(err.into()),
    };
    let address = listener.local_addr().context("the bound socket has an address")?;
    let env = host_part::env(&graph, args.host.as_deref());
    let presence = match &args.host {
        Some(host) => Some(host_part::announce_host(&env, &graph, host).await?),
        None => None,
    };
    let access = Access::new(address, args.token.clone())
        .with_hosts(args.allow_host.iter().cloned())
        .with_origins(args.allow_origin.iter().cloned());
    let control = ControlState::new(env.clone(), access);
    let server = tokio::spawn({
        let control = control.clone();
        async move {
            if let Err(err) = axum::serve(listener, router(control)).await {
                tracing::error!("control plane stopped: {err}");
            }
        }
    });

    let page = format!("http://{address}/");
    let part = match &graph.host {
        Some(host) => format!(" on host `{host}`"),
        None => String::new(),
    };
    eprintln!(
        "ooblex: running graph `{}`{part} ({} nodes) — open {page}",
        graph.name,
        graph.nodes.len()
    );
    if graph.host.is_none() && !graph.spec.hosts.is_empty() {
        let hosts: Vec<&str> = graph.spec.hosts.keys().map(|h| h.as_str()).collect();
        tracing::info!(
            "the graph names hosts ({}); without `--host NAME` this process runs all of them",
            hosts.join(", ")
        );
    }
    for link in &graph.links {
        tracing::info!("link: {link}");
    }
    let graph_name = graph.name.clone();
    let running = RunningGraph::start(graph, &env);
    let (controller, reloader) = GraphController::new(running, ooblex_nodes::registry(), control.clone());
    let controller = controller.placing(args.host.clone());
    let _deployments = match &args.host {
        Some(host) => {
            Some(host_part::take_deployments(&env, &graph_name, host, args.token.clone(), reloader.clone()).await?)
        }
        None => None,
    };
    let _ = control.reloader.set(reloader.clone());
    let _watch = if args.no_watch {
        None
    } else {
        let guard = watch_file(&args.graph, reloader).with_context(|| {
            format!(
                "cannot watch `{}` for edits (run with --no-watch)",
                args.graph.display()
            )
        })?;
        tracing::info!("watching {} for edits", args.graph.display());
        Some(guard)
    };
    let status = (!args.no_status).then(|| StatusLine::start(env.metrics.clone(), page));

    let stop = async {
        let signal = stop_signal().await;
        eprintln!();
        tracing::info!("{signal}: stopping (sources stop, queues drain); signal again to exit at once");
        tokio::spawn(async {
            let signal = stop_signal().await;
            eprintln!("ooblex: {signal} again: exiting without draining");
            std::process::exit(130);
        });
    };
    let (running, stopped_by_signal) = controller.run(stop).await;
    if let Some(status) = status {
        status.stop().await;
    }
    let failed = env
        .metrics
        .snapshots()
        .iter()
        .any(|n| n.state == ooblex_runtime::NodeState::Failed);
    running.stop(DRAIN_GRACE).await;
    drop(presence);
    host_part::close(&env).await;
    server.abort();
    if !stopped_by_signal {
        tracing::info!("every node has ended");
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Waits for Ctrl-C or SIGTERM and names which one came.
async fn stop_signal() -> &'static str {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler only fails outside a runtime");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "interrupted",
        _ = terminate.recv() => "terminated",
    }
}
