//! Envelope detection: finds the CloudTrail records inside one decompressed
//! object, whatever wrapper they came in.
//!
//! The shape is decided by content, never by file name:
//! - `{"Records":[...]}`, the S3 delivery format, pretty or on one line;
//! - a bare JSON array of records, or a single record object;
//! - JSON lines, where each line is a record or a `Records` batch (CloudWatch
//!   Logs exports, Suzaku and jq output);
//! - `aws cloudtrail lookup-events` output, whose records are JSON strings in
//!   `Events[].CloudTrailEvent`;
//! - EventBridge envelopes, whose record is in `detail`;
//! - CloudWatch Logs subscription payloads, whose records are JSON strings in
//!   `logEvents[].message`;
//! - CloudTrail-Digest files, which hold no events.
//!
//! The `Records` array and JSON lines are read element by element, so damage
//! in the middle of an object costs only the records after it (for a
//! truncated array) or the damaged line (for JSON lines).

use std::borrow::Cow;

use serde_json::value::RawValue;

/// Wrappers nested deeper than this are rejected rather than followed, so a
/// crafted input cannot exhaust the stack.
const MAX_WRAPPER_DEPTH: usize = 8;

/// How much of the start of a file is searched for a JSON line when the file
/// does not begin with JSON.
const JSON_LINE_SEARCH_WINDOW: usize = 64 * 1024;

/// The container shape an object was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// `{"Records":[...]}` as CloudTrail writes to S3.
    RecordsFile,
    /// A bare JSON array.
    Array,
    /// One JSON value that is a record or another wrapper.
    Single,
    /// Several JSON values, one per line.
    JsonLines,
    /// A CloudTrail-Digest file.
    Digest,
    /// Zero bytes, or only white space.
    Empty,
    /// Content that is not JSON at all.
    NotJson,
}

impl ObjectKind {
    /// Returns the name written to the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::RecordsFile => "records",
            ObjectKind::Array => "array",
            ObjectKind::Single => "single",
            ObjectKind::JsonLines => "json-lines",
            ObjectKind::Digest => "digest",
            ObjectKind::Empty => "empty",
            ObjectKind::NotJson => "not-json",
        }
    }
}

/// One record found in an object: its JSON text and its position.
#[derive(Debug, Clone)]
pub struct FoundRecord<'a> {
    /// The record's JSON text, byte-exact as it appears in the object, or the
    /// decoded string for records carried as JSON strings (`lookup-events`).
    pub text: Cow<'a, str>,
    /// Zero-based position of the record in the object.
    pub index: u64,
}

/// A problem with part of an object that did not stop the rest from being read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Location in the object, e.g. `line 12` or `Records[40]`.
    pub location: String,
    /// Description of the problem.
    pub reason: String,
}

/// Everything found in one object.
#[derive(Debug)]
pub struct Envelope<'a> {
    pub kind: ObjectKind,
    pub records: Vec<FoundRecord<'a>>,
    /// Digest documents found (normally one, for a digest file).
    pub digests: Vec<&'a RawValue>,
    /// Parts that could not be read.
    pub problems: Vec<Problem>,
    /// True when the JSON parsed but nothing in it looked like CloudTrail.
    pub unrecognised: bool,
}

impl<'a> Envelope<'a> {
    fn new(kind: ObjectKind) -> Self {
        Envelope {
            kind,
            records: Vec::new(),
            digests: Vec::new(),
            problems: Vec::new(),
            unrecognised: false,
        }
    }
}

/// Splits a decompressed object into records.
pub fn split(data: &[u8]) -> Envelope<'_> {
    let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let start = skip_whitespace(data, 0);
    if start == data.len() {
        return Envelope::new(ObjectKind::Empty);
    }

    match data[start] {
        b'{' | b'[' => split_json(data, start),
        _ => match find_json_line(data) {
            Some(line_start) => {
                let mut envelope = Envelope::new(ObjectKind::JsonLines);
                read_json_lines(data, line_start, &mut envelope);
                if envelope.records.is_empty() && envelope.digests.is_empty() {
                    // Prose with a JSON example in it, such as a README.
                    return Envelope::new(ObjectKind::NotJson);
                }
                envelope.problems.insert(
                    0,
                    Problem {
                        location: "line 1".to_string(),
                        reason: "not JSON; skipped to the first line that starts with '{'"
                            .to_string(),
                    },
                );
                envelope
            }
            None => Envelope::new(ObjectKind::NotJson),
        },
    }
}

