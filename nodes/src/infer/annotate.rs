//! The shape of analysis nodes: each frame goes out on the `video` port with what the
//! node learned in its metadata, and on every other port without its picture.
//! The end of a stream goes out on every port.

use std::sync::atomic::Ordering;
use std::time::Instant;

use futures::future::BoxFuture;
use ooblex_runtime::{
    Frame, Metadata, Node, NodeContext, NodeError, OutputPort, Packet, on_blocking_thread, skip_frame,
};

/// Learns something about each frame.
pub(crate) trait Annotate: Send + 'static {
    /// The frame's new metadata. `Err(NodeError::Frame)` skips the frame.
    fn annotate(&mut self, frame: &Frame, ctx: &NodeContext) -> Result<Metadata, NodeError>;
}

struct AnnotateNode<A>(A);

/// Runs an [`Annotate`] as a node on a blocking thread.
pub(crate) fn annotate_node(annotator: impl Annotate) -> Box<dyn Node> {
    Box::new(AnnotateNode(annotator))
}

impl<A: Annotate> Node for AnnotateNode<A> {
    fn run(self: Box<Self>, ctx: NodeContext) -> BoxFuture<'static, Result<(), NodeError>> {
        let mut annotator = self.0;
        on_blocking_thread(ctx, move |ctx| {
            let input = ctx
                .first_input()
                .ok_or_else(|| NodeError::failed("an analysis node needs its input"))?;
            let video = ctx.output("video");
            let others: Vec<OutputPort> = ctx
                .output_names()
                .filter(|name| *name != "video")
                .filter_map(|name| ctx.output(name))
                .collect();
            while let Some(packet) = input.blocking_recv() {
                let frame = match packet {
                    Packet::Frame(frame) => frame,
                    Packet::StreamEnd(stream) => {
                        video.iter().chain(&others).for_each(|port| port.end_stream(&stream));
                        continue;
                    }
                };
                let started = Instant::now();
                match annotator.annotate(&frame, ctx) {
                    Ok(meta) => {
                        ctx.metrics.process_time.observe(started.elapsed());
                        let annotated = frame.with_meta(meta);
                        for port in &others {
                            port.blocking_send_also(annotated.without_picture());
                        }
                        match &video {
                            Some(port) => port.blocking_send(annotated),
                            None => {
                                ctx.metrics.frames_out.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    Err(err @ NodeError::Frame(_)) => skip_frame(ctx, &err),
                    Err(err) => return Err(err),
                }
            }
            Ok(())
        })
    }
}
