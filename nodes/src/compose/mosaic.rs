//! `mosaic`: up to nine videos in a grid on one picture of a fixed size.

use ooblex_runtime::{
    FormatSet, Frame, InputPortSpec, Node, NodeContext, NodeError, NodeKind, OutputPortSpec, ParamIssue,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::compose::picture::{
    Fitter, PACKED_OUT, blit, draw_label, fill_black, fit_within, label_scale, output_format, output_formats,
};
use crate::compose::{Compose, compositor_node, optional_input, required_input};
use crate::media::canvas::Rect;
use crate::media::raw::{ALL_RAW, RawView, new_picture};

/// Default output width in pixels.
pub const DEFAULT_WIDTH: u32 = 1280;
/// Default output height in pixels.
pub const DEFAULT_HEIGHT: u32 = 720;

/// Params of `mosaic`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MosaicParams {
    /// Tiles per row; by default the smallest square grid that holds every
    /// connected input (2 for 2 to 4 inputs, 3 for 5 to 9).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 9))]
    pub columns: Option<u32>,
    /// Width of the output picture in pixels.
    #[schemars(range(min = 16, max = 8192))]
    pub width: u32,
    /// Height of the output picture in pixels.
    #[schemars(range(min = 16, max = 8192))]
    pub height: u32,
    /// Text drawn centred at the top of each tile, by input: the first over `in1`,
    /// the second over `in2`, and so on; none by default.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 9))]
    pub labels: Vec<String>,
}

impl Default for MosaicParams {
    fn default() -> Self {
        MosaicParams {
            columns: None,
            width: DEFAULT_WIDTH,
            height: DEFAULT_HEIGHT,
            labels: Vec::new(),
        }
    }
}

/// The `mosaic` node kind.
pub struct Mosaic;

const PORTS: &[InputPortSpec] = &[
    required_input("in1"),
    optional_input("in2"),
    optional_input("in3"),
    optional_input("in4"),
    optional_input("in5"),
    optional_input("in6"),
    optional_input("in7"),
    optional_input("in8"),
    optional_input("in9"),
];

impl NodeKind for Mosaic {
    type Params = MosaicParams;
    const NAME: &'static str = "mosaic";
    const DESCRIPTION: &'static str =
        "shows the connected inputs `in1` to `in9` in a grid, each scaled to fit its tile; in1 sets the pace";
    const INPUTS: &'static [InputPortSpec] = PORTS;
    const OUTPUTS: &'static [OutputPortSpec] = &[PACKED_OUT];

    fn output_formats(_params: &MosaicParams, _port: &OutputPortSpec, input: FormatSet) -> FormatSet {
        output_formats(input)
    }

    fn check(params: &MosaicParams) -> Vec<ParamIssue> {
        if params.labels.len() <= PORTS.len() {
            return Vec::new();
        }
        vec![
            ParamIssue::new("labels", format!("`labels` has {} entries", params.labels.len()))
                .with_hint("give at most nine, one per input from `in1` to `in9`"),
        ]
    }

    fn build(params: &MosaicParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(compositor_node(
            Self::NAME,
            PORTS,
            MosaicNode {
                columns: params.columns.map(|c| c as usize),
                width: params.width,
                height: params.height,
                labels: params.labels.clone(),
                tiles: Vec::new(),
            },
        ))
    }
}

/// One tile: the input it shows and where.
struct Tile {
    /// Index of the input in port order (0 is `in1`).
    input: usize,
    cell: Rect,
    fitter: Fitter,
}

struct MosaicNode {
    columns: Option<usize>,
    width: u32,
    height: u32,
    labels: Vec<String>,
    /// One per connected input, in port order; laid out at start.
    tiles: Vec<Tile>,
}

/// Columns and rows of the grid for `count` tiles.
fn grid(count: usize, columns: Option<usize>) -> (usize, usize) {
    let columns = columns
        .unwrap_or_else(|| (1..).find(|c| c * c >= count).unwrap_or(1))
        .max(1);
    (columns, count.div_ceil(columns).max(1))
}

impl Compose for MosaicNode {
    fn start(&mut self, connected: &[bool]) {
        let inputs: Vec<usize> = std::iter::once(0)
            .chain((1..=connected.len()).filter(|&i| connected[i - 1]))
            .collect();
        let (columns, rows) = grid(inputs.len(), self.columns);
        let (width, height) = (self.width as usize, self.height as usize);
        self.tiles = inputs
            .into_iter()
            .enumerate()
            .map(|(k, input)| {
                let (column, row) = (k % columns, k / columns);
                let (x0, x1) = (column * width / columns, (column + 1) * width / columns);
                let (y0, y1) = (row * height / rows, (row + 1) * height / rows);
                Tile {
                    input,
                    cell: Rect {
                        x: x0,
                        y: y0,
                        width: x1 - x0,
                        height: y1 - y0,
                    },
                    fitter: Fitter::default(),
                }
            })
            .collect();
    }

