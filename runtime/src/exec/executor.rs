//! Starts a validated graph: one hub per output port, one queue per input
//! port, one supervised task per node; and stops it, draining queues.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::buffer::FrameAllocator;
use crate::exec::hub::Hub;
use crate::exec::queue::Queue;
use crate::exec::supervisor::{DEFAULT_MAX_RESTARTS, Exit, RestartRule, supervise};
use crate::graph::validate::{ResolvedNode, ValidatedGraph};
use crate::metrics::{MetricsRegistry, NodeMetrics};
use crate::node::context::NodeContext;
use crate::node::shutdown::Shutdown;
use crate::streams::StreamRegistry;

/// What all nodes of a process share.
#[derive(Clone, Default)]
pub struct RuntimeEnv {
    /// Frame memory.
    pub alloc: FrameAllocator,
    /// Counters of every node.
    pub metrics: MetricsRegistry,
    /// Streams served over HTTP.
    pub streams: StreamRegistry,
}

struct RunningNode {
    inputs: Vec<Arc<Queue>>,
    shutdown: Shutdown,
    is_source: bool,
    /// The supervisor; `None` once its exit was collected.
    task: Option<JoinHandle<Exit>>,
}

/// A graph whose nodes are running.
pub struct RunningGraph {
    graph: ValidatedGraph,
    nodes: BTreeMap<String, RunningNode>,
    env: RuntimeEnv,
}

impl RunningGraph {
    /// Starts every node of `graph`. Must be called within a tokio runtime.
    pub fn start(graph: ValidatedGraph, env: &RuntimeEnv) -> RunningGraph {
        let hubs: BTreeMap<(String, String), Arc<Hub>> = graph
            .nodes
            .iter()
            .flat_map(|n| {
                n.kind
                    .outputs
                    .iter()
                    .map(move |p| ((n.id.clone(), p.name.to_string()), Arc::new(Hub::new())))
            })
            .collect();
        let mut nodes = BTreeMap::new();
        for node in &graph.nodes {
            let running = start_node(node, &hubs, env);
            nodes.insert(node.id.clone(), running);
        }
        tracing::info!(graph = %graph.name, nodes = graph.nodes.len(), "graph started");
        RunningGraph {
            graph,
            nodes,
            env: env.clone(),
        }
    }

    /// The graph being run.
    pub fn graph(&self) -> &ValidatedGraph {
        &self.graph
    }

    /// Whether every node has ended (all sources reached the end of their streams).
    pub fn is_done(&self) -> bool {
        self.nodes
            .values()
            .all(|n| n.task.as_ref().is_none_or(JoinHandle::is_finished))
    }

    /// Waits until every node has ended. Cancel-safe: it can be raced and called again.
    pub async fn wait(&mut self) {
        for node in self.nodes.values_mut() {
            if let Some(task) = &mut node.task {
                // The supervisor logged and recorded how the node ended.
                let _ = task.await;
                node.task = None;
            }
        }
    }

    /// Stops the graph: sources stop, queues drain, sinks finish their files.
    /// Nodes still running after `grace` are stopped and then aborted.
    pub async fn stop(mut self, grace: Duration) {
        for node in self.nodes.values().filter(|n| n.is_source) {
            node.shutdown.trigger();
        }
        let drained = tokio::time::timeout(grace, self.wait()).await.is_ok();
        if !drained {
            tracing::warn!(
                "some nodes did not drain within {} ms; stopping them",
                grace.as_millis()
            );
            for node in self.nodes.values() {
                node.shutdown.trigger();
                node.inputs.iter().for_each(|q| q.close());
            }
            if tokio::time::timeout(Duration::from_secs(1), self.wait()).await.is_err() {
                for task in self.nodes.values().filter_map(|n| n.task.as_ref()) {
                    task.abort();
                }
            }
        }
        for id in self.nodes.keys() {
            self.env.metrics.remove(id);
        }
        tracing::info!(graph = %self.graph.name, "graph stopped");
    }
}

fn start_node(node: &ResolvedNode, hubs: &BTreeMap<(String, String), Arc<Hub>>, env: &RuntimeEnv) -> RunningNode {
    let metrics = Arc::new(NodeMetrics::new(&node.id, node.kind.name));
    env.metrics.insert(metrics.clone());
    let inputs: Vec<(String, Arc<Queue>)> = node
        .inputs
        .iter()
        .map(|input| {
            let queue = Arc::new(Queue::new(input.capacity, input.policy));
            hubs[&(input.from.clone(), input.from_port.clone())].attach(queue.clone());
            (input.port.clone(), queue)
        })
        .collect();
    metrics.set_inputs(inputs.clone());
    let outputs: Vec<(String, Arc<Hub>)> = node
        .kind
        .outputs
        .iter()
        .map(|p| (p.name.to_string(), hubs[&(node.id.clone(), p.name.to_string())].clone()))
        .collect();
    let shutdown = Shutdown::new();
    let rule = RestartRule {
        policy: node.spec.restart,
        max_restarts: node.spec.max_restarts.unwrap_or(DEFAULT_MAX_RESTARTS),
    };
    let make_context = {
        let (id, inputs, outputs, shutdown, metrics, env) = (
            node.id.clone(),
            inputs.clone(),
            outputs.clone(),
            shutdown.clone(),
            metrics.clone(),
            env.clone(),
        );
        move || {
            NodeContext::new(
                &id,
                inputs.clone(),
                outputs.clone(),
                env.alloc.clone(),
                shutdown.clone(),
                metrics.clone(),
                env.streams.clone(),
            )
        }
    };
    let queues: Vec<Arc<Queue>> = inputs.iter().map(|(_, q)| q.clone()).collect();
    let task = tokio::spawn({
        let (id, factory, shutdown, queues) = (node.id.clone(), node.factory.clone(), shutdown.clone(), queues.clone());
        async move {
            let exit = supervise(id, factory, rule, shutdown, metrics, make_context).await;
            // Whatever the reason, downstream sees the end of this node's
            // streams, and upstream stops queueing frames nobody will read.
            for (_, hub) in &outputs {
                hub.finish();
            }
            for queue in &queues {
                queue.close();
            }
            exit
        }
    });
    RunningNode {
        inputs: queues,
        shutdown,
        is_source: node.inputs.is_empty(),
        task: Some(task),
    }
}
