//! The built-in Ooblex node kinds: sources, effects, format conversion, codecs
//! and sinks, each a unit type implementing [`ooblex_runtime::NodeKind`].
//!
//! [`registry`] returns a [`Registry`] holding every kind; [`register_all`]
//! adds them to an existing one.
//!
//! ```
//! let registry = ooblex_nodes::registry();
//! let blur = registry.get("blur").expect("blur is a built-in kind");
//! assert!(blur.prepare(serde_json::json!({ "radius": 4 })).is_ok());
//! assert!(blur.prepare(serde_json::json!({ "radius": 1000 })).is_err());
//! ```

mod codec;
mod compose;
mod effect;
mod format;
#[cfg(feature = "gstreamer")]
mod gst;
mod infer;
#[cfg(feature = "hosts")]
mod link;
mod media;
mod params;
mod sink;
mod source;
#[cfg(test)]
mod test_util;

use ooblex_runtime::Registry;

pub use codec::h264_decode::{H264Decode, H264DecodeParams};
pub use codec::h264_encode::{H264Encode, H264EncodeParams, H264Profile};
pub use codec::jpeg_encode::{JpegEncode, JpegEncodeParams};
pub use compose::blend::{Blend, BlendMode, BlendParams};
pub use compose::mosaic::{Mosaic, MosaicParams};
pub use compose::overlay::{Corner, Overlay, OverlayParams};
pub use compose::side_by_side::{SideBySide, SideBySideParams};
pub use effect::blur::{Blur, BlurParams};
pub use effect::cartoon::{Cartoon, CartoonParams};
pub use effect::colour::{Colour, ParseColourError};
pub use effect::draw_detections::{DrawDetections, DrawDetectionsParams};
pub use effect::edge_detect::{EdgeDetect, EdgeDetectParams};
pub use effect::grayscale::{Grayscale, GrayscaleParams};
pub use effect::invert::{Invert, InvertParams};
pub use effect::mirror::{Mirror, MirrorAxis, MirrorParams};
pub use effect::pixelate::{Pixelate, PixelateParams};
pub use effect::sepia::{Sepia, SepiaParams};
pub use format::convert::{Convert, ConvertParams};
pub use format::scale::{Scale, ScaleFilter, ScaleParams};
#[cfg(feature = "gstreamer")]
pub use gst::gst_sink::{GstSink, GstSinkParams};
#[cfg(feature = "gstreamer")]
pub use gst::gst_source::{GstSource, GstSourceParams};
#[cfg(feature = "gstreamer")]
pub use gst::rtmp_sink::{RtmpSink, RtmpSinkParams};
#[cfg(feature = "gstreamer")]
pub use gst::rtsp_source::{RtspSource, RtspSourceParams, RtspTransport};
#[cfg(feature = "gstreamer")]
pub use gst::uri_source::{UriSource, UriSourceParams};
#[cfg(feature = "gstreamer")]
pub use gst::webcam_source::{WebcamSource, WebcamSourceParams};
pub use infer::background::{
    BackgroundBlur, BackgroundBlurParams, BackgroundRemove, BackgroundRemoveParams, BackgroundReplace,
    BackgroundReplaceParams, RemoveOutput,
};
pub use infer::face_detect::{FaceDetect, FaceDetectParams};
pub use infer::face_redact::{FaceBlur, FacePixelate, FaceRedactParams, FaceSource};
pub use infer::face_swap::{FaceSwap, FaceSwapParams};
pub use infer::generic::{FitParam, Infer, InferParams};
pub use infer::object_detect::{ObjectDetect, ObjectDetectParams};
pub use infer::params::{BackendChoosesThreads, DefaultThreads, InferenceParams, OneThread};
pub use infer::style_transfer::{StyleRef, StyleTransfer, StyleTransferParams};
#[cfg(feature = "hosts")]
pub use link::links;
#[cfg(feature = "hosts")]
pub use link::zenoh_sink::{Congestion, Encode, ZenohSink, ZenohSinkParams};
#[cfg(feature = "hosts")]
pub use link::zenoh_source::{ReceivePolicy, ZenohSource, ZenohSourceParams};
pub use params::RawFormat;
pub use sink::hls_sink::{HlsSink, HlsSinkParams};
pub use sink::json_sink::{JsonSink, JsonSinkParams};
pub use sink::mjpeg_sink::{MjpegSink, MjpegSinkParams};
pub use sink::mp4_sink::{Mp4Sink, Mp4SinkParams};
pub use sink::null_sink::{NullSink, NullSinkParams};
pub use sink::y4m_sink::{Y4mSink, Y4mSinkParams};
pub use source::image_source::{ImageSource, ImageSourceParams};
pub use source::rtmp_source::{RtmpSource, RtmpSourceParams};
pub use source::test_pattern::{Pattern, TestPattern, TestPatternParams};
pub use source::y4m_source::{Y4mSource, Y4mSourceParams};

