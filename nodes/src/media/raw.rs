//! Checked views of raw frames.
//!
//! A frame that arrives on an edge may come from anywhere (another process,
//! a buggy node), so its planes are checked against its format and buffer once,
//! in [`RawView::of`]; code that holds a view can then index rows freely.
//! [`RawMut`] splits a freshly allocated, tightly packed buffer into planes.

use ooblex_runtime::{
    FormatSet, Frame, Gives, InputPortSpec, NodeContext, NodeError, OutputPortSpec, PixelFormat, PlaneLayout, Planes,
};

/// Every raw pixel format, for nodes that accept them all.
pub(crate) const ALL_RAW: FormatSet = FormatSet::ALL_RAW;

/// Packed 8-bit RGB, with or without alpha: what models and colour effects take.
pub(crate) const PACKED_RGB: FormatSet = FormatSet::PACKED_RGB;

/// The `video` input of kinds that take packed RGB only; the graph converts
/// other formats on the edge.
pub(crate) const PACKED_RGB_IN: InputPortSpec = InputPortSpec::video(PACKED_RGB);

/// The `video` output of kinds that give I420 only (decoders, GStreamer captures).
pub(crate) const I420_OUT: OutputPortSpec = OutputPortSpec::video(Gives::Only(FormatSet::of(&[PixelFormat::I420])));

/// Bytes of one row of `plane`, without padding.
fn row_bytes(plane: &PlaneLayout) -> usize {
    plane.width * plane.bytes_per_pixel
}

/// Bytes of a tightly packed `width` x `height` frame of `format`.
pub(crate) fn frame_bytes(format: PixelFormat, width: usize, height: usize) -> usize {
    format.frame_size(width as u32, height as u32)
}

/// The tightly packed planes of a `width` x `height` frame of `format`.
fn layouts(format: PixelFormat, width: usize, height: usize) -> Planes {
    format.planes(width as u32, height as u32)
}

/// One plane of a checked frame.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Plane<'a> {
    data: &'a [u8],
    stride: usize,
    shape: PlaneLayout,
}

impl<'a> Plane<'a> {
    /// Pixels per row.
    pub fn width(&self) -> usize {
        self.shape.width
    }

    /// Rows.
    pub fn height(&self) -> usize {
        self.shape.height
    }

    /// Bytes per pixel.
    pub fn bpp(&self) -> usize {
        self.shape.bytes_per_pixel
    }

    /// Bytes from the start of one row to the start of the next.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The plane's bytes from its first row on, padding included.
    pub fn bytes(&self) -> &'a [u8] {
        self.data
    }

    /// Row `y`, without padding.
    pub fn row(&self, y: usize) -> &'a [u8] {
        let start = y * self.stride;
        &self.data[start..start + row_bytes(&self.shape)]
    }

    /// Every row, top to bottom, without padding.
    pub fn rows(&self) -> impl DoubleEndedIterator<Item = &'a [u8]> + ExactSizeIterator + use<'a> {
        let plane = *self;
        (0..plane.shape.height).map(move |y| plane.row(y))
    }

    /// The plane's bytes when rows follow each other without padding.
    pub fn tight_bytes(&self) -> Option<&'a [u8]> {
        (self.stride == row_bytes(&self.shape)).then_some(self.data)
    }
}

/// A raw frame whose planes were checked against its format and buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawView<'a> {
    /// The pixel format (always a raw one).
    pub format: PixelFormat,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    planes: [Plane<'a>; 3],
    len: usize,
}

