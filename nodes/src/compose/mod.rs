//! Compositors: nodes that combine several video inputs into one picture
//! (`side_by_side`, `mosaic`, `blend`) or draw onto one (`overlay`).
//!
//! Timing follows the first input: each of its frames makes one output frame,
//! with its timestamp, stream and metadata, from the latest frame seen so far
//! on each other input. A frame on another input is held until a newer one
//! arrives, so a slow or stalled input shows its last picture; an input that
//! has sent nothing yet shows black (see each kind for the details). Frames
//! are paired by arrival, not by stream id. The end of a stream on the first
//! input is passed on; on the others it changes nothing.
//!
//! Compositors write packed RGB: rgba when the first input is rgba, rgb24
//! otherwise; inputs in other raw formats are converted.

pub(crate) mod blend;
pub(crate) mod mosaic;
pub(crate) mod overlay;
pub(crate) mod picture;
pub(crate) mod side_by_side;

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use ooblex_runtime::{
    Frame, InputPort, InputPortSpec, MediaType, Node, NodeContext, NodeError, Packet, on_blocking_thread, skip_frame,
};

/// A raw video input of a compositor that the graph must connect.
pub(crate) const fn required_input(name: &'static str) -> InputPortSpec {
    InputPortSpec::new(name, &[MediaType::RawVideo], true)
}

/// A raw video input of a compositor that the graph may leave out.
pub(crate) const fn optional_input(name: &'static str) -> InputPortSpec {
    InputPortSpec::new(name, &[MediaType::RawVideo], false)
}

/// How a compositor makes one output frame.
pub(crate) trait Compose: Send + 'static {
    /// Called once before the first frame with whether each input after the
    /// first is connected, in port order.
    fn start(&mut self, _connected: &[bool]) {}

    /// The output for `main`, a frame of the first input, given the latest
    /// frame seen on each other input in port order (`None` before the first,
    /// or when the input is not connected). `Err(NodeError::Frame)` skips
    /// `main` and goes on.
    fn compose(&mut self, main: &Frame, others: &[Option<Frame>], ctx: &NodeContext) -> Result<Frame, NodeError>;
}

/// Runs `compose` as a node with inputs `ports` (the first drives timing)
/// on a blocking thread, off the async workers.
pub(crate) fn compositor_node(
    kind: &'static str,
    ports: &'static [InputPortSpec],
    compose: impl Compose,
) -> Box<dyn Node> {
    Box::new(CompositorNode { kind, ports, compose })
}

struct CompositorNode<C> {
    kind: &'static str,
    ports: &'static [InputPortSpec],
    compose: C,
}

impl<C: Compose> Node for CompositorNode<C> {
    fn run(self: Box<Self>, ctx: NodeContext) -> Pin<Box<dyn Future<Output = Result<(), NodeError>> + Send>> {
        on_blocking_thread(ctx, move |ctx| self.run_blocking(ctx))
    }
}

