//! Pruned listing of a CloudTrail bucket.
//!
//! The listing walks the layout `[PREFIX/]AWSLogs/[o-ORGID/]ACCOUNT/SERVICE/
//! REGION/YYYY/MM/DD/` with delimiter listings, which return the folders of
//! one level, and descends only into the accounts, CloudTrail services and
//! regions that the filter keeps. A region folder is then listed without a
//! delimiter: with a time window the listing starts after the day before the
//! window (`StartAfter`) and stops at the first key past its last day, since
//! S3 returns keys in byte order and `YYYY/MM/DD` sorts by date.

use std::sync::Arc;

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::DateTimeFormat;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::progress::S3Counters;
use super::retry::{MAX_ATTEMPTS, backoff, classify};
use crate::source::layout::{CLOUDTRAIL_SERVICES, LayoutFilter, is_account_id, is_org_id};

/// Folders above `AWSLogs/` searched for it before the rest of the prefix is
/// listed whole, for prefixes that contain `/`.
const MAX_PREFIX_DEPTH: usize = 4;

/// One object found by the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedObject {
    pub key: String,
    pub size: u64,
    pub etag: Option<String>,
    /// Last-Modified in RFC 3339.
    pub modified: Option<String>,
}

/// A prefix that could not be listed.
#[derive(Debug, Clone)]
pub struct ListError {
    pub prefix: String,
    pub reason: String,
}

/// What a folder of the layout contains, which decides how it is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// Above `AWSLogs/`, `depth` folders below the starting prefix.
    Root { depth: usize },
    /// `AWSLogs/`: organization or account folders.
    AwsLogs,
    /// `AWSLogs/o-ORGID/`: account folders.
    Org,
    /// `…/ACCOUNT/`: service folders.
    Account,
    /// `…/CloudTrail/`: region folders.
    Service,
    /// `…/REGION/`: day folders, listed whole with the window's bounds.
    Region,
    /// A folder outside the layout or below a region: listed whole, each key
    /// checked by the filter.
    Subtree,
}

/// The kept objects of one folder and its subfolders to list next.
type FolderListing = (Vec<ListedObject>, Vec<Task>);

#[derive(Debug, Clone)]
struct Task {
    prefix: String,
    level: Level,
}

/// The objects found and the prefixes that failed.
#[derive(Debug, Default)]
pub struct Listing {
    pub objects: Vec<ListedObject>,
    pub errors: Vec<ListError>,
}

/// Lists the objects under `prefix` that the filter keeps, with up to
/// `concurrency` requests in flight. Objects come back sorted by key.
pub async fn list_pruned(
    client: &Client,
    bucket: &str,
    prefix: &str,
    filter: &LayoutFilter,
    concurrency: usize,
    counters: &Arc<S3Counters>,
) -> Listing {
    let client = Arc::new(client.clone());
    let bucket: Arc<str> = Arc::from(bucket);
    let filter = Arc::new(filter.clone());
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut listing = Listing::default();
    let mut tasks: JoinSet<Result<FolderListing, ListError>> = JoinSet::new();

    let mut pending = vec![Task {
        prefix: prefix.to_string(),
        level: starting_level(prefix),
    }];
    loop {
        for task in pending.drain(..) {
            let client = Arc::clone(&client);
            let bucket = Arc::clone(&bucket);
            let filter = Arc::clone(&filter);
            let permits = Arc::clone(&permits);
            let counters = Arc::clone(counters);
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                list_task(&client, &bucket, &filter, task, &counters).await
            });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        match joined {
            Ok(Ok((objects, children))) => {
                for object in &objects {
                    counters.add_listed(object.size);
                }
                listing.objects.extend(objects);
                pending.extend(children);
            }
            Ok(Err(error)) => listing.errors.push(error),
            Err(join_error) => listing.errors.push(ListError {
                prefix: prefix.to_string(),
                reason: format!("listing task failed: {join_error}"),
            }),
        }
    }
    listing
        .objects
        .sort_by(|left, right| left.key.cmp(&right.key));
    listing
        .errors
        .sort_by(|left, right| left.prefix.cmp(&right.prefix));
    listing
}