impl<'a> RawView<'a> {
    /// Checks `frame` for node kind `node`, whose input takes `accepted` formats.
    pub fn of(frame: &'a Frame, node: &str, accepted: FormatSet) -> Result<RawView<'a>, NodeError> {
        if !accepted.contains(frame.format) {
            return Err(unsupported(node, frame.format, accepted));
        }
        let (width, height) = (frame.width as usize, frame.height as usize);
        if width == 0 || height == 0 {
            return Err(NodeError::frame(format!(
                "`{node}` got an empty {width}x{height} frame"
            )));
        }
        let shapes = layouts(frame.format, width, height);
        if frame.planes.len() != shapes.len() {
            return Err(bad_layout(node, frame, "wrong number of planes"));
        }
        let bytes = frame.buffer.as_slice();
        let mut planes = [Plane::default(); 3];
        for ((layout, shape), plane) in frame.planes.iter().zip(shapes.iter()).zip(&mut planes) {
            if layout.width != shape.width
                || layout.height != shape.height
                || layout.bytes_per_pixel != shape.bytes_per_pixel
            {
                return Err(bad_layout(node, frame, "plane size does not match the frame size"));
            }
            if layout.stride < row_bytes(shape) {
                return Err(bad_layout(node, frame, "stride shorter than a row"));
            }
            let end = layout
                .stride
                .checked_mul(shape.height - 1)
                .and_then(|n| n.checked_add(row_bytes(shape)))
                .and_then(|n| n.checked_add(layout.offset));
            let Some(data) = end.and_then(|end| bytes.get(layout.offset..end)) else {
                return Err(bad_layout(node, frame, "plane runs past the end of the buffer"));
            };
            *plane = Plane {
                data,
                stride: layout.stride,
                shape: *shape,
            };
        }
        Ok(RawView {
            format: frame.format,
            width,
            height,
            planes,
            len: shapes.len(),
        })
    }

    /// A view of tightly packed bytes made by this crate (a template, a scratch buffer).
    ///
    /// Panics when `data` is shorter than such a frame: a bug in the caller.
    pub fn tight(data: &'a [u8], format: PixelFormat, width: usize, height: usize) -> RawView<'a> {
        let shapes = layouts(format, width, height);
        assert!(
            data.len() >= frame_bytes(format, width, height),
            "a tight {format} buffer holds a whole {width}x{height} frame"
        );
        let mut planes = [Plane::default(); 3];
        let mut offset = 0;
        for (shape, plane) in shapes.iter().zip(&mut planes) {
            let len = row_bytes(shape) * shape.height;
            *plane = Plane {
                data: &data[offset..offset + len],
                stride: row_bytes(shape),
                shape: *shape,
            };
            offset += len;
        }
        RawView {
            format,
            width,
            height,
            planes,
            len: shapes.len(),
        }
    }

    /// The planes, in format order.
    pub fn planes(&self) -> &[Plane<'a>] {
        &self.planes[..self.len]
    }

    /// Plane `index`; panics when the format has no such plane (a bug in the caller).
    pub fn plane(&self, index: usize) -> Plane<'a> {
        self.planes()[index]
    }
}

/// One plane of a frame being written, tightly packed.
#[derive(Debug, Default)]
pub(crate) struct PlaneMut<'a> {
    data: &'a mut [u8],
    shape: PlaneLayout,
}

impl<'a> PlaneMut<'a> {
    /// Pixels per row.
    pub fn width(&self) -> usize {
        self.shape.width
    }

    /// Rows.
    pub fn height(&self) -> usize {
        self.shape.height
    }

    /// Bytes per pixel.
    pub fn bpp(&self) -> usize {
        self.shape.bytes_per_pixel
    }

    /// Row `y`.
    pub fn row_mut(&mut self, y: usize) -> &mut [u8] {
        let len = row_bytes(&self.shape);
        &mut self.data[y * len..(y + 1) * len]
    }

    /// Every row, top to bottom.
    pub fn rows_mut(&mut self) -> std::slice::ChunksExactMut<'_, u8> {
        self.data.chunks_exact_mut(row_bytes(&self.shape).max(1))
    }

    /// All bytes of the plane.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        self.data
    }
}

/// A tightly packed frame being written, split into its planes.
#[derive(Debug)]
pub(crate) struct RawMut<'a> {
    /// The pixel format (always a raw one).
    pub format: PixelFormat,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    planes: [PlaneMut<'a>; 3],
    len: usize,
}

