//! Starts a validated graph — one hub per output port, one queue per input
//! port, one supervised task per node — applies a new graph to it while it
//! runs, touching only what changed, and stops it, draining queues.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::buffer::FrameAllocator;
use crate::events::EventBus;
use crate::exec::hub::Hub;
use crate::exec::queue::Queue;
use crate::exec::supervisor::{DEFAULT_MAX_RESTARTS, Exit, RestartRule, supervise};
use crate::graph::diff::GraphDiff;
use crate::graph::validate::{ResolvedInput, ResolvedNode, ValidatedGraph};
use crate::metrics::{MetricsRegistry, NodeMetrics, NodeState};
use crate::node::context::NodeContext;
use crate::node::shutdown::Shutdown;
use crate::streams::StreamRegistry;
#[cfg(feature = "hosts")]
use crate::transport::session::Transport;
#[cfg(feature = "hosts")]
use crate::transport::shm::ShmPool;

/// How long a node stopped by a reload gets to end before it is aborted.
const NODE_STOP_GRACE: Duration = Duration::from_secs(2);

/// What all nodes of a process share. The default one's `/metrics` report
/// its frame pool ([`MetricsRegistry::report_pool`]).
#[derive(Clone)]
pub struct RuntimeEnv {
    /// Frame memory.
    pub alloc: FrameAllocator,
    /// Counters of every node.
    pub metrics: MetricsRegistry,
    /// Streams served over HTTP.
    pub streams: StreamRegistry,
    /// Events for `/api/events`.
    pub events: EventBus,
    /// The zenoh session for links to other processes.
    #[cfg(feature = "hosts")]
    pub transport: Transport,
}

impl Default for RuntimeEnv {
    fn default() -> Self {
        let alloc = FrameAllocator::new();
        let metrics = MetricsRegistry::new();
        metrics.report_pool(&alloc);
        RuntimeEnv {
            alloc,
            metrics,
            streams: StreamRegistry::default(),
            events: EventBus::default(),
            #[cfg(feature = "hosts")]
            transport: Transport::default(),
        }
    }
}

/// An output port: `(node id, port name)`.
type PortKey = (String, String);

struct RunningNode {
    inputs: Vec<(ResolvedInput, Arc<Queue>)>,
    shutdown: Shutdown,
    is_source: bool,
    /// Cleared when the node is replaced by a reload: its output hubs then stay
    /// open for the new instance instead of ending downstream streams.
    finish_outputs: Arc<AtomicBool>,
    /// The supervisor; `None` once its exit was collected.
    task: Option<JoinHandle<Exit>>,
    metrics: Arc<NodeMetrics>,
}

/// A graph whose nodes are running.
pub struct RunningGraph {
    graph: ValidatedGraph,
    hubs: BTreeMap<PortKey, Arc<Hub>>,
    nodes: BTreeMap<String, RunningNode>,
    env: RuntimeEnv,
}

impl RunningGraph {
    /// Starts every node of `graph`. Must be called within a tokio runtime.
    pub fn start(graph: ValidatedGraph, env: &RuntimeEnv) -> RunningGraph {
        let mut running = RunningGraph {
            graph: graph.clone(),
            hubs: BTreeMap::new(),
            nodes: BTreeMap::new(),
            env: env.clone(),
        };
        running.create_hubs();
        // Consumers first: every queue is attached before the node feeding it
        // starts, so a fast source cannot send before anyone listens.
        for node in graph.nodes.iter().rev() {
            running.start_node(node);
        }
        for conversion in &graph.conversions {
            tracing::info!(graph = %graph.name, "{conversion}");
        }
        tracing::info!(graph = %graph.name, nodes = graph.nodes.len(), "graph started");
        running
    }

