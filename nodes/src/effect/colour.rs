//! [`Colour`]: a colour param, written `"#rrggbb"`, `"#rgb"` or as a CSS name.

use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::media::canvas::Paint;
use crate::media::pixels::{luma, rgb_to_yuv};

/// The CSS colour names a [`Colour`] can be written as.
const NAMES: [(&str, [u8; 3]); 20] = [
    ("black", [0, 0, 0]),
    ("white", [255, 255, 255]),
    ("gray", [128, 128, 128]),
    ("grey", [128, 128, 128]),
    ("silver", [192, 192, 192]),
    ("red", [255, 0, 0]),
    ("maroon", [128, 0, 0]),
    ("orange", [255, 165, 0]),
    ("yellow", [255, 255, 0]),
    ("olive", [128, 128, 0]),
    ("lime", [0, 255, 0]),
    ("green", [0, 128, 0]),
    ("cyan", [0, 255, 255]),
    ("aqua", [0, 255, 255]),
    ("teal", [0, 128, 128]),
    ("blue", [0, 0, 255]),
    ("navy", [0, 0, 128]),
    ("magenta", [255, 0, 255]),
    ("fuchsia", [255, 0, 255]),
    ("purple", [128, 0, 128]),
];

/// An opaque RGB colour, written `"#00ff00"`, `"#0f0"` or as a CSS name
/// (`lime`, `red`, `white`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour(pub [u8; 3]);

impl Colour {
    /// Black.
    pub const BLACK: Colour = Colour([0, 0, 0]);
    /// White.
    pub const WHITE: Colour = Colour([255, 255, 255]);
    /// Pure green (`#00ff00`, CSS `lime`).
    pub const LIME: Colour = Colour([0, 255, 0]);

    /// The colour ready to draw in any raw format.
    pub(crate) fn paint(self) -> Paint {
        Paint::rgb(self.0)
    }

    /// Full-range luma.
    pub(crate) fn luma(self) -> u8 {
        let [r, g, b] = self.0;
        luma(r, g, b)
    }

    /// Limited-range Y, U and V (BT.601).
    pub(crate) fn yuv(self) -> (u8, u8, u8) {
        rgb_to_yuv(self.0)
    }

    /// Black or white, whichever reads better on this colour.
    pub(crate) fn contrasting(self) -> Colour {
        if self.luma() >= 128 {
            Colour::BLACK
        } else {
            Colour::WHITE
        }
    }
}

/// Why a string is not a [`Colour`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseColourError(String);

impl fmt::Display for ParseColourError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a colour; hint: write `#rrggbb`, `#rgb` or a name such as lime, red, white",
            self.0
        )
    }
}

impl std::error::Error for ParseColourError {}

impl FromStr for Colour {
    type Err = ParseColourError;

    fn from_str(s: &str) -> Result<Colour, ParseColourError> {
        let err = || ParseColourError(s.to_string());
        let lower = s.trim().to_ascii_lowercase();
        if let Some((_, rgb)) = NAMES.iter().find(|(name, _)| *name == lower) {
            return Ok(Colour(*rgb));
        }
        let hex = lower.strip_prefix('#').ok_or_else(err)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err());
        }
        let digit = |i: usize| u8::from_str_radix(&hex[i..=i], 16).map_err(|_| err());
        match hex.len() {
            3 => Ok(Colour([digit(0)? * 17, digit(1)? * 17, digit(2)? * 17])),
            6 => {
                let byte = |i: usize| Ok::<u8, ParseColourError>(digit(2 * i)? * 16 + digit(2 * i + 1)?);
                Ok(Colour([byte(0)?, byte(1)?, byte(2)?]))
            }
            _ => Err(err()),
        }
    }
}

impl fmt::Display for Colour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [r, g, b] = self.0;
        write!(f, "#{r:02x}{g:02x}{b:02x}")
    }
}

impl Serialize for Colour {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Colour {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Colour, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Colour {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Colour".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = NAMES.iter().map(|(name, _)| *name).collect();
        let pattern = format!("^(#[0-9a-fA-F]{{3}}|#[0-9a-fA-F]{{6}}|{})$", names.join("|"));
        schemars::json_schema!({
            "type": "string",
            "pattern": pattern,
            "examples": ["#00ff00", "white"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_hex_short_hex_and_names() {
        assert_eq!("#00ff00".parse(), Ok(Colour([0, 255, 0])));
        assert_eq!("#F80".parse(), Ok(Colour([255, 136, 0])));
        assert_eq!("Lime".parse(), Ok(Colour::LIME));
        assert_eq!("grey".parse::<Colour>(), "gray".parse());
    }

    #[test]
    fn rejects_what_is_not_a_colour_with_a_hint() {
        for bad in ["", "#", "#12", "#12345", "#gg0000", "00ff00", "chartreuse", "#ff00ff00"] {
            let err = bad.parse::<Colour>().expect_err(bad).to_string();
            assert!(err.contains(&format!("`{bad}`")) && err.contains("hint:"), "{err}");
        }
    }

    #[test]
    fn round_trips_through_serde_as_hex() {
        let colour: Colour = serde_json::from_value(serde_json::json!("orange")).expect("a name");
        assert_eq!(serde_json::to_value(colour).expect("a string"), "#ffa500");
    }

    #[test]
    fn every_name_matches_the_schema_pattern() {
        let schema = Colour::json_schema(&mut SchemaGenerator::default());
        let pattern = schema.get("pattern").and_then(|p| p.as_str()).expect("a pattern");
        for (name, _) in NAMES {
            assert!(pattern.contains(&format!("|{name}|")) || pattern.contains(&format!("|{name})")));
        }
    }
}