/// Reads an object that starts with JSON at `start`.
fn split_json(data: &[u8], start: usize) -> Envelope<'_> {
    let mut envelope = Envelope::new(ObjectKind::Single);
    let mut sink = Sink::default();

    let end = if data[start] == b'{' {
        read_top_object(data, start, &mut sink)
    } else {
        read_top_array(data, start, &mut sink)
    };

    match end {
        Ok(end) => {
            let after = skip_whitespace(data, end);
            if after < data.len() {
                // More values follow the first one: JSON lines.
                envelope.kind = ObjectKind::JsonLines;
                sink.drain_into(&mut envelope);
                read_json_lines(data, after, &mut envelope);
                return envelope;
            }
            envelope.kind = sink.kind.unwrap_or(if data[start] == b'[' {
                ObjectKind::Array
            } else {
                ObjectKind::Single
            });
        }
        Err(problem) => {
            let first_line_end = memchr_newline(data, start);
            let damaged_first_line_only = first_line_end < data.len() && sink.is_empty();
            if damaged_first_line_only {
                // The first line is broken but more lines follow: treat the
                // object as JSON lines and keep the good lines.
                envelope.kind = ObjectKind::JsonLines;
                envelope.problems.push(Problem {
                    location: "line 1".to_string(),
                    reason: problem.reason,
                });
                read_json_lines(data, first_line_end + 1, &mut envelope);
                return envelope;
            }
            envelope.kind = sink.kind.unwrap_or(ObjectKind::Single);
            envelope.problems.push(problem);
        }
    }
    sink.drain_into(&mut envelope);
    envelope
}

/// Collects what the readers find before it is moved into the envelope.
#[derive(Default)]
struct Sink<'a> {
    kind: Option<ObjectKind>,
    records: Vec<FoundRecord<'a>>,
    digests: Vec<&'a RawValue>,
    problems: Vec<Problem>,
    unrecognised: bool,
    next_index: u64,
}

impl<'a> Sink<'a> {
    fn is_empty(&self) -> bool {
        self.records.is_empty() && self.digests.is_empty()
    }

    fn record(&mut self, text: Cow<'a, str>) {
        self.records.push(FoundRecord {
            text,
            index: self.next_index,
        });
        self.next_index += 1;
    }

    fn drain_into(&mut self, envelope: &mut Envelope<'a>) {
        envelope.records.append(&mut self.records);
        envelope.digests.append(&mut self.digests);
        envelope.problems.append(&mut self.problems);
        envelope.unrecognised |= self.unrecognised;
    }
}

/// Reads the top-level object starting at `start`, streaming through a
/// `Records` array if it has one. Returns the offset just past the object.
fn read_top_object<'a>(
    data: &'a [u8],
    start: usize,
    sink: &mut Sink<'a>,
) -> Result<usize, Problem> {
    // Find whether the object has a "Records" key whose value is an array,
    // reading keys and skipping other values as raw JSON.
    let mut pos = skip_whitespace(data, start + 1);
    let mut other_fields: Vec<(String, &'a RawValue)> = Vec::new();
    let mut saw_records = false;

    if data.get(pos) == Some(&b'}') {
        sink.unrecognised = true;
        return Ok(pos + 1);
    }
    loop {
        let (key, after_key) = read_string(data, pos).map_err(|reason| Problem {
            location: format!("byte {pos}"),
            reason,
        })?;
        pos = skip_whitespace(data, after_key);
        if data.get(pos) != Some(&b':') {
            return Err(syntax_problem(pos, "expected ':' after an object key"));
        }
        pos = skip_whitespace(data, pos + 1);

        if key == "Records" && data.get(pos) == Some(&b'[') {
            saw_records = true;
            sink.kind = Some(ObjectKind::RecordsFile);
            pos = read_array_elements(data, pos, "Records", sink, |sink, element, _| {
                sink.record(Cow::Borrowed(element.get()));
            })?;
        } else {
            let (value, after) = read_raw_value(data, pos)?;
            other_fields.push((key, value));
            pos = after;
        }

        pos = skip_whitespace(data, pos);
        match data.get(pos) {
            Some(b',') => pos = skip_whitespace(data, pos + 1),
            Some(b'}') => {
                pos += 1;
                break;
            }
            _ => return Err(syntax_problem(pos, "expected ',' or '}' in an object")),
        }
    }

    if !saw_records {
        let fields: Vec<(&str, &RawValue)> =
            other_fields.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let whole = raw_slice(data, start, pos)?;
        unwrap_object(whole, &fields, sink, 0, "top level");
    } else if let Some((key, value)) = other_fields.iter().find(|(key, _)| key == "Records") {
        // A second "Records" key that is not an array: report it.
        sink.problems.push(Problem {
            location: key.clone(),
            reason: format!("'Records' is not an array ({})", json_type(value)),
        });
    }
    Ok(pos)
}

/// Reads a top-level array, unwrapping each element.
fn read_top_array<'a>(data: &'a [u8], start: usize, sink: &mut Sink<'a>) -> Result<usize, Problem> {
    sink.kind = Some(ObjectKind::Array);
    read_array_elements(data, start, "element", sink, |sink, element, index| {
        unwrap_value(element, sink, 1, &format!("[{index}]"));
    })
}

