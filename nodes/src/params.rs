//! Param types shared by several node kinds.

use ooblex_runtime::PixelFormat;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A raw pixel format as written in graph files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RawFormat {
    /// Packed 8-bit R, G, B.
    Rgb24,
    /// Packed 8-bit R, G, B, A.
    Rgba,
    /// Planar Y, U, V with chroma at half width and height (BT.601 limited range).
    I420,
    /// Planar Y and interleaved U/V at half width and height (BT.601 limited range).
    Nv12,
    /// One 8-bit full-range luma plane.
    Gray8,
}

impl From<RawFormat> for PixelFormat {
    fn from(format: RawFormat) -> PixelFormat {
        match format {
            RawFormat::Rgb24 => PixelFormat::Rgb24,
            RawFormat::Rgba => PixelFormat::Rgba,
            RawFormat::I420 => PixelFormat::I420,
            RawFormat::Nv12 => PixelFormat::Nv12,
            RawFormat::Gray8 => PixelFormat::Gray8,
        }
    }
}
