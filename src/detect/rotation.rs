//! Key rotation: a new access key for a user, followed by deactivating or
//! deleting another, older key of the same user in the same account, which
//! stays off. That is how admins and pipelines replace a key, and an
//! intruder adding a key of their own has little reason to switch off the
//! one the user works with. A key switched back on, or one first seen after
//! the new key, is no rotation.

use std::collections::HashMap;

use polars::prelude::*;
use serde_json::Value;

use super::finding::Finding;
use crate::query::{is_one_of, successful_calls, text_values, time_values};

/// How long after a key's creation switching off the user's older key still
/// counts as rotating it.
const ROTATION_WINDOW: i64 = 7 * 24 * 3_600_000_000;

/// A successful `UpdateAccessKey` to `Inactive` or `DeleteAccessKey`.
#[derive(Debug, Clone)]
struct SwitchOff {
    time: i64,
    access_key_id: String,
}

/// Keys switched off and on in the store.
#[derive(Debug, Default)]
pub struct SwitchOffs {
    /// (account, user name) → the switch-offs of the user's keys.
    by_user: HashMap<(String, String), Vec<SwitchOff>>,
    /// Key → times it was switched back on (`UpdateAccessKey` to `Active`).
    switched_on: HashMap<String, Vec<i64>>,
    /// Key → its first use or creation in the store.
    first_seen: HashMap<String, i64>,
}

impl SwitchOffs {
    /// Reads every successful key deactivation, reactivation and deletion
    /// with one filter, then when each key involved was first seen.
    pub fn load(scan: LazyFrame) -> PolarsResult<SwitchOffs> {
        let calls = ["UpdateAccessKey", "DeleteAccessKey"];
        let frame = successful_calls(scan.clone(), "iam.amazonaws.com", &calls)
            .select([
                col("event_time"),
                col("event_name"),
                col("recipient_account_id"),
                col("target_user_name"),
                col("user_name"),
                col("request_parameters"),
            ])
            .collect()?;

        let times = time_values(&frame, "event_time")?;
        let names = text_values(&frame, "event_name")?;
        let accounts = text_values(&frame, "recipient_account_id")?;
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
            let status = request.get("status").and_then(Value::as_str);
            let (Some(key), Some(time)) = (
                request.get("accessKeyId").and_then(Value::as_str),
                times[row],
            ) else {
                continue;
            };
            if status == Some("Active") {
                switch_offs
                    .switched_on
                    .entry(key.to_string())
                    .or_default()
                    .push(time);
                continue;
            }

            let deactivated =
                names[row].as_deref() == Some("DeleteAccessKey") || status == Some("Inactive");
            // Without `userName` the caller acted on its own keys.
            let user = targets[row].clone().or_else(|| callers[row].clone());
            let (true, Some(user), Some(account)) = (deactivated, user, accounts[row].clone())
            else {
                continue;
            };
            switch_offs
                .by_user
                .entry((account, user))
                .or_default()
                .push(SwitchOff {
                    time,
                    access_key_id: key.to_string(),
                });
        }

        switch_offs.read_first_seen(scan)?;
        Ok(switch_offs)
    }

    /// Reads when each switched-off key was first used or created.
    fn read_first_seen(&mut self, scan: LazyFrame) -> PolarsResult<()> {
        let keys: Vec<String> = self
            .by_user
            .values()
            .flatten()
            .map(|switch_off| switch_off.access_key_id.clone())
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        let key_in = |column: &str| {
            when(is_one_of(column, &keys).fill_null(false))
                .then(col(column))
                .otherwise(lit(NULL).cast(DataType::String))
        };
        let key = coalesce(&[key_in("access_key_id"), key_in("minted_access_key_id")]).alias("key");
        let frame = scan
            .select([key, col("event_time")])
            .filter(col("key").is_not_null())
            .group_by([col("key")])
            .agg([col("event_time").min().alias("first")])
            .collect()?;
        let keys = text_values(&frame, "key")?;
        let firsts = time_values(&frame, "first")?;
        for (key, first) in keys.into_iter().zip(firsts) {
            if let (Some(key), Some(first)) = (key, first) {
                self.first_seen.insert(key, first);
            }
        }
        Ok(())
    }

    /// Returns the first switch-off of another key of `user` in `account`
    /// within the rotation window after `time`, of a key seen before `time`
    /// (or never seen) and not switched back on afterwards.
    fn rotated(&self, account: &str, user: &str, new_key: &str, time: i64) -> Option<&SwitchOff> {
        self.by_user
            .get(&(account.to_string(), user.to_string()))?
            .iter()
            .filter(|switch_off| {
                let key = &switch_off.access_key_id;
                let older = self.first_seen.get(key).is_none_or(|&first| first < time);
                let stays_off = self
                    .switched_on
                    .get(key)
                    .is_none_or(|times| times.iter().all(|&on| on < switch_off.time));
                key != new_key
                    && older
                    && stays_off
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
        let (Some(new_key), Some(user), Some(account)) = (
            finding.minted_key.clone(),
            finding
                .target
                .clone()
                .or_else(|| finding.actor_user.clone()),
            finding.account_id.clone(),
        ) else {
            continue;
        };
        let time = finding.first_event_time;
        if let Some(old) = switch_offs.rotated(&account, &user, &new_key, time) {
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
                .entry(("111122223333".to_string(), user.to_string()))
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
        let found = offs
            .rotated("111122223333", "bot", "AKIANEW", HOUR)
            .unwrap();
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
        assert!(
            offs.rotated("111122223333", "bot", "AKIANEW", HOUR)
                .is_none()
        );
    }

    #[test]
    fn rotation_ignores_reactivated_and_newer_keys() {
        let mut offs = switch_offs(&[
            ("bot", "AKIABACKON", 2 * HOUR),
            ("bot", "AKIANEWER", 3 * HOUR),
        ]);
        offs.switched_on
            .insert("AKIABACKON".to_string(), vec![2 * HOUR + 1]);
        offs.first_seen.insert("AKIANEWER".to_string(), HOUR + 60);
        assert!(
            offs.rotated("111122223333", "bot", "AKIANEW", HOUR)
                .is_none()
        );
    }

    #[test]
    fn rotation_needs_the_same_account() {
        let offs = switch_offs(&[("bot", "AKIAOLD", 2 * HOUR)]);
        assert!(
            offs.rotated("999988887777", "bot", "AKIANEW", HOUR)
                .is_none()
        );
    }
}
