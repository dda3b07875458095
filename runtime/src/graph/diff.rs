//! What changed between two graphs, node by node.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::graph::validate::ValidatedGraph;

/// The node ids of a new graph sorted by what happened to them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GraphDiff {
    /// In the new graph only: started.
    pub added: Vec<String>,
    /// In the old graph only: stopped.
    pub removed: Vec<String>,
    /// In both with a different kind, params, inputs, host or restart policy: restarted.
    pub changed: Vec<String>,
    /// In both and the same: never touched.
    pub unchanged: Vec<String>,
}

impl GraphDiff {
    /// Compares by node id. A node is unchanged when everything written for it is
    /// the same (kind, params, inputs, host, restart policy).
    pub fn between(old: &ValidatedGraph, new: &ValidatedGraph) -> GraphDiff {
        let old_ids: BTreeSet<&str> = old.nodes.iter().map(|n| n.id.as_str()).collect();
        let new_ids: BTreeSet<&str> = new.nodes.iter().map(|n| n.id.as_str()).collect();
        let mut diff = GraphDiff {
            added: new_ids.difference(&old_ids).map(|s| s.to_string()).collect(),
            removed: old_ids.difference(&new_ids).map(|s| s.to_string()).collect(),
            ..GraphDiff::default()
        };
        for id in old_ids.intersection(&new_ids) {
            let (before, after) = (old.node(id), new.node(id));
            let same = before
                .zip(after)
                .is_some_and(|(b, a)| b.spec == a.spec && b.inputs == a.inputs);
            if same {
                diff.unchanged.push(id.to_string());
            } else {
                diff.changed.push(id.to_string());
            }
        }
        diff
    }

    /// Whether nothing is added, removed or changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

impl std::fmt::Display for GraphDiff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |ids: &[String]| if ids.is_empty() { "-".to_string() } else { ids.join(",") };
        write!(
            f,
            "added {} · removed {} · changed {} · unchanged {}",
            list(&self.added),
            list(&self.removed),
            list(&self.changed),
            self.unchanged.len()
        )
    }
}
