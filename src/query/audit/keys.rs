//! Long-term access keys in use: who owns each, where and how it was used,
//! and whether it looks stored on a server or in a CI system.

use polars::prelude::DataFrame;

use super::LongTermKey;
use super::columns::{count, text, text_list, time};
use super::hints::hardcoded_hints;
use super::ranges::AwsRanges;
use crate::query::QueryError;

/// Builds the key section from [`super::load::long_term_keys`].
pub(super) fn long_term_keys(
    frame: &DataFrame,
    aws_ranges: Option<&AwsRanges>,
) -> Result<Vec<LongTermKey>, QueryError> {
    let keys = text(frame, "access_key_id")?;
    let users = text(frame, "user_name")?;
    let arns = text(frame, "principal_arn")?;
    let kinds = text(frame, "identity_type")?;
    let accounts = text(frame, "account_id")?;
    let calls = count(frame, "calls")?;
    let firsts = time(frame, "first_used")?;
    let lasts = time(frame, "last_used")?;
    let ips = text_list(frame, "source_ips")?;
    let agents = text_list(frame, "user_agents")?;
    let services = text_list(frame, "services")?;
    let endpoints = text_list(frame, "vpc_endpoints")?;

    let mut rows = Vec::with_capacity(frame.height());
    for row in 0..frame.height() {
        let Some(access_key_id) = keys[row].clone() else {
            continue;
        };
        let mut hints = hardcoded_hints(&agents[row], &endpoints[row]);
        if let Some(ranges) = aws_ranges {
            hints.extend(ec2_address_hint(ranges, &ips[row]));
        }
        rows.push(LongTermKey {
            access_key_id,
            owner: users[row].clone().or_else(|| arns[row].clone()),
            owner_arn: arns[row].clone(),
            identity_type: kinds[row].clone(),
            account_id: accounts[row].clone(),
            calls: calls[row],
            first_used: firsts[row].unwrap_or_default(),
            last_used: lasts[row].unwrap_or_default(),
            source_ips: ips[row].clone(),
            user_agents: agents[row].clone(),
            services: services[row].clone(),
            likely_hardcoded: !hints.is_empty(),
            hardcoded_hints: hints,
        });
    }
    Ok(rows)
}

/// Names the key's addresses that lie in AWS's EC2 ranges, if any.
fn ec2_address_hint(ranges: &AwsRanges, addresses: &[String]) -> Option<String> {
    let matches: Vec<String> = addresses
        .iter()
        .filter_map(|address| {
            ranges
                .ec2_prefix(address)
                .map(|prefix| format!("{address} in {prefix}"))
        })
        .collect();
    if matches.is_empty() {
        return None;
    }
    Some(format!(
        "{} of {} addresses in AWS's EC2 ranges ({})",
        matches.len(),
        addresses.len(),
        matches.join(", ")
    ))
}
