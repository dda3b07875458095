//! `ooblex`: run, check, inspect and bench real-time video graphs.

mod cmd;
mod status_line;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Real-time AI video graphs: describe a pipeline in YAML, run it live.
#[derive(Parser)]
#[command(name = "ooblex", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a graph until Ctrl-C (or until every source has ended).
    Run(cmd::run::RunArgs),
    /// Check graph files and print every problem, with file:line:column.
    Validate {
        /// Graph files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the JSON Schema of graph files (params of every node kind included).
    Schema {
        /// Instead of printing, fail when this committed schema file is stale.
        #[arg(long, value_name = "FILE")]
        check: Option<PathBuf>,
    },
    /// List node kinds, or show one kind's ports and params.
    Nodes {
        /// A node kind to describe.
        kind: Option<String>,
    },
    /// Send a new version of a graph to every host, which applies its part as a hot reload.
    #[cfg(feature = "hosts")]
    Deploy(cmd::deploy::DeployArgs),
    /// Show each host of a graph (up, down, since when) and its nodes.
    #[cfg(feature = "hosts")]
    Status(cmd::status::StatusArgs),
    /// `deploy` and `status` in a build without hosts: they say how to get them.
    #[cfg(not(feature = "hosts"))]
    #[command(name = "deploy", alias = "status", hide = true)]
    WithoutHosts {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        _args: Vec<String>,
    },
    /// Measure a graph's throughput and the cost of each node, headless.
    Bench(cmd::bench::BenchArgs),
    /// List, check or download the models effects run (`models/*.yaml`).
    #[command(subcommand)]
    Models(cmd::models::ModelsCommand),
    /// Draw a graph as Graphviz dot or Mermaid.
    Graph {
        /// The graph file.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Mermaid)]
        format: Format,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Dot,
    Mermaid,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => cmd::run::run(args),
        Command::Bench(args) => cmd::bench::run(args),
        #[cfg(feature = "hosts")]
        Command::Status(args) => cmd::status::run(args),
        #[cfg(feature = "hosts")]
        Command::Deploy(args) => cmd::deploy::run(args),
        #[cfg(not(feature = "hosts"))]
        Command::WithoutHosts { .. } => Err(anyhow::anyhow!(
            "this ooblex was built without the `hosts` feature, which `deploy` and `status` need\n\
             help: rebuild with `cargo build --release --features hosts`"
        )),
        Command::Models(command) => cmd::models::run(command),
        Command::Validate { files } => cmd::validate::run(&files),
        Command::Schema { check } => cmd::schema::run(check.as_deref()),
        Command::Nodes { kind } => cmd::nodes::run(kind.as_deref()),
        Command::Graph { file, format } => cmd::graph::run(
            &file,
            match format {
                Format::Dot => ooblex_runtime::DrawFormat::Dot,
                Format::Mermaid => ooblex_runtime::DrawFormat::Mermaid,
            },
        ),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
