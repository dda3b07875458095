//! Input queues: `latest` drops the oldest frame (a whole group of pictures for
//! encoded video) and counts it; `block` holds the producer back.

use std::sync::Arc;
use std::time::Duration;

use ooblex_runtime::testing::frame_from_fn;
use ooblex_runtime::{Packet, PixelFormat, PushOutcome, Queue, QueuePolicy, StreamId};

fn frame(seq: u64) -> ooblex_runtime::Frame {
    frame_from_fn(PixelFormat::Gray8, 4, 4, seq, |_, _, _| 0)
}

/// The number of the next frame out, waiting for one.
async fn next_seq(queue: &Queue) -> Option<u64> {
    queue.pop().await.and_then(Packet::into_frame).map(|f| f.seq)
}

#[tokio::test]
async fn latest_keeps_the_newest_frames_and_counts_drops() {
    let queue = Queue::new(2, QueuePolicy::Latest);
    for seq in 0..5 {
        queue.push(frame(seq)).await;
    }
    assert_eq!(queue.dropped(), 3);
    assert_eq!(queue.depth(), 2);
    assert_eq!(next_seq(&queue).await, Some(3));
    assert_eq!(next_seq(&queue).await, Some(4));
}

#[tokio::test]
async fn block_makes_the_producer_wait_for_room() {
    let queue = Arc::new(Queue::new(1, QueuePolicy::Block));
    assert_eq!(queue.push(frame(0)).await, PushOutcome::Queued);
    let producer = tokio::spawn({
        let queue = queue.clone();
        async move { queue.push(frame(1)).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !producer.is_finished(),
        "the producer must wait while the queue is full"
    );
    assert_eq!(next_seq(&queue).await, Some(0));
    let outcome = tokio::time::timeout(Duration::from_secs(5), producer)
        .await
        .expect("the producer resumes once there is room")
        .expect("the producer task does not panic");
    assert_eq!(outcome, PushOutcome::Queued);
    assert_eq!(queue.dropped(), 0);
    assert_eq!(next_seq(&queue).await, Some(1));
}

#[tokio::test]
async fn closing_drains_then_ends() {
    let queue = Queue::new(4, QueuePolicy::Block);
    queue.push(frame(7)).await;
    queue.close();
    assert_eq!(queue.push(frame(8)).await, PushOutcome::Closed);
    assert_eq!(next_seq(&queue).await, Some(7));
    assert!(queue.pop().await.is_none());
}

#[test]
fn blocking_pop_wakes_on_push_from_another_thread() {
    let queue = Arc::new(Queue::new(1, QueuePolicy::Block));
    let consumer = std::thread::spawn({
        let queue = queue.clone();
        move || queue.blocking_pop().and_then(Packet::into_frame).map(|f| f.seq)
    });
    std::thread::sleep(Duration::from_millis(20));
    futures_lite_block_on(queue.push(frame(42)));
    assert_eq!(consumer.join().expect("consumer thread does not panic"), Some(42));
}

fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime can be built")
        .block_on(future)
}

/// An H.264-like frame of `stream`: a keyframe or one that needs the frames before it.
fn encoded(seq: u64, stream: &str, keyframe: bool) -> ooblex_runtime::Frame {
    let raw = frame(seq);
    let mut encoded = raw.with_encoded(raw.buffer.clone(), ooblex_runtime::Codec::H264, keyframe);
    encoded.stream = ooblex_runtime::StreamId::new(stream);
    encoded
}

#[tokio::test]
async fn latest_drops_encoded_video_up_to_the_next_keyframe() {
    let queue = Queue::new(3, QueuePolicy::Latest);
    for (seq, keyframe) in [(0, true), (1, false), (2, false)] {
        assert_eq!(queue.push(encoded(seq, "a", keyframe)).await, PushOutcome::Queued);
    }
    // Full: dropping keyframe 0 makes 1 and 2 useless, and the new 3 as well.
    assert_eq!(queue.push(encoded(3, "a", false)).await, PushOutcome::Dropped(4));
    assert_eq!(queue.depth(), 0);
    // Until the next keyframe, frames of that stream are dropped on arrival...
    assert_eq!(queue.push(encoded(4, "a", false)).await, PushOutcome::Dropped(1));
    // ...but another stream's frames are not.
    assert_eq!(queue.push(encoded(0, "b", false)).await, PushOutcome::Queued);
    assert_eq!(queue.push(encoded(5, "a", true)).await, PushOutcome::Queued);
    assert_eq!(queue.push(encoded(6, "a", false)).await, PushOutcome::Queued);
    assert_eq!(queue.dropped(), 5);
    let order: Vec<(String, u64)> = std::iter::from_fn(|| queue.try_pop())
        .filter_map(Packet::into_frame)
        .map(|f| (f.stream.to_string(), f.seq))
        .collect();
    assert_eq!(order, [("b".into(), 0), ("a".into(), 5), ("a".into(), 6)]);
}

#[tokio::test]
async fn latest_keeps_a_later_keyframe_when_it_drops_a_group() {
    let queue = Queue::new(3, QueuePolicy::Latest);
    for (seq, keyframe) in [(0, true), (1, false), (2, true)] {
        queue.push(encoded(seq, "a", keyframe)).await;
    }
    assert_eq!(queue.push(encoded(3, "a", false)).await, PushOutcome::Dropped(2));
    let seqs: Vec<u64> = std::iter::from_fn(|| queue.try_pop())
        .filter_map(Packet::into_frame)
        .map(|f| f.seq)
        .collect();
    assert_eq!(seqs, [2, 3]);
}

#[tokio::test]
async fn a_stream_end_is_never_dropped_and_bounds_the_group_dropped_before_it() {
    let queue = Queue::new(2, QueuePolicy::Latest);
    queue.push(encoded(0, "a", true)).await;
    assert_eq!(queue.push_stream_end(StreamId::new("a")), PushOutcome::Queued);
    queue.push(encoded(1, "a", false)).await;
    assert_eq!(queue.depth(), 2, "a stream end takes no room");
    // Full: frame 0 goes; frame 1 comes after the end, needs nothing before
    // it and stays, and so does the end.
    assert_eq!(queue.push(encoded(2, "b", true)).await, PushOutcome::Dropped(1));
    let order: Vec<String> = std::iter::from_fn(|| queue.try_pop())
        .map(|packet| match packet {
            Packet::Frame(frame) => format!("{}{}", frame.stream, frame.seq),
            Packet::StreamEnd(stream) => format!("end {stream}"),
        })
        .collect();
    assert_eq!(order, ["end a", "a1", "b2"]);
    // Nor is a later frame of `a` dropped for want of a keyframe.
    assert_eq!(queue.push(encoded(3, "a", false)).await, PushOutcome::Queued);
}

#[tokio::test]
async fn a_stream_end_never_waits_for_room_and_comes_after_the_frames_before_it() {
    let queue = Queue::new(1, QueuePolicy::Block);
    queue.push(frame(0)).await;
    assert_eq!(queue.push_stream_end(StreamId::default()), PushOutcome::Queued);
    queue.close();
    assert_eq!(queue.push_stream_end(StreamId::default()), PushOutcome::Closed);
    assert_eq!(next_seq(&queue).await, Some(0));
    assert!(matches!(queue.pop().await, Some(Packet::StreamEnd(s)) if s.is_default()));
    assert!(queue.pop().await.is_none());
}