    /// The graph being run.
    pub fn graph(&self) -> &ValidatedGraph {
        &self.graph
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

    /// Replaces the running graph by `new`: removed nodes stop, changed nodes
    /// restart with their new settings, added nodes start, and queues are
    /// rewired. Unchanged nodes are never touched: their queues stay attached
    /// and their frames keep flowing.
    pub async fn apply(&mut self, new: ValidatedGraph) -> GraphDiff {
        let diff = GraphDiff::between(&self.graph, &new);
        for conversion in new.conversions.iter().filter(|c| diff.added.contains(&c.node)) {
            tracing::info!(graph = %new.name, "{conversion}");
        }
        for id in &diff.removed {
            self.stop_node(id, true).await;
        }
        for id in &diff.changed {
            self.stop_node(id, false).await;
        }
        self.graph = new;
        self.create_hubs();
        let restart: BTreeSet<&String> = diff.added.iter().chain(&diff.changed).collect();
        let graph = self.graph.clone();
        for node in graph.nodes.iter().rev().filter(|n| restart.contains(&n.id)) {
            self.start_node(node);
        }
        diff
    }

    /// Stops the graph: sources stop, queues drain, sinks finish their files.
    /// Nodes still running after `grace` are stopped and then aborted.
    pub async fn stop(mut self, grace: Duration) {
        // Sources stop; so do nodes waiting to restart, which would otherwise
        // hold their downstream open until their backoff ends.
        for node in self.nodes.values() {
            if node.is_source || node.metrics.state().0 == NodeState::Restarting {
                node.shutdown.trigger();
            }
        }
        let drained = tokio::time::timeout(grace, self.wait()).await.is_ok();
        if !drained {
            tracing::warn!(
                "some nodes did not drain within {} ms; stopping them",
                grace.as_millis()
            );
            for node in self.nodes.values() {
                node.shutdown.trigger();
                node.inputs.iter().for_each(|(_, q)| q.close());
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

    /// Makes sure every output port of the graph has a hub, keeping existing
    /// ones (their queues stay attached), and ends hubs of ports that are gone.
    fn create_hubs(&mut self) {
        let wanted: BTreeSet<PortKey> = self
            .graph
            .nodes
            .iter()
            .flat_map(|n| n.kind.outputs.iter().map(|p| (n.id.clone(), p.name.to_string())))
            .collect();
        self.hubs.retain(|key, hub| {
            let keep = wanted.contains(key);
            if !keep {
                hub.finish();
            }
            keep
        });
        for key in wanted {
            self.hubs.entry(key).or_insert_with(|| Arc::new(Hub::new()));
        }
    }

    /// Stops one node for a reload and detaches its input queues.
    async fn stop_node(&mut self, id: &str, finish_outputs: bool) {
        let Some(mut node) = self.nodes.remove(id) else { return };
        node.finish_outputs.store(finish_outputs, Ordering::SeqCst);
        node.shutdown.trigger();
        for (input, queue) in &node.inputs {
            if let Some(hub) = self.hubs.get(&(input.from.clone(), input.from_port.clone())) {
                hub.detach(queue);
            }
            queue.close();
        }
        if let Some(mut task) = node.task.take()
            && tokio::time::timeout(NODE_STOP_GRACE, &mut task).await.is_err()
        {
            task.abort();
            tracing::warn!(node = %id, "did not stop within {} ms; aborted", NODE_STOP_GRACE.as_millis());
        }
        self.env.metrics.remove(id);
    }

    /// Frame memory for node `id`: a node that feeds another process on this
    /// machine writes its frames in shared memory, which the other process
    /// reads in place.
    #[cfg(feature = "hosts")]
    fn alloc_for(&self, id: &str) -> FrameAllocator {
        let feeds_shared = self
            .graph
            .links
            .iter()
            .any(|link| link.sends && link.shared_memory && link.from == id);
        if feeds_shared {
            self.env.alloc.with_foreign(Arc::new(ShmPool::new(id)))
        } else {
            self.env.alloc.clone()
        }
    }

    /// Frame memory for node `id`: the process's heap pool, as no edge leaves
    /// a build without hosts.
    #[cfg(not(feature = "hosts"))]
    fn alloc_for(&self, _id: &str) -> FrameAllocator {
        self.env.alloc.clone()
    }

    fn start_node(&mut self, node: &ResolvedNode) {
        let alloc = self.alloc_for(&node.id);
        let env = &self.env;
        let metrics = Arc::new(NodeMetrics::new(&node.id, node.kind.name));
        env.metrics.insert(metrics.clone());
        let inputs: Vec<(ResolvedInput, Arc<Queue>)> = node
            .inputs
            .iter()
            .map(|input| {
                let queue = Arc::new(Queue::new(input.capacity, input.policy));
                self.hubs[&(input.from.clone(), input.from_port.clone())].attach(queue.clone());
                (input.clone(), queue)
            })
            .collect();
        let named_inputs: Vec<(String, Arc<Queue>)> = inputs
            .iter()
            .map(|(input, queue)| (input.port.clone(), queue.clone()))
            .collect();
        metrics.set_inputs(named_inputs.clone());
        let outputs: Vec<(String, Arc<Hub>)> = node
            .kind
            .outputs
            .iter()
            .map(|p| {
                let hub = self.hubs[&(node.id.clone(), p.name.to_string())].clone();
                if let Some(formats) = node.output_formats.get(p.name) {
                    hub.declare_formats(*formats);
                }
                (p.name.to_string(), hub)
            })
            .collect();
        let shutdown = Shutdown::new();
        let rule = RestartRule {
            policy: node.spec.restart,
            max_restarts: node.spec.max_restarts.unwrap_or(DEFAULT_MAX_RESTARTS),
        };
        let make_context = {
            let (id, named_inputs, outputs, shutdown, metrics, env) = (
                node.id.clone(),
                named_inputs.clone(),
                outputs.clone(),
                shutdown.clone(),
                metrics.clone(),
                env.clone(),
            );
            move || {
                with_links(
                    NodeContext::new(
                        &id,
                        named_inputs.clone(),
                        outputs.clone(),
                        alloc.clone(),
                        shutdown.clone(),
                        metrics.clone(),
                        env.streams.clone(),
                    ),
                    &env,
                )
            }
        };
        let finish_outputs = Arc::new(AtomicBool::new(true));
        let node_metrics = metrics.clone();
        let task = tokio::spawn({
            let (id, factory, shutdown, finish_outputs, events) = (
                node.id.clone(),
                node.factory.clone(),
                shutdown.clone(),
                finish_outputs.clone(),
                env.events.clone(),
            );
            let queues: Vec<Arc<Queue>> = named_inputs.iter().map(|(_, q)| q.clone()).collect();
            async move {
                let exit = supervise(id, factory, rule, shutdown, metrics, events, make_context).await;
                // Downstream sees the end of this node's streams (unless a reload
                // replaces the node), and upstream stops queueing frames nobody reads.
                if finish_outputs.load(Ordering::SeqCst) {
                    for (_, hub) in &outputs {
                        hub.finish();
                    }
                }
                for queue in &queues {
                    queue.close();
                }
                exit
            }
        });
        self.nodes.insert(
            node.id.clone(),
            RunningNode {
                inputs,
                shutdown,
                is_source: node.inputs.is_empty(),
                finish_outputs,
                task: Some(task),
                metrics: node_metrics,
            },
        );
    }
}

/// `context` with the process's links to other processes (its zenoh session).
#[cfg(feature = "hosts")]
fn with_links(context: NodeContext, env: &RuntimeEnv) -> NodeContext {
    context.with_transport(env.transport.clone())
}

/// `context` as it is: a build without hosts has no links to other processes.
#[cfg(not(feature = "hosts"))]
fn with_links(context: NodeContext, _env: &RuntimeEnv) -> NodeContext {
    context
}
