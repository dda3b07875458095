//! The moving part of the test pattern: a bouncing box, the frame number and
//! the wall clock, drawn over a copy of the background every frame.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::media::canvas::{Paint, Rect, fill_rect};
use crate::media::raw::RawMut;
use crate::media::text::{draw_text, text_size};

const WHITE: [u8; 3] = [255, 255, 255];
const BLACK: [u8; 3] = [0, 0, 0];
const BOX_COLOUR: [u8; 3] = [255, 140, 0];

/// The box crosses the frame in about this many seconds, horizontally.
const CROSSING_SECONDS: f64 = 3.0;

/// Reusable state for drawing the overlay without allocating per frame.
#[derive(Debug)]
pub(crate) struct Overlay {
    text: String,
    white: Paint,
    black: Paint,
    box_paint: Paint,
}

impl Overlay {
    /// An overlay; its text buffer grows once to the length of a line.
    pub fn new() -> Overlay {
        Overlay {
            text: String::with_capacity(32),
            white: Paint::rgb(WHITE),
            black: Paint::rgb(BLACK),
            box_paint: Paint::rgb(BOX_COLOUR),
        }
    }

    /// Draws frame `seq` of a stream at `fps`, shown at wall-clock time `now`.
    pub fn draw(&mut self, out: &mut RawMut<'_>, seq: u64, fps: f64, now: SystemTime) {
        let (width, height) = (out.width, out.height);
        let t = seq as f64 / fps;
        let side = even((width.min(height) / 6).max(8));
        let (x_range, y_range) = (width.saturating_sub(side), height.saturating_sub(side));
        // The box starts in the middle, clear of the label in the top-left corner.
        let x = bounce(x_range as f64 / 2.0 + t * width as f64 / CROSSING_SECONDS, x_range);
        let y = bounce(
            y_range as f64 / 2.0 + t * height as f64 / (CROSSING_SECONDS * 0.7),
            y_range,
        );
        let square = Rect {
            x: even(x),
            y: even(y),
            width: side,
            height: side,
        };
        fill_rect(out, square, &self.box_paint);

        let scale = (height / 160).max(1);
        let margin = even(4 * scale);
        let line_height = text_size("", scale).1 + 2 * scale;
        let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let ms_of_day = since_epoch.as_millis() % 86_400_000;
        let label = Rect {
            x: margin,
            y: margin,
            width: text_size("00:00:00.000 UTC", scale).0 + 2 * margin,
            height: 2 * line_height + 2 * margin,
        };
        fill_rect(out, label, &self.black);

        self.text.clear();
        write!(self.text, "frame {seq:06}").expect("writing to a String cannot fail");
        draw_text(out, 2 * margin, 2 * margin, scale, &self.text, &self.white);
        self.text.clear();
        write!(
            self.text,
            "{:02}:{:02}:{:02}.{:03} UTC",
            ms_of_day / 3_600_000,
            ms_of_day / 60_000 % 60,
            ms_of_day / 1000 % 60,
            ms_of_day % 1000
        )
        .expect("writing to a String cannot fail");
        draw_text(
            out,
            2 * margin,
            2 * margin + line_height,
            scale,
            &self.text,
            &self.white,
        );
    }
}

/// Position `travelled` pixels along a path that bounces between 0 and `range`.
fn bounce(travelled: f64, range: usize) -> usize {
    if range == 0 {
        return 0;
    }
    let period = 2 * range;
    let at = (travelled as usize) % period;
    if at <= range { at } else { period - at }
}

fn even(v: usize) -> usize {
    v & !1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounce_stays_in_range_and_turns_back() {
        assert_eq!(bounce(0.0, 10), 0);
        assert_eq!(bounce(10.0, 10), 10);
        assert_eq!(bounce(13.0, 10), 7);
        assert_eq!(bounce(20.0, 10), 0);
        assert_eq!(bounce(5.0, 0), 0);
    }
}