/// Decides the level of the starting prefix from its folders, so a prefix
/// that already names an account or region is pruned from there on.
fn starting_level(prefix: &str) -> Level {
    let segments: Vec<&str> = prefix
        .split('/')
        .filter(|segment| !segment.is_empty())
        .collect();
    let Some(awslogs) = segments.iter().rposition(|segment| *segment == "AWSLogs") else {
        return Level::Root { depth: 0 };
    };
    let mut rest = &segments[awslogs + 1..];
    if rest.is_empty() {
        return Level::AwsLogs;
    }
    if is_org_id(rest[0]) {
        rest = &rest[1..];
        if rest.is_empty() {
            return Level::Org;
        }
    }
    if !is_account_id(rest[0]) {
        return Level::Subtree;
    }
    match rest.len() {
        1 => Level::Account,
        2 if CLOUDTRAIL_SERVICES.contains(&rest[1]) => Level::Service,
        3 if CLOUDTRAIL_SERVICES.contains(&rest[1]) => Level::Region,
        _ => Level::Subtree,
    }
}

/// Lists one folder and returns its kept objects and the folders to list next.
async fn list_task(
    client: &Client,
    bucket: &str,
    filter: &LayoutFilter,
    task: Task,
    counters: &S3Counters,
) -> Result<FolderListing, ListError> {
    let Task { prefix, level } = task;
    let delimited = !matches!(level, Level::Region | Level::Subtree);
    let (start_after, stop_after) = match level {
        Level::Region => day_bounds(&prefix, filter),
        _ => (None, None),
    };
    let page = Pages {
        client,
        bucket,
        prefix: &prefix,
        delimited,
        start_after,
        stop_after,
        counters,
    };
    let (objects, folders) = page.list_all().await?;

    let objects = objects
        .into_iter()
        .filter(|object| filter.keeps_path(&object.key))
        .collect();
    let mut children = Vec::new();
    let awslogs = format!("{prefix}AWSLogs/");
    let has_awslogs = folders.contains(&awslogs);
    for folder in folders {
        let name = folder[prefix.len()..].trim_end_matches('/');
        let next = match level {
            // Next to an `AWSLogs/` folder, other folders are not CloudTrail's.
            Level::Root { .. } if has_awslogs => (folder == awslogs).then_some(Level::AwsLogs),
            Level::Root { depth } if depth + 1 < MAX_PREFIX_DEPTH => {
                Some(Level::Root { depth: depth + 1 })
            }
            Level::Root { .. } => Some(Level::Subtree),
            Level::AwsLogs if is_org_id(name) => Some(Level::Org),
            Level::AwsLogs | Level::Org if is_account_id(name) => {
                filter.keeps_account(name).then_some(Level::Account)
            }
            Level::Account if CLOUDTRAIL_SERVICES.contains(&name) => Some(Level::Service),
            Level::Service => filter.keeps_region(name).then_some(Level::Region),
            _ => None,
        };
        if let Some(level) = next {
            children.push(Task {
                prefix: folder,
                level,
            });
        }
    }
    Ok((objects, children))
}

/// The `StartAfter` key and the last key of a region folder's listing for
/// the filter's days. `StartAfter` is `REGION/YYYY/MM/DD` of the first day
/// without a trailing `/`, which sorts before every key of that day and
/// after every key of the days before.
fn day_bounds(prefix: &str, filter: &LayoutFilter) -> (Option<String>, Option<Vec<u8>>) {
    let start = filter
        .first_day
        .map(|day| format!("{prefix}{}", day.format("%Y/%m/%d")));
    // 0xFF never occurs in UTF-8, so every key of the last day sorts below it.
    let stop = filter.last_day.map(|day| {
        let mut stop = format!("{prefix}{}/", day.format("%Y/%m/%d")).into_bytes();
        stop.push(0xFF);
        stop
    });
    (start, stop)
}

/// The pages of one ListObjectsV2 listing.
struct Pages<'a> {
    client: &'a Client,
    bucket: &'a str,
    prefix: &'a str,
    delimited: bool,
    start_after: Option<String>,
    stop_after: Option<Vec<u8>>,
    counters: &'a S3Counters,
}