/// Reads the elements of the array that starts at `start` one at a time,
/// calling `on_element` for each. Returns the offset just past the array.
/// Elements read before a syntax error have already been handed over.
fn read_array_elements<'a>(
    data: &'a [u8],
    start: usize,
    label: &str,
    sink: &mut Sink<'a>,
    mut on_element: impl FnMut(&mut Sink<'a>, &'a RawValue, usize),
) -> Result<usize, Problem> {
    let mut pos = skip_whitespace(data, start + 1);
    if data.get(pos) == Some(&b']') {
        return Ok(pos + 1);
    }
    let mut index = 0usize;
    loop {
        let (element, after) = read_raw_value(data, pos).map_err(|problem| Problem {
            location: format!("{label}[{index}] at byte {pos}"),
            reason: format!("{} ({index} elements read before it)", problem.reason),
        })?;
        on_element(sink, element, index);
        index += 1;
        pos = skip_whitespace(data, after);
        match data.get(pos) {
            Some(b',') => pos = skip_whitespace(data, pos + 1),
            Some(b']') => return Ok(pos + 1),
            None => {
                return Err(Problem {
                    location: format!("{label}[{index}] at byte {pos}"),
                    reason: format!(
                        "the data ends inside the array ({index} elements read before it)"
                    ),
                });
            }
            _ => return Err(syntax_problem(pos, "expected ',' or ']' in an array")),
        }
    }
}

/// Reads JSON values one per line from `start`, skipping damaged lines.
fn read_json_lines<'a>(data: &'a [u8], start: usize, envelope: &mut Envelope<'a>) {
    let mut sink = Sink {
        next_index: envelope.records.len() as u64,
        ..Sink::default()
    };
    let mut pos = start;
    let mut line_number = 1 + data[..start].iter().filter(|&&b| b == b'\n').count();

    while pos < data.len() {
        let line_end = memchr_newline(data, pos);
        let line = &data[pos..line_end];
        let trimmed_start = skip_whitespace(line, 0);
        if trimmed_start < line.len() {
            let location = format!("line {line_number}");
            match serde_json::from_slice::<&RawValue>(trim_ascii_end(&line[trimmed_start..])) {
                Ok(value) => unwrap_value(value, &mut sink, 1, &location),
                Err(err) => sink.problems.push(Problem {
                    location,
                    reason: format!("invalid JSON: {err}"),
                }),
            }
        }
        pos = line_end + 1;
        line_number += 1;
    }
    sink.drain_into(envelope);
}

