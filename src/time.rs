//! Timestamp parsing and formatting.
//!
//! CloudTrail and the tools around it write times in several forms: RFC 3339
//! with or without fractional seconds, basic ISO 8601 (`20131102T010628Z`) in
//! session creation dates, SQL style (`2023-07-10 11:42:00.000`) in Athena and
//! Lake output, epoch seconds or milliseconds, and the Java style
//! `Jan 22, 2021 12:46:28 AM` inside some response elements. Every value is
//! read as UTC unless it carries an offset. Times are kept as microseconds
//! since the Unix epoch, the unit of the store's timestamp columns.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};

/// Microseconds since 1970-01-01T00:00:00Z.
pub type Micros = i64;

/// Epoch values above this are taken as milliseconds, below as seconds.
/// 10^11 seconds is the year 5138, while 10^11 milliseconds is March 1973.
const EPOCH_MILLIS_THRESHOLD: f64 = 1e11;

/// Parses a timestamp in any of the forms listed in the module header.
pub fn parse_timestamp(text: &str) -> Option<Micros> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }

    if let Ok(parsed) = DateTime::parse_from_rfc3339(text) {
        return Some(parsed.with_timezone(&Utc).timestamp_micros());
    }

    const NAIVE_FORMATS: [&str; 5] = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y%m%dT%H%M%SZ",
        "%Y%m%dT%H%M%S",
        "%b %d, %Y %I:%M:%S %p",
    ];
    let without_zulu = text.strip_suffix(" UTC").unwrap_or(text);
    for format in NAIVE_FORMATS {
        if let Ok(naive) = NaiveDateTime::parse_from_str(without_zulu, format) {
            return Some(Utc.from_utc_datetime(&naive).timestamp_micros());
        }
    }

    // Offsets written without a colon (`+0000`) and the Java style with a comma
    // after the year (`Jul 10, 2023, 12:46:28 PM`).
    if let Ok(parsed) = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(parsed.with_timezone(&Utc).timestamp_micros());
    }
    if let Ok(naive) = NaiveDateTime::parse_from_str(text, "%b %d, %Y, %I:%M:%S %p") {
        return Some(Utc.from_utc_datetime(&naive).timestamp_micros());
    }

    if let Ok(number) = text.parse::<f64>() {
        return epoch_to_micros(number);
    }
    None
}

/// Converts epoch seconds or milliseconds (distinguished by magnitude) to micros.
pub fn epoch_to_micros(value: f64) -> Option<Micros> {
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    let micros = if value >= EPOCH_MILLIS_THRESHOLD {
        value * 1_000.0
    } else {
        value * 1_000_000.0
    };
    // Reject values past 9999-12-31, which chrono cannot represent.
    if micros > 253_402_300_799_000_000.0 {
        return None;
    }
    Some(micros as i64)
}

/// Parses a command-line time bound: RFC 3339, or a bare date.
///
/// A bare date is the start of that day when `end_of_day` is false, and the
/// last microsecond of that day when it is true, so `--until 2023-07-10`
/// includes the whole day.
pub fn parse_bound(text: &str, end_of_day: bool) -> Result<Micros, String> {
    if let Ok(date) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        let start = date
            .and_hms_opt(0, 0, 0)
            .map(|naive| Utc.from_utc_datetime(&naive).timestamp_micros())
            .ok_or_else(|| format!("invalid date '{text}'"))?;
        return Ok(if end_of_day {
            start + 86_400_000_000 - 1
        } else {
            start
        });
    }
    match DateTime::parse_from_rfc3339(text.trim()) {
        Ok(parsed) => Ok(parsed.with_timezone(&Utc).timestamp_micros()),
        Err(err) => Err(format!(
            "invalid time '{text}' ({err}); use RFC 3339 such as 2023-07-10T11:42:00Z, or a date such as 2023-07-10"
        )),
    }
}

/// Formats micros as RFC 3339 UTC with a `Z`, with fractional digits only
/// when the value has them.
pub fn format_rfc3339(micros: Micros) -> String {
    match DateTime::<Utc>::from_timestamp_micros(micros) {
        Some(time) => time.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        None => micros.to_string(),
    }
}

/// Returns the UTC calendar date (`YYYY-MM-DD`) of a timestamp.
pub fn date_of(micros: Micros) -> String {
    match DateTime::<Utc>::from_timestamp_micros(micros) {
        Some(time) => time.format("%Y-%m-%d").to_string(),
        None => "1970-01-01".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Micros {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
            .timestamp_micros()
    }

    #[test]
    fn parse_accepts_every_known_form() {
        let expected = at("2023-07-10T11:42:00Z");
        let cases = [
            "2023-07-10T11:42:00Z",
            "2023-07-10T11:42:00.000Z",
            "2023-07-10T13:42:00+02:00",
            "2023-07-10T11:42:00",
            "2023-07-10 11:42:00",
            "2023-07-10 11:42:00.000",
            "20230710T114200Z",
            "Jul 10, 2023 11:42:00 AM",
            "Jul 10, 2023, 11:42:00 AM",
            "1688989320",
            "1688989320000",
            "1688989320.0",
        ];
        for case in cases {
            assert_eq!(parse_timestamp(case), Some(expected), "case {case}");
        }
    }

    #[test]
    fn parse_keeps_fractional_seconds() {
        assert_eq!(
            parse_timestamp("2023-07-10T11:42:00.123456Z"),
            Some(at("2023-07-10T11:42:00Z") + 123_456)
        );
    }

    #[test]
    fn parse_rejects_garbage() {
        for case in [
            "",
            "yesterday",
            "2023-13-45T00:00:00Z",
            "-5",
            "NaN",
            "1e300",
        ] {
            assert_eq!(parse_timestamp(case), None, "case {case}");
        }
    }

    #[test]
    fn bound_date_covers_whole_day() {
        let start = parse_bound("2023-07-10", false).unwrap();
        let end = parse_bound("2023-07-10", true).unwrap();
        assert_eq!(start, at("2023-07-10T00:00:00Z"));
        assert_eq!(end, at("2023-07-11T00:00:00Z") - 1);
    }

    #[test]
    fn bound_rejects_invalid_text() {
        let err = parse_bound("last tuesday", false).unwrap_err();
        assert!(err.contains("last tuesday"));
    }

    #[test]
    fn format_is_utc_with_zulu() {
        assert_eq!(
            format_rfc3339(at("2023-07-10T11:42:00Z")),
            "2023-07-10T11:42:00Z"
        );
        assert_eq!(
            format_rfc3339(at("2023-07-10T11:42:00Z") + 500_000),
            "2023-07-10T11:42:00.500Z"
        );
        assert_eq!(date_of(at("2023-07-10T23:59:59Z")), "2023-07-10");
    }
}
