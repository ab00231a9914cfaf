//! Helpers for reading loosely typed JSON values out of raw record text.
//!
//! The same CloudTrail field can be a string in one record, a number or a
//! boolean in another and an object in a third. These helpers turn any raw
//! value into the text the store keeps, and never fail on an unexpected type.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde_json::value::RawValue;

/// A string that borrows from the input when it has no escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CowStr<'a>(pub Cow<'a, str>);

impl<'de> Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CowStrVisitor;
        impl<'de> Visitor<'de> for CowStrVisitor {
            type Value = CowStr<'de>;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(value)))
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(value.to_owned())))
            }

            fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(value)))
            }
        }
        deserializer.deserialize_str(CowStrVisitor)
    }
}

/// Returns the text of a raw value: the decoded string for JSON strings,
/// `None` for `null`, and the JSON text itself for numbers, booleans, objects
/// and arrays.
pub fn value_text(value: &RawValue) -> Option<String> {
    let text = value.get();
    match text.as_bytes().first() {
        Some(b'"') => Some(decode_string(text)),
        Some(b'n') if text == "null" => None,
        Some(_) => Some(text.to_string()),
        None => None,
    }
}

/// Returns the string of a raw value only when it is a JSON string.
pub fn value_str(value: &RawValue) -> Option<String> {
    let text = value.get();
    if text.starts_with('"') {
        Some(decode_string(text))
    } else {
        None
    }
}

/// Returns the JSON text of a value unless it is `null`.
pub fn value_json(value: &RawValue) -> Option<String> {
    let text = value.get();
    if text == "null" {
        None
    } else {
        Some(text.to_string())
    }
}

/// Reads a flag written as a JSON boolean or as the strings `"true"`/`"false"`
/// (any case) or `"Yes"`/`"No"`.
pub fn value_bool(value: &RawValue) -> Option<bool> {
    match value.get() {
        "true" => Some(true),
        "false" => Some(false),
        text if text.starts_with('"') => match decode_string(text).to_ascii_lowercase().as_str() {
            "true" | "yes" => Some(true),
            "false" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Decodes a JSON string literal. Lone UTF-16 surrogates, which serde_json
/// rejects, become U+FFFD so the rest of the value survives.
pub fn decode_string(literal: &str) -> String {
    match serde_json::from_str::<String>(literal) {
        Ok(text) => text,
        Err(_) => decode_string_lossy(literal),
    }
}

/// Decodes a JSON string literal by hand, replacing invalid escapes.
fn decode_string_lossy(literal: &str) -> String {
    let inner = literal
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(literal);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('/') => out.push('/'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let first = read_hex4(&mut chars);
                match first {
                    Some(high @ 0xD800..=0xDBFF) => {
                        let mut lookahead = chars.clone();
                        let low = if lookahead.next() == Some('\\') && lookahead.next() == Some('u')
                        {
                            read_hex4(&mut lookahead)
                        } else {
                            None
                        };
                        match low {
                            Some(low @ 0xDC00..=0xDFFF) => {
                                chars = lookahead;
                                let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                            }
                            _ => out.push('\u{FFFD}'),
                        }
                    }
                    Some(code) => out.push(char::from_u32(code).unwrap_or('\u{FFFD}')),
                    None => out.push('\u{FFFD}'),
                }
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn read_hex4(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<u32> {
    let mut code = 0;
    for _ in 0..4 {
        let digit = chars.next()?.to_digit(16)?;
        code = code * 16 + digit;
    }
    Some(code)
}

/// A JSON object parsed once into (key, raw value) pairs, for several lookups.
pub struct JsonObject<'a> {
    pairs: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl<'a> JsonObject<'a> {
    /// Parses `value` when it is a JSON object; `None` for any other type.
    pub fn parse(value: &'a RawValue) -> Option<Self> {
        if !value.get().starts_with('{') {
            return None;
        }
        let pairs = crate::decode::envelope::parse_object_pairs(value.get()).ok()?;
        Some(JsonObject { pairs })
    }

    /// Returns the value of `key`; the last one wins when a key repeats.
    pub fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.pairs
            .iter()
            .rev()
            .find(|(name, _)| name == key)
            .map(|(_, value)| *value)
    }

    /// Returns the value of `key` as text (see [`value_text`]).
    pub fn text(&self, key: &str) -> Option<String> {
        self.get(key).and_then(value_text)
    }

    /// Returns the nested object under `key`.
    pub fn object(&self, key: &str) -> Option<JsonObject<'a>> {
        self.get(key).and_then(JsonObject::parse)
    }
}

/// Looks up a key in a JSON object given as raw text. Returns `None` when the
/// value is not an object or has no such key.
pub fn object_get<'a>(object: &'a RawValue, key: &str) -> Option<&'a RawValue> {
    if !object.get().starts_with('{') {
        return None;
    }
    let pairs = crate::decode::envelope::parse_object_pairs(object.get()).ok()?;
    pairs
        .into_iter()
        .rev()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> &RawValue {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn value_text_handles_every_type() {
        assert_eq!(value_text(raw(r#""abc""#)).as_deref(), Some("abc"));
        assert_eq!(value_text(raw("null")), None);
        assert_eq!(value_text(raw("12")).as_deref(), Some("12"));
        assert_eq!(value_text(raw("0.0")).as_deref(), Some("0.0"));
        assert_eq!(value_text(raw("true")).as_deref(), Some("true"));
        assert_eq!(value_text(raw(r#"{"a":1}"#)).as_deref(), Some(r#"{"a":1}"#));
    }

    #[test]
    fn value_bool_reads_strings_and_booleans() {
        assert_eq!(value_bool(raw("true")), Some(true));
        assert_eq!(value_bool(raw(r#""false""#)), Some(false));
        assert_eq!(value_bool(raw(r#""Yes""#)), Some(true));
        assert_eq!(value_bool(raw(r#""No""#)), Some(false));
        assert_eq!(value_bool(raw("1")), None);
        assert_eq!(value_bool(raw(r#""maybe""#)), None);
    }

    #[test]
    fn lone_surrogate_becomes_replacement() {
        assert_eq!(decode_string(r#""a\ud800b""#), "a\u{FFFD}b");
        assert_eq!(decode_string(r#""\ud83d\ude00""#), "\u{1F600}");
        assert_eq!(decode_string(r#""\udc00""#), "\u{FFFD}");
    }

    #[test]
    fn object_get_finds_nested_value() {
        let object = raw(r#"{"a":{"b":"c"},"d":null}"#);
        assert_eq!(object_get(object, "a").unwrap().get(), r#"{"b":"c"}"#);
        assert_eq!(object_get(object, "d").unwrap().get(), "null");
        assert!(object_get(object, "x").is_none());
        assert!(object_get(raw("[1]"), "a").is_none());
    }
}
