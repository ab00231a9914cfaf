//! The CloudTrail delivery layout,
//! `[PREFIX/]AWSLogs/[o-ORGID/]ACCOUNT/SERVICE/REGION/YYYY/MM/DD/FILE`, and
//! the filter that `--since`, `--until`, `--account` and `--region` make of it.
//!
//! The same parser prunes S3 listings and disk paths. Objects whose path does
//! not show the layout are always kept, because their content decides.

use chrono::{DateTime, Days, NaiveDate};

use crate::time::Micros;

/// Account folders that hold CloudTrail output. Other folders under
/// `AWSLogs/ACCOUNT/` (Config, ELB and VPC flow logs share the root) are not
/// CloudTrail and are not listed in S3.
pub const CLOUDTRAIL_SERVICES: [&str; 3] =
    ["CloudTrail", "CloudTrail-Digest", "CloudTrail-Insight"];

/// The parts of a path that follow the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout<'a> {
    pub org: Option<&'a str>,
    pub account: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    /// The delivery day folder, when the path has one.
    pub day: Option<NaiveDate>,
}

/// Returns true for a 12-digit AWS account id.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|byte| byte.is_ascii_digit())
}

/// Returns true for an organization id folder (`o-` and 10 to 32 lower-case
/// letters or digits).
pub fn is_org_id(text: &str) -> bool {
    text.strip_prefix("o-").is_some_and(|rest| {
        (10..=32).contains(&rest.len())
            && rest
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit())
    })
}

/// Parses the layout out of an S3 key or a `/`-separated path. The last
/// `AWSLogs` folder that is followed by the layout wins, because Control
/// Tower prefixes can contain the organization id and `AWSLogs` again.
pub fn parse(path: &str) -> Option<Layout<'_>> {
    let segments: Vec<&str> = path.split('/').collect();
    segments
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, segment)| **segment == "AWSLogs")
        .find_map(|(index, _)| parse_after_awslogs(&segments[index + 1..]))
}

/// Parses the segments after `AWSLogs`. The last segment is the file name,
/// so a folder path such as `AWSLogs/123456789012/` (empty last segment)
/// still parses as far as it goes.
fn parse_after_awslogs<'a>(rest: &[&'a str]) -> Option<Layout<'a>> {
    let (org, rest) = match rest.first() {
        Some(first) if is_org_id(first) => (Some(*first), &rest[1..]),
        _ => (None, rest),
    };
    // Account, service, region and at least a file name.
    if rest.len() < 4 || !is_account_id(rest[0]) || !CLOUDTRAIL_SERVICES.contains(&rest[1]) {
        return None;
    }
    let region = rest[2];
    if region.is_empty() {
        return None;
    }
    // The day needs YYYY/MM/DD and a file name after it.
    let day = if rest.len() >= 7 {
        NaiveDate::parse_from_str(&format!("{}-{}-{}", rest[3], rest[4], rest[5]), "%Y-%m-%d")
            .ok()
            .filter(|_| rest[3].len() == 4 && rest[4].len() == 2 && rest[5].len() == 2)
    } else {
        None
    };
    Some(Layout {
        org,
        account: rest[0],
        service: rest[1],
        region,
        day,
    })
}

/// The accounts, regions and delivery days that an ingest reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayoutFilter {
    /// First delivery day that can hold events at or after `--since`.
    pub first_day: Option<NaiveDate>,
    /// Last delivery day read: the day of `--until` plus [`DELIVERY_MARGIN_DAYS`].
    pub last_day: Option<NaiveDate>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
}

/// Days after `--until` whose folders are still read. CloudTrail names a
/// file's folder after its delivery time, which follows its events by
/// minutes, so events late on the last day sit in the next day's folder.
/// NOTE: a delivery delayed by more than a day is missed by a window.
pub const DELIVERY_MARGIN_DAYS: u64 = 1;

impl LayoutFilter {
    /// Builds the filter from the time window (inclusive bounds in UTC micros)
    /// and the account and region lists (empty means all).
    pub fn new(
        since: Option<Micros>,
        until: Option<Micros>,
        accounts: Vec<String>,
        regions: Vec<String>,
    ) -> LayoutFilter {
        let day_of =
            |micros: Micros| DateTime::from_timestamp_micros(micros).map(|time| time.date_naive());
        // Files only hold events from before their delivery, so no folder
        // before the day of `--since` can hold a matching event.
        let first_day = since.and_then(day_of);
        let last_day = until.and_then(day_of).map(|day| {
            day.checked_add_days(Days::new(DELIVERY_MARGIN_DAYS))
                .unwrap_or(day)
        });
        LayoutFilter {
            first_day,
            last_day,
            accounts,
            regions: regions
                .into_iter()
                .map(|region| region.to_ascii_lowercase())
                .collect(),
        }
    }

