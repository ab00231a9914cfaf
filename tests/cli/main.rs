//! Integration tests of the `trailhound` command line, run through the real
//! binary. Fixtures live in tests/fixtures (one folder per fault class); real
//! logs are read from ../shared/realdata.

mod common;

mod audit;
mod compression;
mod containers;
mod crash;
mod duplicates;
mod exit_codes;
mod exports;
mod habits;
mod hunt;
mod idempotence;
mod investigate;
mod lineage;
mod realdata;
mod records;
mod s3;
mod s3_support;
mod shell;
mod stats;
mod timeline;
