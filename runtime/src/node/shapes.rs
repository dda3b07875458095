//! The three node shapes most kinds fit — [`Source`], [`Transform`], [`Sink`] —
//! and adapters that run them as a [`Node`] on a blocking thread, off the
//! async workers.
//!
//! Kinds that need async I/O (network servers and clients) implement [`Node`]
//! directly instead.

use std::time::Instant;

use futures::FutureExt;
use futures::future::BoxFuture;
use std::sync::atomic::Ordering;

use tokio::sync::mpsc;

use crate::frame::{Frame, StreamId};
use crate::node::context::{InputPort, NodeContext};
use crate::node::error::NodeError;
use crate::node::kind::Node;
use crate::packet::Packet;

/// Produces frames, one call at a time, on a blocking thread.
pub trait Source: Send + 'static {
    /// The next frame, or `None` at the end of the stream. A live source paces
    /// itself with `ctx.shutdown.sleep_until(...)`, which returns early on stop.
    fn next_frame(&mut self, ctx: &NodeContext) -> Result<Option<Frame>, NodeError>;
}

/// Turns each input frame into zero or one output frame, on a blocking thread.
pub trait Transform: Send + 'static {
    /// Processes one frame. `Err(NodeError::Frame)` skips the frame and goes on.
    fn process(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError>;

    /// Called when `stream` ended (its publisher left): the frames still held
    /// back for it, to send before the word goes on. Drop the stream's state
    /// here; should it start again, it starts afresh.
    fn end_stream(&mut self, _stream: &StreamId, _ctx: &NodeContext) -> Result<Vec<Frame>, NodeError> {
        Ok(Vec::new())
    }

    /// Called once when the input ends: the frames still held back (a
    /// decoder's reordered pictures), to send before the node finishes.
    fn flush(&mut self, _ctx: &NodeContext) -> Result<Vec<Frame>, NodeError> {
        Ok(Vec::new())
    }

    /// Called after each `process`: frames it made beyond the one it returned
    /// (a decoder that gave two pictures for one access unit), sent right after.
    fn ready(&mut self) -> Vec<Frame> {
        Vec::new()
    }
}

/// Consumes frames, on a blocking thread.
pub trait Sink: Send + 'static {
    /// Called once before the first frame, with the node's context: announce
    /// streams, open files.
    fn start(&mut self, _ctx: &NodeContext) -> Result<(), NodeError> {
        Ok(())
    }

    /// Consumes one frame. `Err(NodeError::Frame)` skips the frame and goes on.
    fn consume(&mut self, frame: Frame, ctx: &NodeContext) -> Result<(), NodeError>;

    /// Consumes one frame of `port`, an input other than the main one, for
    /// sinks run by [`sink_node_with_inputs`] (a muxer's `audio`). The ends of
    /// streams on those inputs are not passed on: the main input's end is.
    fn consume_other(&mut self, _port: &str, _frame: Frame, _ctx: &NodeContext) -> Result<(), NodeError> {
        Ok(())
    }

    /// Called when `stream` ended (its publisher left): write out what is held
    /// for it (a last segment). The stream may start again later.
    fn end_stream(&mut self, _stream: &StreamId, _ctx: &NodeContext) -> Result<(), NodeError> {
        Ok(())
    }

    /// Called once at the end of the stream or on stop: flush and close files.
    fn finish(&mut self, _ctx: &NodeContext) -> Result<(), NodeError> {
        Ok(())
    }
}

/// Runs `body` on a blocking thread; a panic there becomes [`NodeError::Panicked`].
/// Kinds that implement [`Node`] themselves use it for their frame loop.
pub fn on_blocking_thread(
    ctx: NodeContext,
    body: impl FnOnce(&NodeContext) -> Result<(), NodeError> + Send + 'static,
) -> BoxFuture<'static, Result<(), NodeError>> {
    tokio::task::spawn_blocking(move || body(&ctx))
        .map(|joined| match joined {
            Ok(result) => result,
            Err(err) if err.is_panic() => Err(NodeError::from_panic(&*err.into_panic())),
            Err(err) => Err(NodeError::failed(err)),
        })
        .boxed()
}