    /// Returns true when the filter keeps every object.
    pub fn is_empty(&self) -> bool {
        self.first_day.is_none()
            && self.last_day.is_none()
            && self.accounts.is_empty()
            && self.regions.is_empty()
    }

    pub fn keeps_account(&self, account: &str) -> bool {
        self.accounts.is_empty() || self.accounts.iter().any(|kept| kept == account)
    }

    pub fn keeps_region(&self, region: &str) -> bool {
        self.regions.is_empty()
            || self
                .regions
                .iter()
                .any(|kept| kept.eq_ignore_ascii_case(region))
    }

    pub fn keeps_day(&self, day: NaiveDate) -> bool {
        self.first_day.is_none_or(|first| day >= first)
            && self.last_day.is_none_or(|last| day <= last)
    }

    /// Returns true when an object at `path` can hold matching events: its
    /// path does not show the layout, or every part it shows is kept.
    pub fn keeps_path(&self, path: &str) -> bool {
        match parse(path) {
            None => true,
            Some(layout) => {
                self.keeps_account(layout.account)
                    && self.keeps_region(layout.region)
                    && layout.day.is_none_or(|day| self.keeps_day(day))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_bound;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn parses_org_and_plain_layouts() {
        let key = "trail/logs/AWSLogs/o-abcdefghij/111122223333/CloudTrail/us-gov-west-1/2024/02/29/111122223333_CloudTrail_us-gov-west-1_20240229T2355Z_x.json.gz";
        let layout = parse(key).unwrap();
        assert_eq!(layout.org, Some("o-abcdefghij"));
        assert_eq!(layout.account, "111122223333");
        assert_eq!(layout.service, "CloudTrail");
        assert_eq!(layout.region, "us-gov-west-1");
        assert_eq!(layout.day, Some(day("2024-02-29")));

        let plain = parse(
            "/evidence/AWSLogs/444455556666/CloudTrail-Digest/cn-north-1/2023/01/05/d.json.gz",
        )
        .unwrap();
        assert_eq!(plain.org, None);
        assert_eq!(plain.service, "CloudTrail-Digest");
        assert_eq!(plain.region, "cn-north-1");
    }

    #[test]
    fn control_tower_prefix_repeats_org() {
        let key = "o-abcdefghij/AWSLogs/o-abcdefghij/111122223333/CloudTrail/eu-west-1/2024/01/01/f.json.gz";
        let layout = parse(key).unwrap();
        assert_eq!(layout.account, "111122223333");
        assert_eq!(layout.day, Some(day("2024-01-01")));
    }

    #[test]
    fn other_paths_do_not_parse() {
        assert_eq!(parse("logs/file.json"), None);
        assert_eq!(
            parse("AWSLogs/12345/CloudTrail/us-east-1/2024/01/01/f"),
            None
        );
        assert_eq!(
            parse("AWSLogs/111122223333/Config/us-east-1/2024/01/01/f"),
            None
        );
        let no_day = parse("AWSLogs/111122223333/CloudTrail/us-east-1/f.json").unwrap();
        assert_eq!(no_day.day, None);
        let bad_day = parse("AWSLogs/111122223333/CloudTrail/us-east-1/2024/13/01/f").unwrap();
        assert_eq!(bad_day.day, None);
    }

    #[test]
    fn filter_window_keeps_next_day_for_late_delivery() {
        let since = parse_bound("2024-03-10", false).unwrap();
        let until = parse_bound("2024-03-11", true).unwrap();
        let filter = LayoutFilter::new(Some(since), Some(until), vec![], vec![]);
        assert!(!filter.keeps_day(day("2024-03-09")));
        assert!(filter.keeps_day(day("2024-03-10")));
        assert!(filter.keeps_day(day("2024-03-12")));
        assert!(!filter.keeps_day(day("2024-03-13")));
    }

    #[test]
    fn filter_keeps_unparsed_paths() {
        let filter = LayoutFilter::new(
            None,
            None,
            vec!["111122223333".into()],
            vec!["US-EAST-1".into()],
        );
        assert!(filter.keeps_path("/tmp/other.json"));
        assert!(filter.keeps_path("AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/01/f"));
        assert!(!filter.keeps_path("AWSLogs/999999999999/CloudTrail/us-east-1/2024/01/01/f"));
        assert!(!filter.keeps_path("AWSLogs/111122223333/CloudTrail/eu-west-1/2024/01/01/f"));
    }
}
