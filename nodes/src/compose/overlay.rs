//! `overlay`: text (with the time, the frame number or the frame rate filled
//! in) and a logo drawn over video.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ooblex_runtime::{
    Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, ParamIssue, PixelFormat, Transform,
    VIDEO_IN, VIDEO_OUT, transform_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::effect::colour::Colour;
use crate::effect::mix;
use crate::media::canvas::{Paint, Rect, fill_rect};
use crate::media::pixels::{convert, luma, rgb_to_yuv};
use crate::media::raw::{ALL_RAW, RawMut, RawView, new_picture};
use crate::media::text::{GLYPH_SIZE, draw_text, text_size};
use crate::params::check_file;

/// Default text: the wall-clock time.
pub const DEFAULT_TEXT: &str = "{time}";
/// Default text size: each font pixel a 2x2 square (16 pixels high).
pub const DEFAULT_SCALE: u32 = 2;
/// Default logo opacity: as opaque as the picture's own alpha.
pub const DEFAULT_LOGO_OPACITY: f64 = 1.0;

/// Frames over which `{fps}` is measured.
const FPS_WINDOW: usize = 30;
/// Pixels between the logo and the edges of the picture.
const LOGO_MARGIN: usize = 8;

/// A corner of the picture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Corner {
    /// Top left.
    #[default]
    TopLeft,
    /// Top right.
    TopRight,
    /// Bottom left.
    BottomLeft,
    /// Bottom right.
    BottomRight,
}

impl Corner {
    /// The top-left corner of a `width` x `height` box in this corner of a
    /// `frame_w` x `frame_h` picture, `margin` pixels from its edges.
    fn place(
        self,
        (width, height): (usize, usize),
        (frame_w, frame_h): (usize, usize),
        margin: usize,
    ) -> (usize, usize) {
        let right = frame_w.saturating_sub(width + margin);
        let bottom = frame_h.saturating_sub(height + margin);
        match self {
            Corner::TopLeft => (margin, margin),
            Corner::TopRight => (right, margin),
            Corner::BottomLeft => (margin, bottom),
            Corner::BottomRight => (right, bottom),
        }
    }
}

/// Params of `overlay`. Changing them restarts the node (and reads the logo again).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct OverlayParams {
    /// Text to draw, ASCII; `{time}` becomes the UTC time as HH:MM:SS,
    /// `{frame}` the frame number, `{fps}` the frame rate measured over the
    /// last 30 frames, and a newline starts a new line. Empty for no text.
    pub text: String,
    /// Corner of the text: `top_left`, `top_right`, `bottom_left` or `bottom_right`.
    pub position: Corner,
    /// Text size: each pixel of the 8x8 font becomes a `scale` x `scale` square.
    #[schemars(range(min = 1, max = 16))]
    pub scale: u32,
    /// Colour of the text: `#rrggbb`, `#rgb` or a name.
    pub color: Colour,
    /// Colour of a box drawn behind the text; without it the text goes
    /// straight onto the picture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background: Option<Colour>,
    /// Path of a PNG or JPEG logo (transparency kept), read once at start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
    /// Corner of the logo: `top_left`, `top_right`, `bottom_left` or `bottom_right`.
    pub logo_position: Corner,
    /// Width the logo is scaled to once at start, keeping its aspect; its
    /// own width by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 8192))]
    pub logo_width: Option<u32>,
    /// Opacity of the logo, 0 (invisible) to 1, times its own transparency.
    #[schemars(range(min = 0, max = 1))]
    pub logo_opacity: f64,
}

impl Default for OverlayParams {
    fn default() -> Self {
        OverlayParams {
            text: DEFAULT_TEXT.to_string(),
            position: Corner::TopLeft,
            scale: DEFAULT_SCALE,
            color: Colour::WHITE,
            background: None,
            logo: None,
            logo_position: Corner::TopRight,
            logo_width: None,
            logo_opacity: DEFAULT_LOGO_OPACITY,
        }
    }
}