impl<'a> RawMut<'a> {
    /// Splits `bytes` into the planes of a tight `width` x `height` frame of `format`.
    ///
    /// Panics when `bytes` is shorter than [`frame_bytes`]: a bug in the caller.
    pub fn new(bytes: &'a mut [u8], format: PixelFormat, width: usize, height: usize) -> RawMut<'a> {
        let shapes = layouts(format, width, height);
        assert!(
            bytes.len() >= frame_bytes(format, width, height),
            "a frame buffer is allocated with frame_bytes() for its format and size"
        );
        let mut planes: [PlaneMut<'a>; 3] = Default::default();
        let mut rest = bytes;
        for (shape, plane) in shapes.iter().zip(&mut planes) {
            let (data, tail) = rest.split_at_mut(row_bytes(shape) * shape.height);
            *plane = PlaneMut { data, shape: *shape };
            rest = tail;
        }
        RawMut {
            format,
            width,
            height,
            planes,
            len: shapes.len(),
        }
    }

    /// The planes, in format order.
    pub fn planes_mut(&mut self) -> &mut [PlaneMut<'a>] {
        &mut self.planes[..self.len]
    }
}

/// A new `width` x `height` picture in `format`, in a buffer from the node's
/// allocator filled by `draw`, with the timing, stream and metadata of `frame`.
pub(crate) fn new_picture(
    ctx: &NodeContext,
    frame: &Frame,
    format: PixelFormat,
    width: u32,
    height: u32,
    draw: impl FnOnce(&mut RawMut<'_>) -> Result<(), NodeError>,
) -> Result<Frame, NodeError> {
    let (w, h) = (width as usize, height as usize);
    let mut buffer = ctx.alloc.alloc(frame_bytes(format, w, h));
    draw(&mut RawMut::new(&mut buffer, format, w, h))?;
    Ok(frame.with_picture(buffer.freeze(), format, width, height))
}

/// The error for a frame in a format node kind `node` does not take. Raw
/// formats never get here through a graph, which converts frames on edges to
/// what inputs take: such a frame is a bug in the kind that sent it, which
/// gives formats its port does not declare.
pub(crate) fn unsupported(node: &str, format: PixelFormat, accepted: FormatSet) -> NodeError {
    let why = if PixelFormat::RAW.contains(&format) {
        "; this is a bug: the graph converts raw video on edges to the formats inputs take, \
         so the node upstream gives a format its port does not declare"
    } else {
        ""
    };
    NodeError::frame(format!(
        "`{node}` does not take `{format}` frames; it takes {accepted}{why}"
    ))
}

fn bad_layout(node: &str, frame: &Frame, what: &str) -> NodeError {
    NodeError::frame(format!(
        "`{node}` got a {}x{} {} frame with a broken layout ({what}; {} bytes in the buffer)",
        frame.width,
        frame.height,
        frame.format,
        frame.buffer.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ooblex_runtime::testing::frame_from_fn;

    #[test]
    fn a_short_buffer_is_a_frame_error() {
        let mut frame = frame_from_fn(PixelFormat::Rgb24, 4, 4, 0, |_, _, _| 0);
        frame.buffer = ooblex_runtime::Buffer::from_vec(vec![0; 10]);
        let err = RawView::of(&frame, "test", ALL_RAW).unwrap_err();
        assert!(matches!(err, NodeError::Frame(_)), "{err}");
    }

    #[test]
    fn an_encoded_frame_names_the_accepted_formats() {
        let mut frame = frame_from_fn(PixelFormat::Gray8, 4, 4, 0, |_, _, _| 0);
        frame.format = PixelFormat::Encoded(ooblex_runtime::Codec::Jpeg);
        let err = RawView::of(&frame, "blur", ALL_RAW).unwrap_err().to_string();
        assert!(
            err.contains("`jpeg`") && err.contains("rgb24, rgba, i420, nv12, gray8"),
            "{err}"
        );
    }
}
