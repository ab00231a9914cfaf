//! trailhound: incident-response forensics for AWS CloudTrail logs.
//!
//! The library reads CloudTrail objects in the shapes responders receive
//! (S3 `Records` files, JSON lines, `lookup-events` output, EventBridge
//! envelopes), normalises every record into fixed columns, keeps them in a
//! local Parquet store and runs queries over that store. The binary in
//! `main.rs` is a thin shell over [`cli::run`].

pub mod cli;
pub mod corpus;
pub mod decode;
pub mod detect;
pub mod exit;
pub mod export;
pub mod ingest;
pub mod query;
pub mod record;
pub mod render;
pub mod report;
pub mod source;
pub mod store;
pub mod time;
