//! Queries over the store. Each returns plain data that the command layer
//! renders; none prints.

pub mod audit;
pub mod stats;
pub mod timeline;

/// Errors of a query.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("query failed: {0}")]
    Polars(#[from] polars::error::PolarsError),
}
