//! AWS's published address ranges (`ip-ranges.json`, from
//! https://ip-ranges.amazonaws.com/ip-ranges.json), to tell calls made from
//! EC2 addresses, where compute workloads run, from calls made elsewhere.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::Deserialize;

/// Errors reading a ranges file.
#[derive(Debug, thiserror::Error)]
pub enum AwsRangesError {
    #[error("cannot read the AWS ranges file {path}: {reason}")]
    Read {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("invalid AWS ranges file {path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

#[derive(Deserialize)]
struct RangesFile {
    prefixes: Vec<V4Prefix>,
    #[serde(default)]
    ipv6_prefixes: Vec<V6Prefix>,
}

#[derive(Deserialize)]
struct V4Prefix {
    ip_prefix: String,
    service: String,
}

#[derive(Deserialize)]
struct V6Prefix {
    ipv6_prefix: String,
    service: String,
}

/// The EC2 prefixes of an `ip-ranges.json` file.
#[derive(Debug, Clone, Default)]
pub struct AwsRanges {
    ec2: Vec<IpNet>,
}

impl AwsRanges {
    /// Returns the EC2 prefix that contains `address`, if any. Text that is
    /// not an IP address (a service name such as `lambda.amazonaws.com`)
    /// matches nothing.
    pub fn ec2_prefix(&self, address: &str) -> Option<IpNet> {
        let ip: IpAddr = address.parse().ok()?;
        self.ec2.iter().find(|net| net.contains(&ip)).copied()
    }

    /// Number of EC2 prefixes read.
    pub fn len(&self) -> usize {
        self.ec2.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ec2.is_empty()
    }
}

/// Reads the EC2 prefixes (IPv4 and IPv6) of an AWS `ip-ranges.json` file.
pub fn read_aws_ranges(path: &Path) -> Result<AwsRanges, AwsRangesError> {
    let invalid = |reason: String| AwsRangesError::Invalid {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|reason| AwsRangesError::Read {
        path: path.to_path_buf(),
        reason,
    })?;
    let file: RangesFile = serde_json::from_str(&text).map_err(|err| {
        invalid(format!(
            "{err}; expected the JSON of https://ip-ranges.amazonaws.com/ip-ranges.json"
        ))
    })?;
    let v4 = file
        .prefixes
        .iter()
        .map(|prefix| (&prefix.ip_prefix, &prefix.service));
    let v6 = file
        .ipv6_prefixes
        .iter()
        .map(|prefix| (&prefix.ipv6_prefix, &prefix.service));
    let mut ec2 = Vec::new();
    for (prefix, service) in v4.chain(v6) {
        if service != "EC2" {
            continue;
        }
        let net: IpNet = prefix
            .parse()
            .map_err(|_| invalid(format!("{prefix:?} is not an address prefix")))?;
        ec2.push(net);
    }
    Ok(AwsRanges { ec2 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec2_prefixes_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ip-ranges.json");
        std::fs::write(
            &path,
            r#"{"prefixes":[{"ip_prefix":"3.4.0.0/16","region":"us-east-1","service":"EC2","network_border_group":"us-east-1"},
            {"ip_prefix":"52.0.0.0/8","region":"GLOBAL","service":"AMAZON","network_border_group":"GLOBAL"}],
            "ipv6_prefixes":[{"ipv6_prefix":"2600:1f00::/24","region":"us-east-1","service":"EC2","network_border_group":"us-east-1"}]}"#,
        )
        .unwrap();
        let ranges = read_aws_ranges(&path).unwrap();
        assert_eq!(ranges.len(), 2);
        assert_eq!(
            ranges.ec2_prefix("3.4.5.6").unwrap().to_string(),
            "3.4.0.0/16"
        );
        assert!(ranges.ec2_prefix("52.1.2.3").is_none());
        assert!(ranges.ec2_prefix("2600:1f00::1").is_some());
        assert!(ranges.ec2_prefix("lambda.amazonaws.com").is_none());
    }

    #[test]
    fn bad_prefix_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ip-ranges.json");
        std::fs::write(
            &path,
            r#"{"prefixes":[{"ip_prefix":"3.4.0.0/99","service":"EC2"}]}"#,
        )
        .unwrap();
        let err = read_aws_ranges(&path).unwrap_err().to_string();
        assert!(err.contains("3.4.0.0/99"), "{err}");
    }
}
