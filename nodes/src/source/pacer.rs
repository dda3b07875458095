//! Frame pacing for sources that run at a frame rate.

use std::time::{Duration, Instant};

use ooblex_runtime::Shutdown;

/// Schedules frame `seq` at `seq / fps` after the first frame. A source that
/// falls more than one frame behind (a stalled machine, a slow consumer) moves
/// its schedule later instead of bursting frames to catch up.
#[derive(Debug, Clone)]
pub(crate) struct Pacer {
    fps: f64,
    start: Option<Instant>,
    slip: Duration,
}

impl Pacer {
    /// A pacer at `fps` frames per second (checked positive by the params' range).
    pub fn new(fps: f64) -> Pacer {
        Pacer {
            fps,
            start: None,
            slip: Duration::ZERO,
        }
    }

    /// The presentation time of frame `seq`.
    pub fn pts(&self, seq: u64) -> Duration {
        Duration::from_secs_f64(seq as f64 / self.fps)
    }

    /// When frame `seq` is due, the time now being `now`.
    pub fn deadline(&mut self, seq: u64, now: Instant) -> Instant {
        let start = *self.start.get_or_insert(now);
        let due = start + self.slip + self.pts(seq);
        let interval = Duration::from_secs_f64(1.0 / self.fps);
        if now > due + interval {
            self.slip += now - due;
            now
        } else {
            due
        }
    }

    /// Sleeps until frame `seq` is due; `false` when `shutdown` came first.
    pub fn wait(&mut self, seq: u64, shutdown: &Shutdown) -> bool {
        let deadline = self.deadline(seq, Instant::now());
        shutdown.sleep_until(deadline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_due_at_seq_over_fps() {
        let mut pacer = Pacer::new(10.0);
        let t0 = Instant::now();
        assert_eq!(pacer.deadline(0, t0), t0);
        assert_eq!(pacer.deadline(1, t0), t0 + Duration::from_millis(100));
        assert_eq!(
            pacer.deadline(5, t0 + Duration::from_millis(450)),
            t0 + Duration::from_millis(500)
        );
    }

    #[test]
    fn falling_behind_moves_the_schedule_instead_of_bursting() {
        let mut pacer = Pacer::new(10.0);
        let t0 = Instant::now();
        pacer.deadline(0, t0);
        let late = t0 + Duration::from_secs(2);
        assert_eq!(pacer.deadline(1, late), late, "the late frame goes out now");
        assert_eq!(
            pacer.deadline(2, late),
            late + Duration::from_millis(100),
            "the next one a frame later"
        );
    }

    #[test]
    fn pts_follows_seq() {
        assert_eq!(Pacer::new(25.0).pts(50), Duration::from_secs(2));
    }
}
