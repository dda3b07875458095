//! A stop signal that async tasks and blocking threads can both wait on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use tokio::sync::Notify;

struct Inner {
    triggered: AtomicBool,
    notify: Notify,
    lock: Mutex<()>,
    condvar: Condvar,
}

/// A one-way stop signal; clones share it.
#[derive(Clone)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}

impl Shutdown {
    /// A signal not yet triggered.
    pub fn new() -> Shutdown {
        Shutdown {
            inner: Arc::new(Inner {
                triggered: AtomicBool::new(false),
                notify: Notify::new(),
                lock: Mutex::new(()),
                condvar: Condvar::new(),
            }),
        }
    }

    /// Triggers the signal; every waiter wakes.
    pub fn trigger(&self) {
        let _guard = self
            .inner
            .lock
            .lock()
            .expect("shutdown lock is never held across a panic");
        self.inner.triggered.store(true, Ordering::SeqCst);
        self.inner.condvar.notify_all();
        self.inner.notify.notify_waiters();
    }

    /// Whether the signal was triggered.
    pub fn is_triggered(&self) -> bool {
        self.inner.triggered.load(Ordering::SeqCst)
    }

    /// Waits until the signal is triggered.
    pub async fn wait(&self) {
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_triggered() {
                return;
            }
            notified.await;
        }
    }

    /// Blocks the thread until `deadline` or the signal, whichever comes first.
    /// Returns `true` when the deadline was reached without the signal.
    pub fn sleep_until(&self, deadline: Instant) -> bool {
        let mut guard = self
            .inner
            .lock
            .lock()
            .expect("shutdown lock is never held across a panic");
        loop {
            if self.is_triggered() {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            guard = self
                .inner
                .condvar
                .wait_timeout(guard, deadline - now)
                .expect("shutdown lock is never held across a panic")
                .0;
        }
    }
}
