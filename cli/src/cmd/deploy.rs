//! `ooblex deploy GRAPH`: sends the file to every host of the graph over
//! zenoh and prints, host by host, what it applied or why it did not.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use ooblex_runtime::{DeployAnswer, Deployment, Transport, TransportConfig, deploy, load_str, reach_hosts, unix_ms};

/// How long to wait for every host of the graph to answer before deploying.
const HOSTS_TIMEOUT: Duration = Duration::from_secs(3);

/// Arguments of `ooblex deploy`.
#[derive(clap::Args)]
pub struct DeployArgs {
    /// The new version of the graph file.
    graph: PathBuf,
    /// The graph's token, which the hosts were started with; it signs the
    /// deployment and never travels itself.
    #[arg(long, env = "OOBLEX_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    token: String,
    /// Print the hosts' answers as JSON.
    #[arg(long)]
    json: bool,
}

/// Deploys; succeeds when every host applied its part.
pub fn run(args: DeployArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.graph)
        .with_context(|| format!("cannot read graph file `{}`", args.graph.display()))?;
    // The text checked here is the text signed and sent.
    let spec = match load_str(&args.graph.display().to_string(), &text) {
        Ok(loaded) => loaded.spec,
        Err(errors) => {
            eprint!("{}", errors.render(std::io::stderr().is_terminal()));
            return Ok(ExitCode::FAILURE);
        }
    };
    anyhow::ensure!(
        !spec.hosts.is_empty(),
        "`{}` names no hosts: `ooblex deploy` sends a graph to the hosts under its `hosts:`",
        args.graph.display()
    );
    let deployment = Deployment::sign(unix_ms(), text, &args.token);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let answers = runtime.block_on(async {
        let transport = Transport::new(TransportConfig::reaching(&spec));
        let session = transport.session().await?;
        // Deploy once every host answers, or once the ones that are up surely do.
        let hosts: Vec<String> = spec.hosts.keys().map(|h| h.to_string()).collect();
        reach_hosts(&session, spec.name.as_str(), &hosts, false, HOSTS_TIMEOUT).await;
        let answers = deploy(&session, spec.name.as_str(), &deployment).await;
        transport.close().await;
        anyhow::Ok(answers)
    })?;
    runtime.shutdown_timeout(Duration::from_secs(1));

    let down: Vec<&str> = spec
        .hosts
        .keys()
        .map(|h| h.as_str())
        .filter(|h| !answers.iter().any(|a| a.host == *h))
        .collect();
    if args.json {
        let shown = serde_json::json!({ "version": deployment.version, "answers": answers, "down": down });
        println!("{}", serde_json::to_string_pretty(&shown).expect("answers serialize"));
    } else {
        print_answers(deployment.version, &answers, &down);
    }
    let all_applied = down.is_empty() && answers.iter().all(|a| a.outcome == "applied");
    Ok(if all_applied {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_answers(version: u64, answers: &[DeployAnswer], down: &[&str]) {
    println!("deployment {version}:");
    for answer in answers {
        match &answer.applied {
            Some(applied) => {
                let diff = &applied["diff"];
                let list = |what: &str| {
                    let ids: Vec<&str> = diff[what]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v.as_str())
                        .collect();
                    if ids.is_empty() { "-".to_string() } else { ids.join(",") }
                };
                println!(
                    "  host {}: applied in {:.1} ms: added {} · removed {} · changed {} · unchanged {}",
                    answer.host,
                    applied["took_ms"].as_f64().unwrap_or_default(),
                    list("added"),
                    list("removed"),
                    list("changed"),
                    diff["unchanged"].as_array().map_or(0, Vec::len)
                );
            }
            None => {
                println!("  host {}: {}", answer.host, answer.outcome);
                for error in &answer.errors {
                    let place = match (error["line"].as_u64(), error["column"].as_u64()) {
                        (Some(line), Some(column)) => format!("{line}:{column}: "),
                        _ => String::new(),
                    };
                    let hint = error["hint"]
                        .as_str()
                        .map(|h| format!(" (hint: {h})"))
                        .unwrap_or_default();
                    println!("    {place}{}{hint}", error["message"].as_str().unwrap_or_default());
                }
            }
        }
    }
    for host in down {
        println!("  host {host}: down; it takes this version from a host that has it when it comes back");
    }
}
