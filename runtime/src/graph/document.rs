//! The YAML document as written: a tree of values, each with its place in the file.
//!
//! Loading happens in two stages. First the text becomes a [`Document`] (only
//! YAML syntax is checked here), then the document is read into typed specs,
//! and every later error points back into the file through [`Document::span_of`].

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A place in the graph file: 1-based line and column, and the byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Span {
    /// Line, counting from 1.
    pub line: u32,
    /// Column (in characters), counting from 1.
    pub column: u32,
    /// Byte offset of the first character.
    pub offset: usize,
    /// Length in bytes (at least 1 where the value is not empty).
    pub len: usize,
}

impl Span {
    fn from_location(location: &serde_saphyr::Location, source: &str) -> Span {
        let line = location.line() as u32;
        let column = location.column() as u32;
        let span = location.span();
        let offset = span
            .byte_offset()
            .map(|o| o as usize)
            .filter(|&o| o <= source.len())
            .unwrap_or_else(|| byte_offset(source, line, column));
        let len = span.byte_len().map_or(1, |l| l as usize).max(1);
        Span {
            line,
            column,
            offset,
            len: len.min(source.len().saturating_sub(offset)),
        }
    }
}

/// The byte offset of a 1-based line and column (in characters) in `source`.
pub(crate) fn byte_offset(source: &str, line: u32, column: u32) -> usize {
    let line_start: usize = source
        .split_inclusive('\n')
        .take(line.saturating_sub(1) as usize)
        .map(str::len)
        .sum();
    let rest = &source[line_start.min(source.len())..];
    line_start
        + rest
            .char_indices()
            .nth(column.saturating_sub(1) as usize)
            .map_or(rest.len(), |(i, _)| i)
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A YAML value with its span, and the spans of its keys and items.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the value starts.
    pub span: Span,
    /// The value.
    pub value: Value,
}

/// The shapes a YAML value can take.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    String(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in file order; duplicate keys are kept so they can be reported.
    Map(Vec<Entry>),
}

/// One key of a mapping with its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key.
    pub key: String,
    /// Where the key is.
    pub key_span: Span,
    /// The value.
    pub value: Node,
}

impl Value {
    /// A short name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// The entries when this is a mapping.
    pub fn entries(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The first entry named `key`, when this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries()?.iter().find(|e| e.key == key)
    }

    /// The value as JSON, for typed deserialization. Later duplicate keys win,
    /// but duplicates are reported before anything is deserialized.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::String(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(entries.iter().map(|e| (e.key.clone(), e.value.to_json())).collect()),
        }
    }

    /// The span of the value at `path` (keys and list indexes as strings),
    /// or of the deepest part of it that exists. With `key` set, the span of the
    /// last key rather than its value.
    pub fn span_at(&self, path: &[String], key: bool) -> Span {
        let Some((first, rest)) = path.split_first() else {
            return self.span;
        };
        match &self.value {
            Value::Map(entries) => match entries.iter().rev().find(|e| &e.key == first) {
                Some(entry) if rest.is_empty() && key => entry.key_span,
                Some(entry) => entry.value.span_at(rest, key),
                None => self.span,
            },
            Value::Seq(items) => match first.parse::<usize>().ok().and_then(|i| items.get(i)) {
                Some(item) => item.span_at(rest, key),
                None => self.span,
            },
            _ => self.span,
        }
    }
}

/// A YAML syntax error, with its place when the parser knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// What the parser said, without its location prefix.
    pub message: String,
    /// Where it happened.
    pub span: Option<Span>,
}

/// A parsed graph file: its text, its name and its value tree.
#[derive(Debug, Clone)]
pub struct Document {
    /// File name used in messages (`graphs/quickstart.yaml`, `<POST /api/graph>`).
    pub origin: String,
    /// The text as read.
    pub source: String,
    /// The root value.
    pub root: Node,
}