/// Classifies one JSON value and hands its records to the sink.
fn unwrap_value<'a>(value: &'a RawValue, sink: &mut Sink<'a>, depth: usize, location: &str) {
    let text = value.get();
    match text.as_bytes().first() {
        Some(b'{') => match object_fields(value) {
            Ok(fields) => unwrap_object(value, &fields, sink, depth, location),
            Err(reason) => sink.problems.push(Problem {
                location: location.to_string(),
                reason,
            }),
        },
        Some(b'[') => match serde_json::from_str::<Vec<&RawValue>>(text) {
            Ok(elements) if depth < MAX_WRAPPER_DEPTH => {
                for (index, element) in elements.into_iter().enumerate() {
                    unwrap_value(element, sink, depth + 1, &format!("{location}[{index}]"));
                }
            }
            Ok(_) => too_deep(sink, location),
            Err(err) => sink.problems.push(Problem {
                location: location.to_string(),
                reason: format!("invalid JSON array: {err}"),
            }),
        },
        _ => sink.problems.push(Problem {
            location: location.to_string(),
            reason: format!(
                "expected a CloudTrail record object, found a JSON {}",
                json_type(value)
            ),
        }),
    }
}

/// Decides what a JSON object is, from its keys, and hands its records over.
fn unwrap_object<'a>(
    whole: &'a RawValue,
    fields: &[(&str, &'a RawValue)],
    sink: &mut Sink<'a>,
    depth: usize,
    location: &str,
) {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| *value)
    };
    if depth > MAX_WRAPPER_DEPTH {
        too_deep(sink, location);
        return;
    }

    // The most specific shapes come first: a record carried as a string.
    if let Some(event) = field("CloudTrailEvent") {
        match embedded_json(event) {
            Ok(text) => unwrap_owned(text, sink, depth, &format!("{location}.CloudTrailEvent")),
            Err(reason) => sink.problems.push(Problem {
                location: format!("{location}.CloudTrailEvent"),
                reason,
            }),
        }
        return;
    }
    if let (Some(detail), Some(_)) = (field("detail"), field("detail-type")) {
        unwrap_value(detail, sink, depth + 1, &format!("{location}.detail"));
        return;
    }
    if let Some(records) = field("Records") {
        unwrap_list(records, "Records", sink, depth, location);
        return;
    }
    if let Some(events) = field("Events") {
        unwrap_list(events, "Events", sink, depth, location);
        return;
    }
    if let Some(log_events) = field("logEvents") {
        unwrap_list(log_events, "logEvents", sink, depth, location);
        return;
    }
    if let Some(message) = field("message")
        && looks_like_json_string(message)
    {
        match embedded_json(message) {
            Ok(text) => unwrap_owned(text, sink, depth, &format!("{location}.message")),
            Err(reason) => sink.problems.push(Problem {
                location: format!("{location}.message"),
                reason,
            }),
        }
        return;
    }
    if field("digestStartTime").is_some()
        || (field("logFiles").is_some() && field("awsAccountId").is_some())
    {
        sink.kind = sink.kind.or(Some(ObjectKind::Digest));
        sink.digests.push(whole);
        return;
    }
    const RECORD_KEYS: [&str; 6] = [
        "eventTime",
        "eventID",
        "eventId",
        "eventName",
        "eventVersion",
        "eventSource",
    ];
    if RECORD_KEYS.iter().any(|key| field(key).is_some()) {
        sink.record(Cow::Borrowed(whole.get()));
        return;
    }
    sink.unrecognised = true;
    let mut keys: Vec<&str> = fields.iter().map(|(key, _)| *key).take(6).collect();
    if fields.len() > keys.len() {
        keys.push("…");
    }
    sink.problems.push(Problem {
        location: location.to_string(),
        reason: format!(
            "JSON object is not a CloudTrail record (keys: {})",
            keys.join(", ")
        ),
    });
}

/// Unwraps the elements of a wrapper's list field.
fn unwrap_list<'a>(
    list: &'a RawValue,
    name: &str,
    sink: &mut Sink<'a>,
    depth: usize,
    location: &str,
) {
    match serde_json::from_str::<Vec<&RawValue>>(list.get()) {
        Ok(elements) => {
            for (index, element) in elements.into_iter().enumerate() {
                unwrap_value(
                    element,
                    sink,
                    depth + 1,
                    &format!("{location}.{name}[{index}]"),
                );
            }
        }
        Err(_) => sink.problems.push(Problem {
            location: format!("{location}.{name}"),
            reason: format!("'{name}' is not an array ({})", json_type(list)),
        }),
    }
}