impl<C: Compose> CompositorNode<C> {
    fn run_blocking(mut self, ctx: &NodeContext) -> Result<(), NodeError> {
        let (first, rest) = self
            .ports
            .split_first()
            .expect("a compositor kind declares at least one input");
        let main = ctx
            .input(first.name)
            .ok_or_else(|| NodeError::failed(format!("`{}` needs its `{}` input connected", self.kind, first.name)))?;
        let out = ctx
            .first_output()
            .ok_or_else(|| NodeError::failed(format!("`{}` has no output port", self.kind)))?;
        let others: Vec<Option<InputPort>> = rest.iter().map(|port| ctx.input(port.name)).collect();
        let connected: Vec<bool> = others.iter().map(Option::is_some).collect();
        self.compose.start(&connected);
        let mut latest: Vec<Option<Frame>> = vec![None; others.len()];
        while let Some(packet) = main.blocking_recv() {
            let frame = match packet {
                Packet::Frame(frame) => frame,
                Packet::StreamEnd(stream) => {
                    out.end_stream(&stream);
                    continue;
                }
            };
            for (port, held) in others.iter().zip(&mut latest) {
                while let Some(packet) = port.as_ref().and_then(InputPort::try_recv) {
                    if let Packet::Frame(newer) = packet {
                        *held = Some(newer);
                    }
                }
            }
            let started = Instant::now();
            match self.compose.compose(&frame, &latest, ctx) {
                Ok(composed) => {
                    ctx.metrics.process_time.observe(started.elapsed());
                    out.blocking_send(composed);
                }
                Err(err @ NodeError::Frame(_)) => skip_frame(ctx, &err),
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use ooblex_runtime::testing::frame_from_fn;
    use ooblex_runtime::{FrameAllocator, Hub, NodeMetrics, PixelFormat, Queue, QueuePolicy, Shutdown, StreamRegistry};

    use super::*;

    /// Reports, as the output's seq, `main.seq * 100 + other.seq + 1` (0 for no frame yet).
    struct Echo;

    impl Compose for Echo {
        fn compose(&mut self, main: &Frame, others: &[Option<Frame>], _: &NodeContext) -> Result<Frame, NodeError> {
            if main.seq == 99 {
                return Err(NodeError::frame("bad"));
            }
            let mut out = main.clone();
            out.seq = main.seq * 100 + others[0].as_ref().map_or(0, |f| f.seq + 1);
            Ok(out)
        }
    }

    const PORTS: &[InputPortSpec] = &[required_input("a"), optional_input("b")];

    /// Closes a queue when dropped.
    struct CloseOnDrop(Arc<Queue>);

    impl Drop for CloseOnDrop {
        fn drop(&mut self) {
            self.0.close();
        }
    }

    fn frame(seq: u64) -> Frame {
        frame_from_fn(PixelFormat::Gray8, 2, 2, seq, |_, _, _| 0)
    }

    #[test]
    fn the_first_input_drives_and_other_inputs_are_held() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a test runtime");
        let (a, b) = (
            Arc::new(Queue::new(8, QueuePolicy::Block)),
            Arc::new(Queue::new(8, QueuePolicy::Block)),
        );
        // Dropped before the runtime, also when an assertion fails: the node
        // then ends instead of keeping the runtime's shutdown waiting for it.
        let _end_the_node = CloseOnDrop(a.clone());
        runtime.block_on(async {
            let (hub, collected) = (Arc::new(Hub::new()), Arc::new(Queue::new(64, QueuePolicy::Block)));
            hub.attach(collected.clone());
            let metrics = Arc::new(NodeMetrics::new("echo", "echo"));
            let ctx = NodeContext::new(
                "echo",
                vec![("b".to_string(), b.clone()), ("a".to_string(), a.clone())],
                vec![("video".to_string(), hub)],
                FrameAllocator::new(),
                Shutdown::new(),
                metrics.clone(),
                StreamRegistry::new(),
            );
            let node = tokio::spawn(compositor_node("echo", PORTS, Echo).run(ctx));
            let next = || async {
                tokio::time::timeout(Duration::from_secs(5), collected.pop())
                    .await
                    .expect("an output within 5 s")
                    .and_then(Packet::into_frame)
                    .expect("an output frame")
                    .seq
            };
            a.push(frame(1)).await;
            assert_eq!(next().await, 100, "nothing on `b` yet");
            b.push(frame(5)).await;
            b.push(frame(6)).await;
            a.push(frame(2)).await;
            assert_eq!(next().await, 207, "the newest `b` frame");
            a.push(frame(99)).await;
            a.push(frame(3)).await;
            assert_eq!(next().await, 307, "`b` is held; a bad frame is skipped");
            a.close();
            node.await.expect("the node task").expect("the node ends cleanly");
            assert_eq!(metrics.frame_errors.load(Ordering::Relaxed), 1);
            assert_eq!(metrics.frames_in.load(Ordering::Relaxed), 6);
            assert_eq!(metrics.process_time.count(), 3);
        });
    }

    #[test]
    fn a_missing_first_input_fails_naming_it() {
        let out = ooblex_runtime::testing::Harness::new(&crate::test_util::kind("blend"), serde_json::json!({}))
            .input("b", vec![frame(0)])
            .run();
        let err = out.result.expect_err("`a` is not connected").to_string();
        assert!(err.contains("`blend`") && err.contains("`a`"), "{err}");
    }
}