/// Counts a frame skipped after `err` (a [`NodeError::Frame`]) and logs the first few of a run.
pub fn skip_frame(ctx: &NodeContext, err: &NodeError) {
    let errors = ctx.metrics.frame_errors.fetch_add(1, Ordering::Relaxed);
    if errors < 5 || errors.is_power_of_two() {
        tracing::warn!(node = %ctx.id, "{err} (frame skipped; {} so far)", errors + 1);
    }
}

struct SourceNode<S>(S);

impl<S: Source> Node for SourceNode<S> {
    fn run(self: Box<Self>, ctx: NodeContext) -> BoxFuture<'static, Result<(), NodeError>> {
        let mut source = self.0;
        on_blocking_thread(ctx, move |ctx| {
            let out = ctx
                .first_output()
                .ok_or_else(|| NodeError::failed("a source needs an output port"))?;
            while !ctx.shutdown.is_triggered() {
                match source.next_frame(ctx) {
                    Ok(Some(frame)) => out.blocking_send(frame),
                    Ok(None) => break,
                    Err(err @ NodeError::Frame(_)) => skip_frame(ctx, &err),
                    Err(err) => return Err(err),
                }
            }
            Ok(())
        })
    }
}

struct TransformNode<T>(T);

impl<T: Transform> Node for TransformNode<T> {
    fn run(self: Box<Self>, ctx: NodeContext) -> BoxFuture<'static, Result<(), NodeError>> {
        let mut transform = self.0;
        on_blocking_thread(ctx, move |ctx| {
            let (Some(input), Some(out)) = (ctx.first_input(), ctx.first_output()) else {
                return Err(NodeError::failed("a transform needs an input and an output port"));
            };
            while let Some(packet) = input.blocking_recv() {
                let frame = match packet {
                    Packet::Frame(frame) => frame,
                    Packet::StreamEnd(stream) => {
                        let held = skip_on_frame_error(transform.end_stream(&stream, ctx), ctx)?;
                        held.into_iter().flatten().for_each(|frame| out.blocking_send(frame));
                        out.end_stream(&stream);
                        continue;
                    }
                };
                let started = Instant::now();
                match transform.process(frame, ctx) {
                    Ok(Some(frame)) => {
                        ctx.metrics.process_time.observe(started.elapsed());
                        out.blocking_send(frame);
                    }
                    Ok(None) => ctx.metrics.process_time.observe(started.elapsed()),
                    Err(err @ NodeError::Frame(_)) => skip_frame(ctx, &err),
                    Err(err) => return Err(err),
                }
                transform.ready().into_iter().for_each(|frame| out.blocking_send(frame));
            }
            for frame in transform.flush(ctx)? {
                out.blocking_send(frame);
            }
            Ok(())
        })
    }
}

/// `Some` of what `result` holds; `None` after a [`NodeError::Frame`], which is
/// counted and logged as a skipped frame; any other error is passed on.
fn skip_on_frame_error<T>(result: Result<T, NodeError>, ctx: &NodeContext) -> Result<Option<T>, NodeError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(err @ NodeError::Frame(_)) => {
            skip_frame(ctx, &err);
            Ok(None)
        }
        Err(err) => Err(err),
    }
}

struct SinkNode<S> {
    sink: S,
    /// The input that drives the sink; `None` for its only input.
    main: Option<&'static str>,
}