/// Unwraps a record that was carried as a JSON string and is now owned text.
fn unwrap_owned(text: String, sink: &mut Sink<'_>, depth: usize, location: &str) {
    let is_record = match serde_json::from_str::<&RawValue>(&text) {
        Ok(value) => object_fields(value)
            .map(|fields| {
                fields.iter().any(|(key, _)| {
                    matches!(*key, "eventTime" | "eventID" | "eventId" | "eventName")
                })
            })
            .unwrap_or(false),
        Err(err) => {
            sink.problems.push(Problem {
                location: location.to_string(),
                reason: format!("invalid JSON in string: {err}"),
            });
            return;
        }
    };
    if is_record {
        sink.record(Cow::Owned(text));
        return;
    }

    // Rare: the string contains another wrapper. Its records borrow from `text`,
    // so they are copied out before `text` is dropped.
    let mut local = Sink::default();
    if let Ok(value) = serde_json::from_str::<&RawValue>(&text) {
        unwrap_value(value, &mut local, depth + 1, location);
    }
    for found in local.records {
        sink.record(Cow::Owned(found.text.into_owned()));
    }
    sink.problems.extend(local.problems);
    sink.unrecognised |= local.unrecognised;
}

fn too_deep(sink: &mut Sink<'_>, location: &str) {
    sink.problems.push(Problem {
        location: location.to_string(),
        reason: format!("wrappers nested more than {MAX_WRAPPER_DEPTH} levels deep"),
    });
}

/// Reads the keys of a JSON object, keeping values raw. Keys written with
/// escapes are dropped: no wrapper or record key that matters has one.
fn object_fields(value: &RawValue) -> Result<Vec<(&str, &RawValue)>, String> {
    let pairs = parse_object_pairs(value.get())?;
    Ok(pairs
        .into_iter()
        .filter_map(|(key, raw)| match key {
            Cow::Borrowed(key) => Some((key, raw)),
            Cow::Owned(_) => None,
        })
        .collect())
}

/// Parses a JSON object into (key, raw value) pairs in document order.
pub(crate) fn parse_object_pairs(text: &str) -> Result<Vec<(Cow<'_, str>, &RawValue)>, String> {
    use serde::de::{Deserializer as _, MapAccess, Visitor};

    struct PairsVisitor;
    impl<'de> Visitor<'de> for PairsVisitor {
        type Value = Vec<(Cow<'de, str>, &'de RawValue)>;

        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(24));
            while let Some(key) = map.next_key::<crate::record::json::CowStr<'de>>()? {
                let value: &'de RawValue = map.next_value()?;
                pairs.push((key.0, value));
            }
            Ok(pairs)
        }
    }

    let mut deserializer = serde_json::Deserializer::from_str(text);
    deserializer
        .deserialize_map(PairsVisitor)
        .map_err(|err| format!("invalid JSON object: {err}"))
}

/// Decodes a JSON string value that itself contains JSON.
fn embedded_json(value: &RawValue) -> Result<String, String> {
    serde_json::from_str::<String>(value.get()).map_err(|err| {
        if value.get().starts_with('"') {
            format!("invalid JSON string: {err}")
        } else {
            format!("expected a JSON string, found a JSON {}", json_type(value))
        }
    })
}

fn looks_like_json_string(value: &RawValue) -> bool {
    let text = value.get();
    text.starts_with("\"{") || text.starts_with("\" {")
}

/// Returns the JSON type name of a raw value, for messages.
pub(crate) fn json_type(value: &RawValue) -> &'static str {
    match value.get().as_bytes().first() {
        Some(b'{') => "object",
        Some(b'[') => "array",
        Some(b'"') => "string",
        Some(b't' | b'f') => "boolean",
        Some(b'n') => "null",
        _ => "number",
    }
}

/// Reads one JSON value at `pos` and returns it raw with the offset after it.
fn read_raw_value(data: &[u8], pos: usize) -> Result<(&RawValue, usize), Problem> {
    let mut stream = serde_json::Deserializer::from_slice(&data[pos..]).into_iter::<&RawValue>();
    match stream.next() {
        Some(Ok(value)) => Ok((value, pos + stream.byte_offset())),
        Some(Err(err)) => Err(Problem {
            location: format!("byte {pos}"),
            reason: describe_json_error(&err),
        }),
        None => Err(Problem {
            location: format!("byte {pos}"),
            reason: "the data ends where a JSON value was expected".to_string(),
        }),
    }
}

