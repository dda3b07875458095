//! Pixel-format negotiation between ports, as GStreamer does with caps: a raw
//! video input declares the [`PixelFormat`]s it takes, an output what it
//! gives ([`Gives`]), and where the two do not meet the graph converts on the
//! edge to the format that is cheapest to reach ([`FormatSet::conversion_target`]).

use std::fmt;

use crate::frame::PixelFormat;

/// A set of raw pixel formats.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FormatSet(u8);

/// The bit of a raw format; `None` for encoded and empty frames.
const fn bit(format: PixelFormat) -> Option<u8> {
    match format {
        PixelFormat::Rgb24 => Some(1),
        PixelFormat::Rgba => Some(1 << 1),
        PixelFormat::I420 => Some(1 << 2),
        PixelFormat::Nv12 => Some(1 << 3),
        PixelFormat::Gray8 => Some(1 << 4),
        PixelFormat::Encoded(_) | PixelFormat::Empty => None,
    }
}

impl FormatSet {
    /// No format.
    pub const EMPTY: FormatSet = FormatSet(0);
    /// Every raw format.
    pub const ALL_RAW: FormatSet = FormatSet::of(&PixelFormat::RAW);
    /// Packed 8-bit RGB with or without alpha, which most models and colour effects take.
    pub const PACKED_RGB: FormatSet = FormatSet::of(&[PixelFormat::Rgb24, PixelFormat::Rgba]);

    /// The set of `formats`; encoded and empty formats are left out.
    pub const fn of(formats: &[PixelFormat]) -> FormatSet {
        let mut bits = 0;
        let mut i = 0;
        while i < formats.len() {
            if let Some(b) = bit(formats[i]) {
                bits |= b;
            }
            i += 1;
        }
        FormatSet(bits)
    }

    /// Whether `format` is in the set.
    pub const fn contains(self, format: PixelFormat) -> bool {
        match bit(format) {
            Some(b) => self.0 & b != 0,
            None => false,
        }
    }

    /// Whether the set holds no format.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every format of `self` is in `other`.
    pub const fn is_subset(self, other: FormatSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// Formats in either set.
    pub const fn union(self, other: FormatSet) -> FormatSet {
        FormatSet(self.0 | other.0)
    }

    /// Formats in both sets.
    pub const fn intersection(self, other: FormatSet) -> FormatSet {
        FormatSet(self.0 & other.0)
    }

    /// The set as bits, for storing it in an atomic.
    pub(crate) const fn bits(self) -> u8 {
        self.0
    }

    /// The set of [`FormatSet::bits`].
    pub(crate) const fn from_bits(bits: u8) -> FormatSet {
        FormatSet(bits)
    }

    /// Formats of `self` not in `other`.
    pub const fn difference(self, other: FormatSet) -> FormatSet {
        FormatSet(self.0 & !other.0)
    }

    /// The formats, in [`PixelFormat::RAW`] order.
    pub fn iter(self) -> impl Iterator<Item = PixelFormat> {
        PixelFormat::RAW.into_iter().filter(move |f| self.contains(*f))
    }

    /// The format of this set that frames in `from` are converted to most
    /// cheaply (fewest operations per pixel, no needless loss of colour);
    /// ties go to the earlier format of [`PixelFormat::RAW`]. `None` when the
    /// set is empty.
    pub fn conversion_target(self, from: FormatSet) -> Option<PixelFormat> {
        self.iter()
            .min_by_key(|to| from.iter().map(|f| conversion_cost(f, *to)).sum::<u32>())
    }
}

/// Relative cost of converting one picture from `from` to `to`: a copy or
/// reshuffle of planes is cheap, a change of colour model costs most, and
/// dropping colour is dearer than keeping it so that gray8 is never picked
/// for colour pictures when a colour format is taken.
fn conversion_cost(from: PixelFormat, to: PixelFormat) -> u32 {
    use PixelFormat::{Gray8, I420, Nv12, Rgb24, Rgba};
    match (from, to) {
        _ if from == to => 0,
        (Rgb24, Rgba) | (Rgba, Rgb24) | (I420, Nv12) | (Nv12, I420) => 1,
        (Gray8, _) => 2,
        (I420 | Nv12, Rgb24 | Rgba) | (Rgb24 | Rgba, I420 | Nv12) => 3,
        (_, Gray8) => 4,
        _ => 5,
    }
}

impl fmt::Debug for FormatSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FormatSet({self})")
    }
}

/// Comma-separated names (`rgb24, rgba`); `none` when empty.
impl fmt::Display for FormatSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let names: Vec<&str> = self.iter().map(PixelFormat::name).collect();
        f.write_str(&names.join(", "))
    }
}

/// What pixel formats a raw-video output gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gives {
    /// The formats arriving on the node's first raw-video input (after any
    /// conversion on that edge): effects that keep the picture's format.
    AsInput,
    /// These formats, whatever comes in (a decoder's I420, a source's formats).
    Only(FormatSet),
}

impl Gives {
    /// The formats given when the first raw input carries `input`.
    pub fn resolve(self, input: FormatSet) -> FormatSet {
        match self {
            Gives::AsInput => input,
            Gives::Only(formats) => formats,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PixelFormat::{Gray8, I420, Nv12, Rgb24, Rgba};

    #[test]
    fn sets_hold_raw_formats_only() {
        let set = FormatSet::of(&[I420, PixelFormat::Encoded(crate::Codec::H264)]);
        assert!(set.contains(I420) && !set.contains(Rgb24));
        assert!(!set.contains(PixelFormat::Encoded(crate::Codec::H264)));
        assert_eq!(FormatSet::ALL_RAW.iter().count(), 5);
        assert_eq!(FormatSet::PACKED_RGB.to_string(), "rgb24, rgba");
        assert_eq!(FormatSet::EMPTY.to_string(), "none");
        assert!(FormatSet::PACKED_RGB.is_subset(FormatSet::ALL_RAW));
        assert_eq!(FormatSet::ALL_RAW.difference(FormatSet::PACKED_RGB).iter().count(), 3);
    }

    #[test]
    fn conversions_go_to_the_nearest_format() {
        let yuv = FormatSet::of(&[I420]);
        assert_eq!(FormatSet::PACKED_RGB.conversion_target(yuv), Some(Rgb24));
        assert_eq!(FormatSet::of(&[Nv12, Rgba]).conversion_target(yuv), Some(Nv12));
        assert_eq!(FormatSet::of(&[Rgba, Gray8]).conversion_target(yuv), Some(Rgba));
        assert_eq!(
            FormatSet::of(&[Gray8, I420]).conversion_target(FormatSet::of(&[Rgb24])),
            Some(I420)
        );
        assert_eq!(FormatSet::EMPTY.conversion_target(yuv), None);
    }
}
