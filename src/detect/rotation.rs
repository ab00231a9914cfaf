//! Key rotation: a new access key for a user, followed by deactivating or
//! deleting another key of the same user. That is how admins and pipelines
//! replace a key, and an intruder adding a key of their own has no reason to
//! switch off the one the user works with.

use std::collections::HashMap;

use polars::prelude::*;
use serde_json::Value;

use super::finding::Finding;
use crate::query::{text_values, time_values};

/// How long after a key's creation switching off the user's older key still
/// counts as rotating it.
const ROTATION_WINDOW: i64 = 7 * 24 * 3_600_000_000;

/// A successful `UpdateAccessKey` to `Inactive` or `DeleteAccessKey`.
#[derive(Debug, Clone)]
struct SwitchOff {
    time: i64,
    access_key_id: String,
}

/// Keys switched off in the store, by user name.
#[derive(Debug, Default)]
pub struct SwitchOffs {
    by_user: HashMap<String, Vec<SwitchOff>>,
}

impl SwitchOffs {
    /// Reads every successful key deactivation and deletion with one filter.
    pub fn load(scan: LazyFrame) -> PolarsResult<SwitchOffs> {
        let frame = scan
            .filter(
                col("event_source")
                    .eq(lit("iam.amazonaws.com"))
                    .and(
                        col("event_name")
                            .eq(lit("UpdateAccessKey"))
                            .or(col("event_name").eq(lit("DeleteAccessKey"))),
                    )
                    .and(col("error_code").is_null()),
            )
            .select([
                col("event_time"),
                col("event_name"),
                col("target_user_name"),
                col("user_name"),
                col("request_parameters"),
            ])
            .collect()?;
        let times = time_values(&frame, "event_time")?;
        let names = text_values(&frame, "event_name")?;
        let targets = text_values(&frame, "target_user_name")?;
        let callers = text_values(&frame, "user_name")?;
        let parameters = text_values(&frame, "request_parameters")?;
        let mut switch_offs = SwitchOffs::default();
        for row in 0..frame.height() {
            let Some(request) = parameters[row]
                .as_deref()
                .and_then(|text| serde_json::from_str::<Value>(text).ok())
            else {
                continue;
            };
            let deactivated = names[row].as_deref() == Some("DeleteAccessKey")
                || request.get("status").and_then(Value::as_str) == Some("Inactive");
            // Without `userName` the caller acted on its own keys.
            let user = targets[row].clone().or_else(|| callers[row].clone());
            let (true, Some(user), Some(key), Some(time)) = (
                deactivated,
                user,
                request.get("accessKeyId").and_then(Value::as_str),
                times[row],
            ) else {
                continue;
            };
            switch_offs
                .by_user
                .entry(user)
                .or_default()
                .push(SwitchOff {
                    time,
                    access_key_id: key.to_string(),
                });
        }
        Ok(switch_offs)
    }

    /// Returns the first switch-off of another key of `user` within the
    /// rotation window after `time`.
    fn rotated(&self, user: &str, new_key: &str, time: i64) -> Option<&SwitchOff> {
        self.by_user
            .get(user)?
            .iter()
            .filter(|switch_off| {
                switch_off.access_key_id != new_key
                    && switch_off.time >= time
                    && switch_off.time - time <= ROTATION_WINDOW
            })
            .min_by_key(|switch_off| switch_off.time)
    }
}

/// Lowers by one level every successful `CreateAccessKey` finding that
/// rotated a key. A correlation starting at such a finding (a minted key
/// then used) is lowered in turn, because its first step is.
pub fn apply_rotation(findings: &mut [Finding], switch_offs: &SwitchOffs) {
    for finding in findings.iter_mut() {
        if finding.failed || finding.event_name.as_deref() != Some("CreateAccessKey") {
            continue;
        }
        let (Some(new_key), Some(user)) = (
            finding.minted_key.clone(),
            finding
                .target
                .clone()
                .or_else(|| finding.actor_user.clone()),
        ) else {
            continue;
        };
        if let Some(old) = switch_offs.rotated(&user, &new_key, finding.first_event_time) {
            let minutes = (old.time - finding.first_event_time) / 60_000_000;
            finding.shift(
                -1,
                format!(
                    "key rotation: {user}'s key {} switched off {minutes} min later",
                    old.access_key_id
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000;

    fn switch_offs(entries: &[(&str, &str, i64)]) -> SwitchOffs {
        let mut switch_offs = SwitchOffs::default();
        for (user, key, time) in entries {
            switch_offs
                .by_user
                .entry(user.to_string())
                .or_default()
                .push(SwitchOff {
                    time: *time,
                    access_key_id: key.to_string(),
                });
        }
        switch_offs
    }

    #[test]
    fn rotation_found_for_other_key_in_window() {
        let offs = switch_offs(&[
            ("bot", "AKIAOLD", 30 * HOUR),
            ("bot", "AKIAOLDER", 2 * HOUR),
        ]);
        let found = offs.rotated("bot", "AKIANEW", HOUR).unwrap();
        assert_eq!(found.access_key_id, "AKIAOLDER");
    }

    #[test]
    fn rotation_ignores_new_key_early_and_late() {
        let offs = switch_offs(&[
            ("bot", "AKIANEW", 2 * HOUR),
            ("bot", "AKIAOLD", HOUR / 2),
            ("bot", "AKIAOLD", HOUR + ROTATION_WINDOW + 1),
            ("other", "AKIAOTHER", 2 * HOUR),
        ]);
        assert!(offs.rotated("bot", "AKIANEW", HOUR).is_none());
    }
}