/// The `overlay` node kind.
pub struct Overlay;

impl NodeKind for Overlay {
    type Params = OverlayParams;
    const NAME: &'static str = "overlay";
    const DESCRIPTION: &'static str =
        "draws text (with {time}, {frame} and {fps} filled in) and a PNG or JPEG logo over video";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[VIDEO_OUT];

    fn check(params: &OverlayParams) -> Vec<ParamIssue> {
        let Some(logo) = &params.logo else {
            return Vec::new();
        };
        check_file(logo, "a PNG or JPEG file")
            .into_iter()
            .map(|mut issue| {
                issue.field = vec!["logo".to_string()];
                issue
            })
            .collect()
    }

    fn build(params: &OverlayParams) -> Result<Box<dyn Node>, NodeError> {
        let logo = match &params.logo {
            Some(path) => Some(Logo::load(path, params.logo_width, params.logo_opacity)?),
            None => None,
        };
        Ok(transform_node(OverlayNode {
            template: params.text.clone(),
            position: params.position,
            scale: params.scale as usize,
            paint: params.color.paint(),
            background: params.background.map(Colour::paint),
            logo,
            logo_position: params.logo_position,
            text: String::new(),
            recent: VecDeque::with_capacity(FPS_WINDOW),
        }))
    }
}

/// A logo decoded once: RGBA pixels with the opacity folded into alpha.
struct Logo {
    rgba: Vec<u8>,
    width: usize,
    height: usize,
}

impl Logo {
    fn load(path: &str, width: Option<u32>, opacity: f64) -> Result<Logo, NodeError> {
        let failed = |err: &dyn std::fmt::Display| NodeError::startup(format!("cannot read logo `{path}`: {err}"));
        let mut image = image::ImageReader::open(path)
            .map_err(|err| failed(&err))?
            .with_guessed_format()
            .map_err(|err| failed(&err))?
            .decode()
            .map_err(|err| failed(&err))?
            .into_rgba8();
        if let Some(width) = width.filter(|&w| w != image.width()) {
            let height = (u64::from(image.height()) * u64::from(width)).div_ceil(u64::from(image.width().max(1)));
            let height = height.clamp(1, 8192) as u32;
            image = image::imageops::resize(&image, width, height, image::imageops::FilterType::Triangle);
        }
        let (width, height) = (image.width() as usize, image.height() as usize);
        let mut rgba = image.into_raw();
        for px in rgba.chunks_exact_mut(4) {
            px[3] = (f64::from(px[3]) * opacity).round() as u8;
        }
        Ok(Logo { rgba, width, height })
    }

