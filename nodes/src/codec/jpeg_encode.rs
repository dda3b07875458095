//! `jpeg_encode`: raw video to JPEG pictures.

use ooblex_runtime::{
    Buffer, Codec, Frame, FrameAllocator, InputPortSpec, MediaType, Node, NodeContext, NodeError, NodeKind,
    OutputPortSpec, Transform, VIDEO_IN, transform_node,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::media::jpeg;
use crate::media::raw::{ALL_RAW, RawView};
use crate::media::turbojpeg::TurboEncoder;

/// Default JPEG quality.
pub const DEFAULT_QUALITY: u8 = 80;

/// The `jpeg` output of JPEG encoders.
pub(crate) const JPEG_OUT: OutputPortSpec = OutputPortSpec::encoded("jpeg", MediaType::Jpeg);

/// Params of `jpeg_encode`. Changing them restarts the node.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct JpegEncodeParams {
    /// JPEG quality, 1 (smallest) to 100 (best). Below 90 chroma is subsampled 4:2:0.
    #[schemars(range(min = 1, max = 100))]
    pub quality: u8,
}

impl Default for JpegEncodeParams {
    fn default() -> Self {
        JpegEncodeParams {
            quality: DEFAULT_QUALITY,
        }
    }
}

/// The `jpeg_encode` node kind.
pub struct JpegEncode;

impl NodeKind for JpegEncode {
    type Params = JpegEncodeParams;
    const NAME: &'static str = "jpeg_encode";
    const DESCRIPTION: &'static str = "encodes raw video into JPEG pictures";
    const INPUTS: &'static [InputPortSpec] = &[VIDEO_IN];
    const OUTPUTS: &'static [OutputPortSpec] = &[JPEG_OUT];

    fn build(params: &JpegEncodeParams) -> Result<Box<dyn Node>, NodeError> {
        Ok(transform_node(JpegEncodeNode {
            encoder: FrameEncoder::new(Self::NAME, params.quality),
        }))
    }
}

struct JpegEncodeNode {
    encoder: FrameEncoder,
}

impl Transform for JpegEncodeNode {
    fn process(&mut self, frame: Frame, ctx: &NodeContext) -> Result<Option<Frame>, NodeError> {
        let data = self.encoder.encode(&frame, &ctx.alloc)?;
        Ok(Some(frame.with_encoded(data, Codec::Jpeg, true)))
    }
}

/// Encodes raw frames into JPEG buffers for node kind `node`, with
/// libjpeg-turbo where the machine has it (`libturbojpeg0`), otherwise with
/// the pure-Rust encoder; the log says once which.
pub(crate) struct FrameEncoder {
    node: &'static str,
    quality: u8,
    turbo: Option<TurboEncoder>,
    /// Where pictures are encoded before they go into a pooled buffer; it
    /// keeps the room of the largest so far.
    scratch: Vec<u8>,
}

impl FrameEncoder {
    /// An encoder at `quality` (1..=100).
    pub fn new(node: &'static str, quality: u8) -> FrameEncoder {
        static SAID: std::sync::Once = std::sync::Once::new();
        let turbo = TurboEncoder::new();
        SAID.call_once(|| match &turbo {
            Ok(_) => tracing::info!("JPEG is encoded with libjpeg-turbo"),
            Err(why) => tracing::info!(
                "JPEG is encoded with the built-in encoder, several times slower than libjpeg-turbo ({why}; \
                 install it with `apt-get install libturbojpeg0`)"
            ),
        });
        FrameEncoder {
            node,
            quality,
            turbo: turbo.ok(),
            scratch: Vec::new(),
        }
    }

    /// The JPEG file of a raw `frame`, in a buffer from `alloc`.
    ///
    /// The size is known only once encoded, so the picture is encoded into a
    /// reused vector and copied into a buffer of its size class (a copy is
    /// far cheaper than the encoding, and than fresh memory every frame).
    pub fn encode(&mut self, frame: &Frame, alloc: &FrameAllocator) -> Result<Buffer, NodeError> {
        let view = RawView::of(frame, self.node, ALL_RAW)?;
        self.scratch.clear();
        match &mut self.turbo {
            Some(turbo) => turbo.encode(&view, self.quality, &mut self.scratch),
            None => jpeg::encode(&view, self.quality, &mut self.scratch),
        }
        .map_err(|err| NodeError::frame(format!("`{}`: {err}", self.node)))?;
        Ok(alloc.copy_from(&self.scratch))
    }
}

#[cfg(test)]
mod tests {
    use ooblex_runtime::PixelFormat;
    use ooblex_runtime::testing::frame_from_fn;
    use serde_json::json;

    use super::*;
    use crate::test_util::{kind, run_transform};

    #[test]
    fn output_decodes_to_the_input_size() {
        for format in PixelFormat::RAW {
            let input = frame_from_fn(format, 50, 30, 9, |x, y, c| (x * 4 + y * 2 + c * 60) as u8);
            let out = run_transform("jpeg_encode", json!({ "quality": 70 }), vec![input]);
            let frame = &out[0];
            assert_eq!(
                (frame.format, frame.width, frame.height, frame.seq),
                (PixelFormat::Encoded(Codec::Jpeg), 50, 30, 9)
            );
            assert!(frame.planes.is_empty());
            let decoded = image::load_from_memory_with_format(frame.buffer.as_slice(), image::ImageFormat::Jpeg)
                .expect("the output is a JPEG file");
            assert_eq!((decoded.width(), decoded.height()), (50, 30), "{format}");
        }
    }

    #[test]
    fn pictures_are_encoded_into_pooled_buffers() {
        let pool = FrameAllocator::new();
        let mut encoder = FrameEncoder::new("jpeg_encode", 80);
        let input = frame_from_fn(PixelFormat::Rgb24, 64, 48, 0, |x, y, c| (x * 3 + y + c * 40) as u8);
        let first = encoder.encode(&input, &pool).expect("encodes");
        let address = first.as_ptr();
        assert!(pool.stats().in_use_bytes >= first.len());
        drop(first);
        let second = encoder.encode(&input, &pool).expect("encodes");
        assert_eq!(second.as_ptr(), address, "the next picture reuses the buffer");
        assert_eq!(&second.as_slice()[..2], [0xff, 0xd8], "a JPEG file");
    }

    #[test]
    fn quality_is_range_checked() {
        assert!(kind("jpeg_encode").prepare(json!({ "quality": 0 })).is_err());
        assert!(kind("jpeg_encode").prepare(json!({ "quality": 101 })).is_err());
        assert!(kind("jpeg_encode").prepare(json!({ "quality": 100 })).is_ok());
    }

    #[test]
    fn the_output_port_is_jpeg() {
        let info = kind("jpeg_encode");
        assert_eq!((info.outputs[0].name, info.outputs[0].media), ("jpeg", MediaType::Jpeg));
    }
}
