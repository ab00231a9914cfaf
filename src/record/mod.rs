//! The CloudTrail record model: the store's fixed columns and the
//! normalisation of one record's JSON into them.

pub mod json;
pub mod model;
pub mod normalize;

pub use model::{
    COLUMN_NAMES, EventRow, rows_to_dataframe, rows_to_dataframe_ordered, store_schema,
};
pub use normalize::{RecordError, normalize};