    /// Lays the logo over `out` with its top-left corner at (`x`, `y`), clipped.
    fn draw(&self, out: &mut RawMut<'_>, x: usize, y: usize) {
        let (frame_w, frame_h) = (out.width, out.height);
        let (w, h) = (
            self.width.min(frame_w.saturating_sub(x)),
            self.height.min(frame_h.saturating_sub(y)),
        );
        if w == 0 || h == 0 {
            return;
        }
        let logo = |lx: usize, ly: usize| -> &[u8] { &self.rgba[(ly * self.width + lx) * 4..][..4] };
        let format = out.format;
        let planes = out.planes_mut();
        let bpp = match format {
            PixelFormat::Rgb24 => 3,
            PixelFormat::Rgba => 4,
            _ => 1,
        };
        for ly in 0..h {
            let row = &mut planes[0].row_mut(y + ly)[x * bpp..][..w * bpp];
            for (lx, o) in row.chunks_exact_mut(bpp).enumerate() {
                let [r, g, b, a] = logo(lx, ly).try_into().expect("a logo pixel is four bytes");
                match format {
                    PixelFormat::Rgb24 | PixelFormat::Rgba => {
                        o[0] = mix(o[0], r, a);
                        o[1] = mix(o[1], g, a);
                        o[2] = mix(o[2], b, a);
                    }
                    PixelFormat::Gray8 => o[0] = mix(o[0], luma(r, g, b), a),
                    _ => o[0] = mix(o[0], rgb_to_yuv([r, g, b]).0, a),
                }
            }
        }
        if !matches!(format, PixelFormat::I420 | PixelFormat::Nv12) {
            return;
        }
        // Each chroma sample takes the alpha-weighted colour of the logo
        // pixels in its 2x2 block, by the block's average alpha.
        for cy in y / 2..(y + h).div_ceil(2) {
            for cx in x / 2..(x + w).div_ceil(2) {
                let (mut alpha, mut u_sum, mut v_sum) = (0u32, 0u32, 0u32);
                for py in 2 * cy..2 * cy + 2 {
                    for px in 2 * cx..2 * cx + 2 {
                        if !(x..x + w).contains(&px) || !(y..y + h).contains(&py) {
                            continue;
                        }
                        let [r, g, b, a] = logo(px - x, py - y).try_into().expect("a logo pixel is four bytes");
                        let (_, u, v) = rgb_to_yuv([r, g, b]);
                        alpha += u32::from(a);
                        u_sum += u32::from(a) * u32::from(u);
                        v_sum += u32::from(a) * u32::from(v);
                    }
                }
                if alpha == 0 {
                    continue;
                }
                let (u, v) = (((u_sum + alpha / 2) / alpha) as u8, ((v_sum + alpha / 2) / alpha) as u8);
                let a = ((alpha + 2) / 4) as u8;
                match &mut planes[1..] {
                    [u_plane, v_plane] => {
                        let o = &mut u_plane.row_mut(cy)[cx];
                        *o = mix(*o, u, a);
                        let o = &mut v_plane.row_mut(cy)[cx];
                        *o = mix(*o, v, a);
                    }
                    [uv_plane] => {
                        let o = &mut uv_plane.row_mut(cy)[2 * cx..][..2];
                        o[0] = mix(o[0], u, a);
                        o[1] = mix(o[1], v, a);
                    }
                    _ => unreachable!("a 4:2:0 frame has two or three planes"),
                }
            }
        }
    }
}

struct OverlayNode {
    template: String,
    position: Corner,
    scale: usize,
    paint: Paint,
    background: Option<Paint>,
    logo: Option<Logo>,
    logo_position: Corner,
    /// The text of the current frame, reused.
    text: String,
    /// Timestamps of the last frames, for `{fps}`.
    recent: VecDeque<Duration>,
}

/// The frame rate over `recent` timestamps, when they span some time.
fn frame_rate(recent: &VecDeque<Duration>) -> Option<f64> {
    let span = recent.back()?.checked_sub(*recent.front()?)?;
    (span > Duration::ZERO).then(|| (recent.len() - 1) as f64 / span.as_secs_f64())
}

/// Writes `template` into `out` with the placeholders filled in: `{time}`
/// (UTC HH:MM:SS at `now`), `{frame}` (`seq`) and `{fps}` (`-` while unknown).
/// Anything else, other braces included, is copied as it is.
fn fill_in(template: &str, seq: u64, now: SystemTime, fps: Option<f64>, out: &mut String) {
    out.clear();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let (written, consumed) = if tail.starts_with("{time}") {
            let seconds = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() % 86_400;
            let time = (seconds / 3600, seconds / 60 % 60, seconds % 60);
            (write!(out, "{:02}:{:02}:{:02}", time.0, time.1, time.2), "{time}".len())
        } else if tail.starts_with("{frame}") {
            (write!(out, "{seq}"), "{frame}".len())
        } else if tail.starts_with("{fps}") {
            let written = match fps {
                Some(fps) => write!(out, "{fps:.1}"),
                None => write!(out, "-"),
            };
            (written, "{fps}".len())
        } else {
            out.push('{');
            (Ok(()), 1)
        };
        written.expect("writing to a String cannot fail");
        rest = &tail[consumed..];
    }
    out.push_str(rest);
}

