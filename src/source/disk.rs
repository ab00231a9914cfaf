//! Discovery of objects on disk: files, folders walked recursively, and `-`
//! for standard input. Every regular file is a candidate. Its content, not its
//! name, later decides what it is.

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};

use super::{DiscoveryError, Location, SourceObject};

/// Lists the objects named by `inputs`, in a stable order. Folders are walked
/// recursively, following symbolic links, and the store folder itself is
/// never listed so a store kept inside an evidence folder is not read back.
pub fn discover(
    inputs: &[String],
    store_root: Option<&Path>,
) -> (Vec<SourceObject>, Vec<DiscoveryError>) {
    let excluded = store_root.and_then(|root| std::fs::canonicalize(root).ok());
    let mut objects = Vec::new();
    let mut errors = Vec::new();

    for input in inputs {
        if input == "-" {
            objects.push(SourceObject {
                uri: "stdin".to_string(),
                location: Location::Stdin,
                size: None,
                modified: None,
                etag: None,
            });
            continue;
        }

        let path = Path::new(input);
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(err) => {
                errors.push(DiscoveryError {
                    uri: input.clone(),
                    reason: format!("cannot open: {err}"),
                });
                continue;
            }
        };
        let root = canonical_path(path);
        if metadata.is_file() {
            objects.push(file_object(root, &metadata));
            continue;
        }

        // Paths under a canonical root are absolute already, so files need
        // no resolving of their own: that would cost a path walk per file.
        let walker = walkdir::WalkDir::new(&root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| {
                let Some(excluded) = &excluded else {
                    return true;
                };
                // Only a folder can be the store; resolving every file's path
                // would cost a path walk per file.
                !entry.file_type().is_dir()
                    || std::fs::canonicalize(entry.path())
                        .map_or(true, |canonical| &canonical != excluded)
            });
        for entry in walker {
            match entry {
                Ok(entry) if entry.file_type().is_file() => match entry.metadata() {
                    Ok(metadata) => objects.push(file_object(entry.into_path(), &metadata)),
                    Err(err) => errors.push(DiscoveryError {
                        uri: entry.path().display().to_string(),
                        reason: format!("cannot read metadata: {err}"),
                    }),
                },
                Ok(_) => {}
                Err(err) => errors.push(DiscoveryError {
                    uri: err
                        .path()
                        .map_or_else(|| input.clone(), |path| path.display().to_string()),
                    reason: format!("cannot list: {err}"),
                }),
            }
        }
    }
    (objects, errors)
}

/// Writes a path as text without losing bytes: bytes that are not UTF-8
/// become `\xNN`, so two names that differ only there stay distinct.
fn path_uri(path: &Path) -> String {
    let bytes = path.as_os_str().as_encoded_bytes();
    let mut uri = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        uri.push_str(chunk.valid());
        for byte in chunk.invalid() {
            uri.push_str(&format!("\\x{byte:02x}"));
        }
    }
    uri
}

/// Resolves a path to its canonical absolute form, or at least an absolute one.
fn canonical_path(path: &Path) -> PathBuf {
    std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| PathBuf::from(path))
}

fn file_object(absolute: PathBuf, metadata: &std::fs::Metadata) -> SourceObject {
    let modified = metadata
        .modified()
        .ok()
        .map(|time| DateTime::<Utc>::from(time).to_rfc3339_opts(SecondsFormat::Nanos, true));
    SourceObject {
        uri: path_uri(&absolute),
        location: Location::File(absolute),
        size: Some(metadata.len()),
        modified,
        etag: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_folders_and_reports_missing_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/b/one.json"), "{}").unwrap();
        std::fs::write(dir.path().join("two.json.gz"), "{}").unwrap();
        let inputs = vec![
            dir.path().display().to_string(),
            dir.path().join("missing").display().to_string(),
        ];
        let (objects, errors) = discover(&inputs, None);
        assert_eq!(objects.len(), 2);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].uri.ends_with("missing"));
        assert!(objects.iter().all(|object| object.size == Some(2)));
    }

    #[cfg(unix)]
    #[test]
    fn path_uri_keeps_invalid_bytes_distinct() {
        use std::os::unix::ffi::OsStrExt;
        let first = Path::new(std::ffi::OsStr::from_bytes(b"/logs/a\xff.json"));
        let second = Path::new(std::ffi::OsStr::from_bytes(b"/logs/a\xfe.json"));
        assert_eq!(path_uri(first), "/logs/a\\xff.json");
        assert_ne!(path_uri(first), path_uri(second));
        assert_eq!(path_uri(Path::new("/logs/ü.json")), "/logs/ü.json");
    }

    #[test]
    fn skips_store_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("store/events")).unwrap();
        std::fs::write(dir.path().join("store/events/x.parquet"), "PAR1").unwrap();
        std::fs::write(dir.path().join("log.json"), "{}").unwrap();
        let inputs = vec![dir.path().display().to_string()];
        let (objects, _) = discover(&inputs, Some(&dir.path().join("store")));
        assert_eq!(objects.len(), 1);
        assert!(objects[0].uri.ends_with("log.json"));
    }
}
