//! The README says what is so: its kind table lists every node kind and no
//! other, and its `/api/events` line names every node state as events spell it.

mod support;

use std::collections::BTreeSet;

use ooblex_runtime::NodeState;

fn readme() -> String {
    std::fs::read_to_string(support::repo_root().join("README.md")).expect("the README is readable")
}

/// The README's section under `## {heading}`, up to the next section.
fn section(readme: &str, heading: &str) -> String {
    let start = readme
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("the README has a `{heading}` section"));
    let body = &readme[start + heading.len() + 5..];
    body[..body.find("\n## ").unwrap_or(body.len())].to_string()
}

/// The names in backticks in `text`.
fn backticked(text: &str) -> impl Iterator<Item = &str> {
    text.split('`').skip(1).step_by(2)
}

#[test]
fn the_kind_table_lists_every_kind_and_no_other() {
    let readme = readme();
    let table = section(&readme, "Node kinds");
    let listed: BTreeSet<&str> = table
        .lines()
        .filter_map(|row| row.strip_prefix('|')?.split('|').next())
        .flat_map(backticked)
        .collect();
    let registry = ooblex_nodes::registry();
    let kinds: BTreeSet<&str> = registry
        .kinds()
        .map(|kind| kind.name)
        .chain(registry.unbuilt_kinds())
        .collect();
    let missing: Vec<_> = kinds.difference(&listed).collect();
    let unknown: Vec<_> = listed.difference(&kinds).collect();
    assert!(missing.is_empty(), "kinds the README's table lacks: {missing:?}");
    assert!(
        unknown.is_empty(),
        "kinds in the README's table that do not exist: {unknown:?}"
    );
}

#[test]
fn the_events_line_names_every_node_state() {
    use NodeState::*;
    let states = [Starting, Running, Restarting, Failed, Finished, Stopped];
    // Fails to compile when a state is added, so that it is added here too.
    for state in states {
        match state {
            Starting | Running | Restarting | Failed | Finished | Stopped => {}
        }
    }
    let readme = readme();
    let line = readme
        .lines()
        .find(|line| line.starts_with("| `/api/events`"))
        .expect("the README's HTTP table has `/api/events`");
    let named: BTreeSet<&str> = backticked(line).collect();
    for state in states {
        let name = serde_json::to_value(state).expect("a state serializes");
        let name = name.as_str().expect("a state is a string");
        assert!(
            named.contains(name),
            "`{name}` in the README's `/api/events` line: {line}"
        );
    }
}
