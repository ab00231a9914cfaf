//! Reading the list of the organisation's accounts for `--org-accounts`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::detect::policy::is_account_id;

/// Errors reading an accounts file.
#[derive(Debug, thiserror::Error)]
pub enum OrgAccountsError {
    #[error("cannot read the accounts file {path}: {reason}")]
    Read {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("invalid accounts file {path}, line {line}: {text:?} is not a 12-digit account id")]
    InvalidLine {
        path: PathBuf,
        line: usize,
        text: String,
    },
    #[error("invalid accounts file {path}: {reason}")]
    InvalidJson { path: PathBuf, reason: String },
}

/// Reads account ids from `path`: either one 12-digit id per line (blank
/// lines and text after `#` are ignored, and a name may follow the id after
/// a space or comma), or the JSON output of `aws organizations list-accounts`.
pub fn read_org_accounts(path: &Path) -> Result<BTreeSet<String>, OrgAccountsError> {
    let text = std::fs::read_to_string(path).map_err(|reason| OrgAccountsError::Read {
        path: path.to_path_buf(),
        reason,
    })?;
    if text.trim_start().starts_with('{') {
        return read_json(path, &text);
    }
    let mut accounts = BTreeSet::new();
    for (index, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let id = content
            .split(|c: char| c == ',' || c.is_whitespace())
            .next()
            .unwrap_or("");
        if !is_account_id(id) {
            return Err(OrgAccountsError::InvalidLine {
                path: path.to_path_buf(),
                line: index + 1,
                text: content.to_string(),
            });
        }
        accounts.insert(id.to_string());
    }
    Ok(accounts)
}

fn read_json(path: &Path, text: &str) -> Result<BTreeSet<String>, OrgAccountsError> {
    let invalid = |reason: String| OrgAccountsError::InvalidJson {
        path: path.to_path_buf(),
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|err| invalid(err.to_string()))?;
    let list = value["Accounts"].as_array().ok_or_else(|| {
        invalid(
            "expected an \"Accounts\" list as `aws organizations list-accounts` writes".to_string(),
        )
    })?;
    let mut accounts = BTreeSet::new();
    for account in list {
        let id = account["Id"].as_str().unwrap_or("");
        if !is_account_id(id) {
            return Err(invalid(format!("{id:?} is not a 12-digit account id")));
        }
        accounts.insert(id.to_string());
    }
    Ok(accounts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_with_comments_and_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.txt");
        std::fs::write(
            &path,
            "# org\n012345678901 prod\n\n987654321098,staging # B\n",
        )
        .unwrap();
        let accounts = read_org_accounts(&path).unwrap();
        assert_eq!(accounts.len(), 2);
        assert!(accounts.contains("012345678901"));
        assert!(accounts.contains("987654321098"));
    }

    #[test]
    fn bad_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.txt");
        std::fs::write(&path, "012345678901\n12345\n").unwrap();
        let err = read_org_accounts(&path).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("12345"), "{err}");
    }

    #[test]
    fn list_accounts_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.json");
        std::fs::write(
            &path,
            r#"{"Accounts":[{"Id":"012345678901","Name":"a"},{"Id":"111122223333"}]}"#,
        )
        .unwrap();
        let accounts = read_org_accounts(&path).unwrap();
        assert_eq!(accounts.len(), 2);
    }
}
