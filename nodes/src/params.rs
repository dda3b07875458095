//! Param types shared by several node kinds.

use std::path::Path;

use ooblex_runtime::{ParamIssue, PixelFormat};
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

/// A `path` issue when `path` is not an existing file.
pub(crate) fn check_file(path: &str, what: &str) -> Vec<ParamIssue> {
    check_file_param("path", path, what)
}

/// Checks that `path`, the value of param `field`, is an existing file.
pub(crate) fn check_file_param(field: &str, path: &str, what: &str) -> Vec<ParamIssue> {
    if Path::new(path).is_file() {
        return Vec::new();
    }
    let cwd = std::env::current_dir().map_or_else(|_| "?".to_string(), |d| d.display().to_string());
    vec![
        ParamIssue::new(field, format!("`{path}` does not exist or is not a file"))
            .with_hint(format!("give the path of {what}; relative paths start at {cwd}")),
    ]
}

/// Checks that the file at `path` (a sink's output) can be created: its folder exists.
pub(crate) fn check_output_dir(path: &str) -> Vec<ParamIssue> {
    let dir = match Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => return Vec::new(),
    };
    if dir.is_dir() {
        return Vec::new();
    }
    vec![
        ParamIssue::new("path", format!("the folder `{}` does not exist", dir.display()))
            .with_hint("create it first, or write the file somewhere that exists"),
    ]
}