impl Document {
    /// Parses YAML text. Only syntax is checked here.
    pub fn parse(origin: impl Into<String>, source: impl Into<String>) -> Result<Document, SyntaxError> {
        let source = source.into();
        let options = serde_saphyr::options! {
            duplicate_keys: serde_saphyr::DuplicateKeyPolicy::PassThrough,
        };
        let raw =
            serde_saphyr::from_str_with_options::<Spanned<RawValue>>(&source, options).map_err(|e| SyntaxError {
                message: clean_message(&e.without_snippet().to_string()),
                span: e.location().map(|l| Span::from_location(&l, &source)),
            })?;
        let root = convert(raw, &source);
        Ok(Document {
            origin: origin.into(),
            source,
            root,
        })
    }

    /// Where the value (or, with `key`, the last key) at `path` is written.
    pub fn span_of(&self, path: &[String], key: bool) -> Span {
        self.root.span_at(path, key)
    }
}

/// Drops the `error: line N column M: ` prefix the YAML parser adds.
fn clean_message(message: &str) -> String {
    let message = message.lines().next().unwrap_or(message);
    let message = message.strip_prefix("error: ").unwrap_or(message);
    let message = match message.rfind(" at line ") {
        Some(i) if message[i..].contains(", column ") => &message[..i],
        _ => message,
    };
    match message.strip_prefix("line ") {
        Some(rest) => match rest.find(": ") {
            Some(i) if rest[..i].contains("column") => rest[i + 2..].to_string(),
            _ => message.to_string(),
        },
        None => message.to_string(),
    }
}

fn convert(raw: Spanned<RawValue>, source: &str) -> Node {
    let span = Span::from_location(&raw.referenced, source);
    let value = match raw.value {
        RawValue::Null => Value::Null,
        RawValue::Bool(b) => Value::Bool(b),
        RawValue::Int(i) => Value::Int(i),
        RawValue::Float(f) => Value::Float(f),
        RawValue::String(s) => Value::String(s),
        RawValue::Seq(items) => Value::Seq(items.into_iter().map(|i| convert(i, source)).collect()),
        RawValue::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| Entry {
                    key_span: Span::from_location(&k.referenced, source),
                    key: k.value,
                    value: convert(v, source),
                })
                .collect(),
        ),
    };
    Node { span, value }
}

/// What the YAML deserializer produces, before spans are resolved to byte offsets.
enum RawValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Seq(Vec<Spanned<RawValue>>),
    Map(Vec<(Spanned<String>, Spanned<RawValue>)>),
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RawValue, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }
    fn visit_none<E>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawValue, D::Error> {
        RawValue::deserialize(d)
    }
    fn visit_bool<E>(self, b: bool) -> Result<RawValue, E> {
        Ok(RawValue::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<RawValue, E> {
        Ok(RawValue::Int(i))
    }
    fn visit_u64<E>(self, u: u64) -> Result<RawValue, E> {
        Ok(i64::try_from(u).map_or(RawValue::Float(u as f64), RawValue::Int))
    }
    fn visit_f64<E>(self, f: f64) -> Result<RawValue, E> {
        Ok(RawValue::Float(f))
    }
    fn visit_str<E>(self, s: &str) -> Result<RawValue, E> {
        Ok(RawValue::String(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<RawValue, E> {
        Ok(RawValue::String(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(RawValue::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            entries.push((key, map.next_value()?));
        }
        Ok(RawValue::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_keys_and_values() {
        let doc = Document::parse("t.yaml", "a:\n  b: 12\n").expect("valid YAML");
        let path = ["a".to_string(), "b".to_string()];
        assert_eq!(doc.span_of(&path, false).line, 2);
        assert_eq!(doc.span_of(&path, false).column, 6);
        assert_eq!(doc.span_of(&path, true).column, 3);
        assert_eq!(&doc.source[doc.span_of(&path, false).offset..][..2], "12");
    }

    #[test]
    fn syntax_errors_have_a_place_and_a_clean_message() {
        let err = Document::parse("t.yaml", "a: [1,\nb: c\n").expect_err("unclosed bracket");
        assert_eq!(err.span.map(|s| s.line), Some(1));
        assert!(!err.message.starts_with("error:"), "{}", err.message);
        assert!(!err.message.starts_with("line"), "{}", err.message);
    }

    #[test]
    fn duplicate_keys_are_kept_for_reporting() {
        let doc = Document::parse("t.yaml", "a: 1\na: 2\n").expect("valid YAML");
        assert_eq!(doc.root.entries().map(<[Entry]>::len), Some(2));
    }
}