    /// An input that has sent no frame yet shows as a black tile.
    fn compose(&mut self, main: &Frame, others: &[Option<Frame>], ctx: &NodeContext) -> Result<Frame, NodeError> {
        let first = RawView::of(main, Mosaic::NAME, ALL_RAW)?;
        let format = output_format(first.format);
        let mut views = Vec::with_capacity(self.tiles.len());
        for tile in &self.tiles {
            let frame = if tile.input == 0 {
                Some(main)
            } else {
                others[tile.input - 1].as_ref()
            };
            views.push(match frame {
                Some(frame) => Some(RawView::of(frame, Mosaic::NAME, ALL_RAW)?),
                None => None,
            });
        }
        let scale = label_scale(self.height as usize / grid(self.tiles.len(), self.columns).1);
        new_picture(ctx, main, format, self.width, self.height, |out| {
            fill_black(out);
            for (tile, view) in self.tiles.iter_mut().zip(&views) {
                if let Some(view) = view {
                    let place = fit_within(view.width, view.height, tile.cell);
                    let fitted = tile.fitter.fit(view, format, place.width, place.height)?;
                    blit(&fitted, out, place.x, place.y);
                }
                if let Some(label) = self.labels.get(tile.input) {
                    draw_label(out, tile.cell, label, scale);
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use ooblex_runtime::testing::{Harness, frame_from_fn};
    use ooblex_runtime::{Frame, PixelFormat};
    use serde_json::json;

    use super::grid;
    use crate::test_util::kind;

    fn flat(width: u32, height: u32, rgb: [u8; 3]) -> Frame {
        frame_from_fn(PixelFormat::Rgb24, width, height, 3, move |_, _, c| rgb[c])
    }

    fn pixel(frame: &Frame, x: usize, y: usize) -> [u8; 3] {
        let at = (y * frame.width as usize + x) * 3;
        let bytes = frame.buffer.as_slice();
        [bytes[at], bytes[at + 1], bytes[at + 2]]
    }

    #[test]
    fn default_grids_are_the_smallest_squares() {
        assert_eq!(grid(1, None), (1, 1));
        assert_eq!(grid(2, None), (2, 1));
        assert_eq!(grid(4, None), (2, 2));
        assert_eq!(grid(5, None), (3, 2));
        assert_eq!(grid(9, None), (3, 3));
        assert_eq!(grid(3, Some(1)), (1, 3));
    }

    #[test]
    fn connected_inputs_fill_the_grid_in_port_order() {
        let (red, green, blue) = ([255, 0, 0], [0, 255, 0], [0, 0, 255]);
        let out = Harness::new(&kind("mosaic"), json!({ "width": 40, "height": 20 }))
            .input("in1", vec![flat(20, 10, red)])
            .input("in3", vec![flat(20, 10, green)])
            .input("in9", vec![flat(40, 20, blue)])
            .input("in2", vec![])
            .run();
        out.result.as_ref().expect("runs cleanly");
        let frame = &out.video()[0];
        assert_eq!((frame.width, frame.height, frame.seq), (40, 20, 3));
        // Four inputs: a 2x2 grid of 20x10 cells; in2 has sent nothing yet.
        assert_eq!(pixel(frame, 5, 5), red);
        assert_eq!(pixel(frame, 25, 5), [0, 0, 0], "in2: black until its first frame");
        assert_eq!(pixel(frame, 5, 15), green);
        assert_eq!(pixel(frame, 25, 15), blue);
    }

    #[test]
    fn tiles_keep_their_aspect_with_black_bars() {
        let out = Harness::new(&kind("mosaic"), json!({ "width": 40, "height": 20, "columns": 1 }))
            .input("in1", vec![flat(10, 10, [200, 200, 200])])
            .run();
        let frame = &out.video()[0];
        assert_eq!(pixel(frame, 20, 10), [200, 200, 200]);
        assert_eq!(pixel(frame, 5, 10), [0, 0, 0], "pillarbox");
    }

    #[test]
    fn labels_follow_their_inputs() {
        let out = Harness::new(
            &kind("mosaic"),
            json!({ "width": 160, "height": 80, "labels": ["one", "two"] }),
        )
        .input("in1", vec![flat(16, 8, [90, 90, 90])])
        .input("in2", vec![flat(16, 8, [90, 90, 90])])
        .run();
        let frame = &out.video()[0];
        // 80x80 cells; "one" is 24x8 at scale 1, in a 28x12 box centred at the top.
        let white = |x0: usize| (x0..x0 + 28).any(|x| (2..14).any(|y| pixel(frame, x, y) == [255, 255, 255]));
        assert!(white(26) && white(80 + 26));
        assert_eq!(pixel(frame, 25, 3), [0, 0, 0], "letterbox above the tile's picture");
    }

    #[test]
    fn params_are_checked() {
        assert!(kind("mosaic").prepare(json!({ "columns": 0 })).is_err());
        assert!(kind("mosaic").prepare(json!({ "width": 8 })).is_err());
        let ten: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        assert!(kind("mosaic").prepare(json!({ "labels": ten })).is_err());
    }
}