/// Adds every built-in node kind to `registry`.
pub fn register_all(registry: &mut Registry) {
    registry.register::<TestPattern>();
    registry.register::<ImageSource>();
    registry.register::<Y4mSource>();
    registry.register::<RtmpSource>();
    registry.register::<Grayscale>();
    registry.register::<Pixelate>();
    registry.register::<Mirror>();
    registry.register::<Blur>();
    registry.register::<Sepia>();
    registry.register::<Invert>();
    registry.register::<EdgeDetect>();
    registry.register::<Cartoon>();
    registry.register::<DrawDetections>();
    registry.register::<SideBySide>();
    registry.register::<Mosaic>();
    registry.register::<Blend>();
    registry.register::<Overlay>();
    registry.register::<Scale>();
    registry.register::<Convert>();
    registry.set_converter(Convert::converter());
    registry.register::<JpegEncode>();
    registry.register::<H264Encode>();
    registry.register::<H264Decode>();
    registry.register::<Y4mSink>();
    registry.register::<MjpegSink>();
    registry.register::<HlsSink>();
    registry.register::<Mp4Sink>();
    registry.register::<JsonSink>();
    registry.register::<NullSink>();
    registry.register::<Infer>();
    registry.register::<FaceDetect>();
    registry.register::<FaceBlur>();
    registry.register::<FacePixelate>();
    registry.register::<FaceSwap>();
    registry.register::<ObjectDetect>();
    registry.register::<BackgroundBlur>();
    registry.register::<BackgroundReplace>();
    registry.register::<BackgroundRemove>();
    registry.register::<StyleTransfer>();
    #[cfg(feature = "hosts")]
    {
        registry.register::<ZenohSource>();
        registry.register::<ZenohSink>();
        registry.set_links(links());
    }
    #[cfg(not(feature = "hosts"))]
    registry.not_built(
        &["zenoh_source", "zenoh_sink"],
        "it comes with the `hosts` feature: rebuild with `cargo build --release --features hosts` \
         (see the README)",
    );
    #[cfg(not(feature = "gstreamer"))]
    registry.not_built(
        &[
            "gst_source",
            "uri_source",
            "rtsp_source",
            "webcam_source",
            "gst_sink",
            "rtmp_sink",
        ],
        "it comes with the `gstreamer` feature: install Debian's GStreamer 1.22 packages and \
         rebuild with `cargo build --release --features gstreamer` (see the README)",
    );
    #[cfg(feature = "gstreamer")]
    {
        registry.register::<GstSource>();
        registry.register::<UriSource>();
        registry.register::<RtspSource>();
        registry.register::<WebcamSource>();
        registry.register::<GstSink>();
        registry.register::<RtmpSink>();
    }
}

/// A registry holding every built-in node kind.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    register_all(&mut registry);
    registry
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    #[test]
    fn every_param_is_described_for_editors() {
        for kind in super::registry().kinds() {
            assert!(
                !kind.description.is_empty() && !kind.description.ends_with('.'),
                "`{}`",
                kind.name
            );
            let schema = kind.standalone_params_schema();
            let properties = schema.get("properties").and_then(Value::as_object);
            for (field, property) in properties.into_iter().flatten() {
                let described = property
                    .get("description")
                    .and_then(Value::as_str)
                    .is_some_and(|d| !d.is_empty());
                assert!(described, "`{}.{field}` has no description: {property}", kind.name);
            }
        }
    }

    #[test]
    fn defaults_show_in_the_schema() {
        let registry = super::registry();
        let schema = registry
            .get("test_pattern")
            .expect("registered")
            .standalone_params_schema();
        let width = &schema.get("properties").expect("a struct schema")["width"];
        assert_eq!(
            (width["default"].as_u64(), width["minimum"].as_u64()),
            (Some(640), Some(16))
        );
    }
}
