//! Drawing a graph as Graphviz dot or Mermaid text.

use std::fmt::Write as _;

use crate::graph::validate::ValidatedGraph;

/// A drawing format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrawFormat {
    /// Graphviz `dot`.
    Dot,
    /// Mermaid `flowchart`.
    Mermaid,
}

/// The graph as text in `format`: one box per node (id and kind), one arrow per
/// edge labelled with the ports and media type.
pub fn draw(graph: &ValidatedGraph, format: DrawFormat) -> String {
    let mut out = String::new();
    match format {
        DrawFormat::Dot => {
            let _ = writeln!(out, "digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box];", graph.name);
            for node in &graph.nodes {
                let _ = writeln!(out, "  \"{}\" [label=\"{}\\n{}\"];", node.id, node.id, node.kind.name);
            }
            for node in &graph.nodes {
                for input in &node.inputs {
                    let _ = writeln!(
                        out,
                        "  \"{}\" -> \"{}\" [label=\"{} → {}\\n{}\"];",
                        input.from, node.id, input.from_port, input.port, input.media
                    );
                }
            }
            out.push_str("}\n");
        }
        DrawFormat::Mermaid => {
            out.push_str("flowchart LR\n");
            for node in &graph.nodes {
                let _ = writeln!(
                    out,
                    "  {}[\"{}<br/><small>{}</small>\"]",
                    node.id, node.id, node.kind.name
                );
            }
            for node in &graph.nodes {
                for input in &node.inputs {
                    let _ = writeln!(
                        out,
                        "  {} -->|\"{} → {} ({})\"| {}",
                        input.from, input.from_port, input.port, input.media, node.id
                    );
                }
            }
        }
    }
    out
}