impl Transform for OverlayNode {
    fn process(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        let view = RawView::of(&frame, Overlay::NAME, ALL_RAW)?;
        if self.recent.len() == FPS_WINDOW {
            self.recent.pop_front();
        }
        self.recent.push_back(frame.pts);
        fill_in(
            &self.template,
            frame.seq,
            SystemTime::now(),
            frame_rate(&self.recent),
            &mut self.text,
        );
        let out = new_picture(ctx, &frame, frame.format, frame.width, frame.height, |out| {
            convert(&view, out);
            if let Some(logo) = &self.logo {
                let (x, y) = self
                    .logo_position
                    .place((logo.width, logo.height), (out.width, out.height), LOGO_MARGIN);
                logo.draw(out, x, y);
            }
            self.draw_text(out);
            Ok(())
        })?;
        Ok(Some(out))
    }
}

impl OverlayNode {
    fn draw_text(&self, out: &mut RawMut<'_>) {
        if self.text.is_empty() {
            return;
        }
        let scale = self.scale;
        let line_height = (GLYPH_SIZE + 2) * scale;
        let lines = self.text.lines().count().max(1);
        let text_w = self
            .text
            .lines()
            .map(|line| text_size(line, scale).0)
            .max()
            .unwrap_or(0);
        let text_h = lines * line_height - 2 * scale;
        let pad = 2 * scale;
        let (box_w, box_h) = (text_w + 2 * pad, text_h + 2 * pad);
        let (x, y) = self.position.place((box_w, box_h), (out.width, out.height), 4 * scale);
        if let Some(background) = &self.background {
            let rect = Rect {
                x,
                y,
                width: box_w,
                height: box_h,
            };
            fill_rect(out, rect, background);
        }
        for (i, line) in self.text.lines().enumerate() {
            draw_text(out, x + pad, y + pad + i * line_height, scale, line, &self.paint);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use ooblex_runtime::testing::{Harness, frame_from_fn};
    use ooblex_runtime::{Frame, NodeError, PixelFormat};
    use serde_json::json;

    use super::*;
    use crate::test_util::{kind, run_transform, temp_path};

    fn gray(format: PixelFormat, seq: u64) -> Frame {
        frame_from_fn(format, 96, 64, seq, move |_, _, c| match format {
            PixelFormat::I420 | PixelFormat::Nv12 => [60, 128, 128][c],
            _ => [60, 60, 60, 255][c],
        })
    }

    fn count(frame: &Frame, rgb: [u8; 3]) -> usize {
        frame.buffer.as_slice().chunks_exact(3).filter(|px| *px == rgb).count()
    }

    #[test]
    fn placeholders_are_filled_in() {
        let now = UNIX_EPOCH + Duration::from_secs(3 * 86_400 + 13 * 3600 + 4 * 60 + 5);
        let mut out = String::new();
        fill_in("{time} #{frame} {fps}fps {x} {", 42, now, Some(29.97), &mut out);
        assert_eq!(out, "13:04:05 #42 30.0fps {x} {");
        fill_in("{fps}", 0, now, None, &mut out);
        assert_eq!(out, "-");
    }

    #[test]
    fn the_frame_rate_is_measured_from_timestamps() {
        let recent: VecDeque<Duration> = (0..5).map(|i| Duration::from_millis(40 * i)).collect();
        assert_eq!(frame_rate(&recent), Some(25.0));
        assert_eq!(frame_rate(&VecDeque::from([Duration::ZERO])), None);
    }

    #[test]
    fn text_goes_in_the_chosen_corner_on_its_background() {
        let params = json!({ "text": "#{frame}", "position": "bottom_right", "scale": 1, "color": "white", "background": "#ff0000" });
        let out = run_transform("overlay", params, vec![gray(PixelFormat::Rgb24, 7)]);
        let frame = &out[0];
        let at = |x: usize, y: usize| &frame.buffer.as_slice()[(y * 96 + x) * 3..][..3];
        // "#7": 16x8 text, 2 px of padding: a 20x12 box 4 px from the bottom-right corner.
        assert_eq!(at(72, 48), [255, 0, 0]);
        assert_eq!(at(91, 59), [255, 0, 0]);
        assert_eq!(at(71, 48), [60, 60, 60]);
        assert_eq!(at(92, 59), [60, 60, 60]);
        assert!(count(frame, [255, 255, 255]) > 10, "the text is drawn");
        assert_eq!(count(frame, [255, 255, 255]) + count(frame, [255, 0, 0]), 20 * 12);
    }

    #[test]
    fn every_format_gets_text() {
        for format in PixelFormat::RAW {
            let input = gray(format, 1);
            let out = run_transform("overlay", json!({ "text": "TIME {time}" }), vec![input.clone()]);
            assert_ne!(out[0].plane(0), input.plane(0), "{format}");
            assert_eq!(out[0].format, format);
        }
    }

    fn logo_file(name: &str) -> std::path::PathBuf {
        let path = temp_path(name);
        // Left half opaque blue, right half fully transparent.
        image::RgbaImage::from_fn(4, 2, |x, _| {
            if x < 2 {
                image::Rgba([0, 0, 255, 255])
            } else {
                image::Rgba([0, 255, 0, 0])
            }
        })
        .save(&path)
        .expect("a temp PNG can be written");
        path
    }

    #[test]
    fn the_logo_is_laid_over_with_its_transparency_and_opacity() {
        let path = logo_file("logo.png");
        let params =
            json!({ "text": "", "logo": path, "logo_position": "top_left", "logo_width": 8, "logo_opacity": 0.5 });
        let out = run_transform("overlay", params, vec![gray(PixelFormat::Rgb24, 0)]);
        std::fs::remove_file(&path).ok();
        let frame = &out[0];
        let at = |x: usize, y: usize| &frame.buffer.as_slice()[(y * 96 + x) * 3..][..3];
        // Scaled to 8x4 at (8, 8): half-opaque blue on the left, nothing on the right.
        assert_eq!(at(9, 9), [30, 30, 158]);
        assert_eq!(at(14, 9), [60, 60, 60]);
        assert_eq!(at(7, 9), [60, 60, 60]);
    }

    #[test]
    fn the_logo_tints_i420_chroma() {
        let path = logo_file("logo-i420.png");
        let params = json!({ "text": "", "logo": path, "logo_position": "top_left" });
        let out = run_transform("overlay", params, vec![gray(PixelFormat::I420, 0)]);
        std::fs::remove_file(&path).ok();
        // The logo's blue 2x2 block is chroma sample (4, 4); its clear half is (5, 4).
        let u = out[0].plane(1);
        assert_eq!((u[4 * 48 + 4], u[4 * 48 + 5]), (240, 128));
    }

    #[test]
    fn a_missing_logo_is_a_logo_issue_and_a_corrupt_one_a_startup_error() {
        let issues = kind("overlay")
            .prepare(json!({ "logo": "/no/such/logo.png" }))
            .err()
            .expect("a missing logo is rejected");
        assert_eq!(issues[0].field, ["logo"]);
        let path = temp_path("corrupt-logo.png");
        std::fs::write(&path, b"not a picture").expect("a temp file can be written");
        let out = Harness::new(&kind("overlay"), json!({ "logo": path })).run();
        std::fs::remove_file(&path).ok();
        match out.result {
            Err(NodeError::Startup(message)) => assert!(message.contains("corrupt-logo.png"), "{message}"),
            other => panic!("expected a startup error, got {other:?}"),
        }
    }

    #[test]
    fn params_are_checked() {
        assert!(kind("overlay").prepare(json!({ "position": "middle" })).is_err());
        assert!(kind("overlay").prepare(json!({ "scale": 0 })).is_err());
        assert!(kind("overlay").prepare(json!({ "logo_opacity": 1.5 })).is_err());
    }
}