impl<S: Sink> Node for SinkNode<S> {
    fn run(self: Box<Self>, ctx: NodeContext) -> BoxFuture<'static, Result<(), NodeError>> {
        let SinkNode { mut sink, main } = *self;
        on_blocking_thread(ctx, move |ctx| {
            let mut inputs = SinkInputs::open(ctx, main)?;
            sink.start(ctx)?;
            let result = (|| {
                while let Some((port, packet)) = inputs.next() {
                    let frame = match (port, packet) {
                        (None, Packet::Frame(frame)) => frame,
                        (None, Packet::StreamEnd(stream)) => {
                            skip_on_frame_error(sink.end_stream(&stream, ctx), ctx)?;
                            continue;
                        }
                        (Some(port), Packet::Frame(frame)) => {
                            match sink.consume_other(port, frame, ctx) {
                                Err(err @ NodeError::Frame(_)) => skip_frame(ctx, &err),
                                other => other?,
                            }
                            continue;
                        }
                        (Some(_), Packet::StreamEnd(_)) => continue,
                    };
                    let started = Instant::now();
                    let age = frame.age();
                    match sink.consume(frame, ctx) {
                        Ok(()) => {
                            ctx.metrics.process_time.observe(started.elapsed());
                            ctx.metrics.latency.observe(age + started.elapsed());
                            ctx.metrics.frames_out.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(err @ NodeError::Frame(_)) => skip_frame(ctx, &err),
                        Err(err) => return Err(err),
                    }
                }
                Ok(())
            })();
            let finished = sink.finish(ctx);
            result.and(finished)
        })
    }
}

/// What a sink reads: its one input, or its main input and others merged in
/// arrival order.
enum SinkInputs {
    One(InputPort),
    Merged {
        /// Port names by index; 0 is the main input.
        names: Vec<String>,
        packets: mpsc::Receiver<(usize, Packet)>,
    },
}

impl SinkInputs {
    /// The inputs of a sink whose main input is `main` (the first connected
    /// one when `None`). Each input of a merged sink is read by a task of its
    /// own that waits until the sink takes what it read, so every queue keeps
    /// its policy; the tasks end with their queues or when the sink stops.
    fn open(ctx: &NodeContext, main: Option<&'static str>) -> Result<SinkInputs, NodeError> {
        let Some(main) = main else {
            let input = ctx
                .first_input()
                .ok_or_else(|| NodeError::failed("a sink needs an input port"))?;
            return Ok(SinkInputs::One(input));
        };
        let mut names = vec![main.to_string()];
        names.extend(ctx.input_names().filter(|name| *name != main).map(str::to_string));
        let ports: Vec<Option<InputPort>> = names.iter().map(|name| ctx.input(name)).collect();
        if ports[0].is_none() {
            return Err(NodeError::failed(format!(
                "the sink needs its `{main}` input connected"
            )));
        }
        let (sender, packets) = mpsc::channel(1);
        let runtime = tokio::runtime::Handle::current();
        for (index, port) in ports.into_iter().enumerate() {
            let (Some(port), sender) = (port, sender.clone()) else {
                continue;
            };
            runtime.spawn(async move {
                loop {
                    let packet = tokio::select! {
                        packet = port.recv() => packet,
                        () = sender.closed() => break,
                    };
                    let Some(packet) = packet else { break };
                    if sender.send((index, packet)).await.is_err() {
                        break;
                    }
                }
            });
        }
        Ok(SinkInputs::Merged { names, packets })
    }

    /// The next packet, with the name of its input unless it came on the main
    /// one; `None` once every input ended.
    fn next(&mut self) -> Option<(Option<&str>, Packet)> {
        match self {
            SinkInputs::One(input) => input.blocking_recv().map(|packet| (None, packet)),
            SinkInputs::Merged { names, packets } => {
                let (index, packet) = packets.blocking_recv()?;
                let port = (index > 0).then(|| names[index].as_str());
                Some((port, packet))
            }
        }
    }
}

/// Runs a [`Source`] as a node.
pub fn source_node(source: impl Source) -> Box<dyn Node> {
    Box::new(SourceNode(source))
}

/// Runs a [`Transform`] as a node, from its first input to its first output.
pub fn transform_node(transform: impl Transform) -> Box<dyn Node> {
    Box::new(TransformNode(transform))
}

/// Runs a [`Sink`] as a node, reading its first input.
pub fn sink_node(sink: impl Sink) -> Box<dyn Node> {
    Box::new(SinkNode { sink, main: None })
}

/// Runs a [`Sink`] with several inputs as a node: frames of `main` go to
/// [`Sink::consume`], those of every other connected input to
/// [`Sink::consume_other`], in the order they arrive.
pub fn sink_node_with_inputs(sink: impl Sink, main: &'static str) -> Box<dyn Node> {
    Box::new(SinkNode { sink, main: Some(main) })
}
