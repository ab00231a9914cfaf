//! Property tests of the decoder: no input makes it panic, and records survive
//! every envelope byte for byte.

use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use proptest::prelude::*;
use serde_json::Value;
use trailhound::decode::decode_object;

const LIMIT: u64 = 64 << 20;

/// Real records from the invictus-aws data set, one JSON text each.
fn real_records() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/realdata/invictus-aws/CloudTrail")
        .join("218007301253_CloudTrail_us-east-1_20230710T1220Z_WMiHxZgr5Hdd6UDc.json");
    let text = std::fs::read_to_string(&path).expect("realdata is present");
    let document: Value = serde_json::from_str(&text).unwrap();
    document["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| serde_json::to_string(record).unwrap())
        .collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Generates a small record with arbitrary strings in the fields that carry text from
/// the request.
fn arbitrary_record() -> impl Strategy<Value = String> {
    (any::<String>(), any::<String>(), any::<u32>(), prop::option::of(any::<bool>())).prop_map(
        |(agent, name, seconds, read_only)| {
            let mut record = serde_json::json!({
                "eventVersion": "1.08",
                "eventTime": chrono::DateTime::from_timestamp(i64::from(seconds), 0).unwrap().to_rfc3339(),
                "eventID": format!("id-{seconds}-{}", agent.len()),
                "eventName": name,
                "userAgent": agent,
                "recipientAccountId": "012345678901",
            });
            if let Some(flag) = read_only {
                record["readOnly"] = Value::Bool(flag);
            }
            serde_json::to_string(&record).unwrap()
        },
    )
}

/// The envelopes a list of records can be wrapped in.
#[derive(Debug, Clone, Copy)]
enum Wrapper {
    Records,
    Array,
    JsonLines,
    LookupEvents,
    EventBridgeLines,
}

fn wrap(records: &[String], wrapper: Wrapper) -> String {
    match wrapper {
        Wrapper::Records => format!("{{\"Records\":[{}]}}", records.join(",")),
        Wrapper::Array => format!("[\n{}\n]", records.join(",\n")),
        Wrapper::JsonLines => records.join("\n"),
        Wrapper::LookupEvents => {
            let events: Vec<Value> = records
                .iter()
                .map(|record| serde_json::json!({"EventId": "x", "CloudTrailEvent": record}))
                .collect();
            serde_json::json!({ "Events": events }).to_string()
        }
        Wrapper::EventBridgeLines => records
            .iter()
            .map(|record| {
                format!(r#"{{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","detail":{record}}}"#)
            })
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn wrapper() -> impl Strategy<Value = Wrapper> {
    prop_oneof![
        Just(Wrapper::Records),
        Just(Wrapper::Array),
        Just(Wrapper::JsonLines),
        Just(Wrapper::LookupEvents),
        Just(Wrapper::EventBridgeLines),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let _ = decode_object(&bytes, "prop", LIMIT);
        let _ = decode_object(&gzip(&bytes), "prop", LIMIT);
    }

    #[test]
    fn json_like_text_never_panics(text in r#"[\[\]{}",:0-9a-zA-Z\\ \n]{0,512}"#) {
        let _ = decode_object(text.as_bytes(), "prop", LIMIT);
    }

    #[test]
    fn records_survive_every_wrapper(
        records in prop::collection::vec(arbitrary_record(), 1..20),
        wrapper in wrapper(),
        compress in any::<bool>(),
    ) {
        let body = wrap(&records, wrapper);
        let bytes = if compress { gzip(body.as_bytes()) } else { body.into_bytes() };
        let decoded = decode_object(&bytes, "prop", LIMIT).unwrap();
        prop_assert!(decoded.problems.is_empty(), "problems: {:?}", decoded.problems);
        prop_assert_eq!(decoded.rows.len(), records.len());
        for (row, record) in decoded.rows.iter().zip(&records) {
            prop_assert_eq!(row.raw_record.as_deref(), Some(record.as_str()));
        }
    }

    #[test]
    fn mutated_real_records_never_panic(
        cut in any::<prop::sample::Index>(),
        flip_at in any::<prop::sample::Index>(),
        flip_to in any::<u8>(),
        insert in ".{0,16}",
        wrapper in wrapper(),
    ) {
        let records = real_records();
        let body = wrap(&records[..records.len().min(12)], wrapper).into_bytes();

        let mut flipped = body.clone();
        let position = flip_at.index(flipped.len());
        flipped[position] = flip_to;
        let _ = decode_object(&flipped, "prop", LIMIT);

        let truncated = &body[..cut.index(body.len())];
        let decoded = decode_object(truncated, "prop", LIMIT).unwrap();
        prop_assert!(decoded.rows.len() <= records.len());
        let _ = decode_object(&gzip(truncated), "prop", LIMIT);

        let mut inserted = body.clone();
        let at = cut.index(inserted.len());
        inserted.splice(at..at, insert.bytes());
        let _ = decode_object(&inserted, "prop", LIMIT);
    }
}

#[test]
fn truncated_records_file_keeps_complete_records() {
    let records = real_records();
    let body = wrap(&records, Wrapper::Records);
    // Cut inside the last record: every earlier record must survive.
    let last_start = body.rfind(&records[records.len() - 1]).unwrap();
    let truncated = &body.as_bytes()[..last_start + 10];
    let decoded = decode_object(truncated, "cut", LIMIT).unwrap();
    assert_eq!(decoded.rows.len(), records.len() - 1);
    assert_eq!(decoded.problems.len(), 1);
}