impl Pages<'_> {
    /// Follows continuation tokens to the end, or to the stop key.
    async fn list_all(&self) -> Result<(Vec<ListedObject>, Vec<String>), ListError> {
        let mut objects = Vec::new();
        let mut folders = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self.request(token.clone()).await?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                if let Some(stop) = &self.stop_after
                    && key.as_bytes() > stop.as_slice()
                {
                    return Ok((objects, folders));
                }
                objects.push(ListedObject {
                    key: key.to_string(),
                    size: object
                        .size()
                        .and_then(|size| u64::try_from(size).ok())
                        .unwrap_or(0),
                    etag: object.e_tag().map(str::to_string),
                    modified: object
                        .last_modified()
                        .and_then(|time| time.fmt(DateTimeFormat::DateTime).ok()),
                });
            }
            folders.extend(
                page.common_prefixes()
                    .iter()
                    .filter_map(|folder| folder.prefix().map(str::to_string)),
            );
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_string()),
                _ => return Ok((objects, folders)),
            }
        }
    }

    /// One page, retried with backoff like GetObject.
    async fn request(
        &self,
        token: Option<String>,
    ) -> Result<aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output, ListError> {
        let mut attempt = 1;
        loop {
            self.counters.add_list_request();
            let mut request = self
                .client
                .list_objects_v2()
                .bucket(self.bucket)
                .prefix(self.prefix)
                .set_continuation_token(token.clone());
            if self.delimited {
                request = request.delimiter("/");
            }
            if token.is_none() {
                request = request.set_start_after(self.start_after.clone());
            }
            match request.send().await.map_err(classify) {
                Ok(page) => return Ok(page),
                Err(failure) if failure.retryable && attempt < MAX_ATTEMPTS => {
                    self.counters.add_retry();
                    tracing::debug!(
                        bucket = self.bucket,
                        prefix = self.prefix,
                        attempt,
                        reason = failure.message.as_str(),
                        "retrying ListObjectsV2"
                    );
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                Err(failure) => {
                    return Err(ListError {
                        prefix: self.prefix.to_string(),
                        reason: format!(
                            "ListObjectsV2 failed{}: {}",
                            super::retry::attempts_text(attempt),
                            failure.message
                        ),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starting_level_follows_layout() {
        assert_eq!(starting_level(""), Level::Root { depth: 0 });
        assert_eq!(starting_level("trail/x/"), Level::Root { depth: 0 });
        assert_eq!(starting_level("AWSLogs/"), Level::AwsLogs);
        assert_eq!(starting_level("p/AWSLogs/o-abcdefghij/"), Level::Org);
        assert_eq!(starting_level("AWSLogs/111122223333/"), Level::Account);
        assert_eq!(
            starting_level("AWSLogs/o-abcdefghij/111122223333/CloudTrail/"),
            Level::Service
        );
        assert_eq!(
            starting_level("AWSLogs/111122223333/CloudTrail/us-east-1/"),
            Level::Region
        );
        assert_eq!(
            starting_level("AWSLogs/111122223333/CloudTrail/us-east-1/2024/"),
            Level::Subtree
        );
        assert_eq!(starting_level("AWSLogs/other/"), Level::Subtree);
    }

    #[test]
    fn day_bounds_enclose_the_window() {
        let since = crate::time::parse_bound("2024-03-10", false).unwrap();
        let until = crate::time::parse_bound("2024-03-10", true).unwrap();
        let filter = LayoutFilter::new(Some(since), Some(until), vec![], vec![]);
        let (start, stop) = day_bounds("r/", &filter);
        let start = start.unwrap();
        let stop = stop.unwrap();
        assert_eq!(start, "r/2024/03/10");
        assert!("r/2024/03/09/f.json.gz" < start.as_str());
        assert!("r/2024/03/10/f.json.gz" > start.as_str());
        assert!(b"r/2024/03/11/f.json.gz".as_slice() < stop.as_slice());
        assert!(b"r/2024/03/12/f.json.gz".as_slice() > stop.as_slice());
    }
}
