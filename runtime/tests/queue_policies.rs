//! Input queues: `latest` drops the oldest frame and counts it; `block` holds the producer back.

use std::sync::Arc;
use std::time::Duration;

use ooblex_runtime::testing::frame_from_fn;
use ooblex_runtime::{PixelFormat, PushOutcome, Queue, QueuePolicy};

fn frame(seq: u64) -> ooblex_runtime::Frame {
    frame_from_fn(PixelFormat::Gray8, 4, 4, seq, |_, _, _| 0)
}

#[tokio::test]
async fn latest_keeps_the_newest_frames_and_counts_drops() {
    let queue = Queue::new(2, QueuePolicy::Latest);
    for seq in 0..5 {
        queue.push(frame(seq)).await;
    }
    assert_eq!(queue.dropped(), 3);
    assert_eq!(queue.depth(), 2);
    assert_eq!(queue.pop().await.map(|f| f.seq), Some(3));
    assert_eq!(queue.pop().await.map(|f| f.seq), Some(4));
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
    assert_eq!(queue.pop().await.map(|f| f.seq), Some(0));
    let outcome = tokio::time::timeout(Duration::from_secs(5), producer)
        .await
        .expect("the producer resumes once there is room")
        .expect("the producer task does not panic");
    assert_eq!(outcome, PushOutcome::Queued);
    assert_eq!(queue.dropped(), 0);
    assert_eq!(queue.pop().await.map(|f| f.seq), Some(1));
}

#[tokio::test]
async fn closing_drains_then_ends() {
    let queue = Queue::new(4, QueuePolicy::Block);
    queue.push(frame(7)).await;
    queue.close();
    assert_eq!(queue.push(frame(8)).await, PushOutcome::Closed);
    assert_eq!(queue.pop().await.map(|f| f.seq), Some(7));
    assert!(queue.pop().await.is_none());
}

#[test]
fn blocking_pop_wakes_on_push_from_another_thread() {
    let queue = Arc::new(Queue::new(1, QueuePolicy::Block));
    let consumer = std::thread::spawn({
        let queue = queue.clone();
        move || queue.blocking_pop().map(|f| f.seq)
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