/// Reads a JSON string at `pos` and returns it with the offset after it.
fn read_string(data: &[u8], pos: usize) -> Result<(String, usize), String> {
    if data.get(pos) != Some(&b'"') {
        return Err("expected a string key in an object".to_string());
    }
    let mut stream = serde_json::Deserializer::from_slice(&data[pos..]).into_iter::<String>();
    match stream.next() {
        Some(Ok(key)) => Ok((key, pos + stream.byte_offset())),
        Some(Err(err)) => Err(describe_json_error(&err)),
        None => Err("the data ends inside an object".to_string()),
    }
}

fn raw_slice(data: &[u8], start: usize, end: usize) -> Result<&RawValue, Problem> {
    serde_json::from_slice::<&RawValue>(&data[start..end]).map_err(|err| Problem {
        location: format!("byte {start}"),
        reason: describe_json_error(&err),
    })
}

fn describe_json_error(err: &serde_json::Error) -> String {
    if err.is_eof() {
        format!("the data ends inside a JSON value (truncated?): {err}")
    } else {
        format!("invalid JSON: {err}")
    }
}

fn syntax_problem(pos: usize, what: &str) -> Problem {
    Problem {
        location: format!("byte {pos}"),
        reason: format!("invalid JSON: {what}"),
    }
}

fn skip_whitespace(data: &[u8], mut pos: usize) -> usize {
    while pos < data.len() && matches!(data[pos], b' ' | b'\t' | b'\r' | b'\n') {
        pos += 1;
    }
    pos
}

fn trim_ascii_end(data: &[u8]) -> &[u8] {
    let mut end = data.len();
    while end > 0 && matches!(data[end - 1], b' ' | b'\t' | b'\r' | b'\n') {
        end -= 1;
    }
    &data[..end]
}

/// Returns the offset of the next newline at or after `pos`, or the length.
fn memchr_newline(data: &[u8], pos: usize) -> usize {
    data[pos..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(data.len(), |offset| pos + offset)
}

/// Finds the first line that starts with `{` near the start of a file that
/// does not itself start with JSON (a control message before JSON lines).
fn find_json_line(data: &[u8]) -> Option<usize> {
    let window = &data[..data.len().min(JSON_LINE_SEARCH_WINDOW)];
    let mut pos = 0;
    while pos < window.len() {
        let end = memchr_newline(window, pos);
        let start = skip_whitespace(window, pos);
        if start < end && window[start] == b'{' && pos > 0 {
            return Some(start);
        }
        pos = end + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_with_json_example_is_not_json() {
        let text = b"# Notes\n\nExample:\n{\"a\": 1}\n";
        assert_eq!(split(text).kind, ObjectKind::NotJson);
    }

    #[test]
    fn control_message_before_json_lines_keeps_records() {
        let text = b"CloudTrail validation message.\n{\"eventTime\":\"2023-07-10T11:42:00Z\",\"eventID\":\"a\"}\n";
        let envelope = split(text);
        assert_eq!(envelope.kind, ObjectKind::JsonLines);
        assert_eq!(envelope.records.len(), 1);
        assert_eq!(envelope.problems.len(), 1);
    }

    #[test]
    fn records_array_after_other_keys() {
        let text = br#"{"a":{"b":[1,2]},"Records":[{"eventTime":"x"},{"eventName":"y"}]}"#;
        let envelope = split(text);
        assert_eq!(envelope.kind, ObjectKind::RecordsFile);
        assert_eq!(envelope.records.len(), 2);
        assert!(envelope.problems.is_empty());
    }

    #[test]
    fn damaged_json_line_is_skipped() {
        let text = b"{\"eventTime\":\"t\"}\n{broken\n{\"eventTime\":\"u\"}\n";
        let envelope = split(text);
        assert_eq!(envelope.records.len(), 2);
        assert_eq!(envelope.problems.len(), 1);
        assert_eq!(envelope.problems[0].location, "line 2");
    }
}
