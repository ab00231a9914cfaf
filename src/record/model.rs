//! The normalised event row and the fixed column set of the store.
//!
//! Columns are fixed here, by code, and never inferred from a sample of the
//! data: every Parquet file the store writes has exactly these columns in this
//! order, whatever the records contained. The list is written once, in
//! [`define_columns!`], which generates the row struct, the column names and
//! the conversion to a polars `DataFrame`.

use polars::prelude::*;

/// Declares the columns: `name: Kind` where Kind is `Time` (UTC timestamp in
/// microseconds), `Str` (UTF-8 text, JSON text for blobs), `Bool` or `UInt`.
macro_rules! define_columns {
    ($($(#[$doc:meta])* $name:ident : $kind:ident),* $(,)?) => {
        /// One CloudTrail record, normalised into the store's columns.
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct EventRow {
            $($(#[$doc])* pub $name: column_type!($kind),)*
        }

        /// Column names in store order.
        pub const COLUMN_NAMES: &[&str] = &[$(stringify!($name)),*];

        /// Builds a `DataFrame` with the store's columns from the rows at the
        /// `(chunk, row)` positions in `order`, in that order. Values are moved
        /// out of `chunks` (left as `None`) so each string is held once at a time.
        pub fn rows_to_dataframe_ordered(chunks: &mut [Vec<EventRow>], order: &[(usize, usize)]) -> PolarsResult<DataFrame> {
            let columns = vec![
                $(column_from_rows!($kind, stringify!($name), order.iter().map(|&(chunk, row)| chunks[chunk][row].$name.take()))),*
            ];
            DataFrame::new(order.len(), columns)
        }

        /// Returns the store's schema, for scanning files and building empty results.
        pub fn store_schema() -> Schema {
            Schema::from_iter([
                $(Field::new(stringify!($name).into(), column_dtype!($kind))),*
            ])
        }
    };
}

/// Builds a `DataFrame` from all rows in their order, moving values out.
pub fn rows_to_dataframe(rows: &mut Vec<EventRow>) -> PolarsResult<DataFrame> {
    let order: Vec<(usize, usize)> = (0..rows.len()).map(|row| (0, row)).collect();
    rows_to_dataframe_ordered(std::slice::from_mut(rows), &order)
}

macro_rules! column_type {
    (Time) => { Option<i64> };
    (Str) => { Option<String> };
    (Bool) => { Option<bool> };
    (UInt) => { Option<u64> };
}

macro_rules! column_dtype {
    (Time) => {
        DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
    };
    (Str) => {
        DataType::String
    };
    (Bool) => {
        DataType::Boolean
    };
    (UInt) => {
        DataType::UInt64
    };
}

macro_rules! column_from_rows {
    (Time, $name:expr, $values:expr) => {
        Int64Chunked::from_iter_options($name.into(), $values)
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
            .into_column()
    };
    (Str, $name:expr, $values:expr) => {
        StringChunked::from_iter_options($name.into(), $values).into_column()
    };
    (Bool, $name:expr, $values:expr) => {
        BooleanChunked::from_iter_options($name.into(), $values).into_column()
    };
    (UInt, $name:expr, $values:expr) => {
        UInt64Chunked::from_iter_options($name.into(), $values).into_column()
    };
}

define_columns! {
    /// When the request completed (`eventTime`), UTC.
    event_time: Time,
    event_version: Str,
    event_source: Str,
    event_name: Str,
    /// `AwsApiCall`, `AwsServiceEvent`, `AwsConsoleSignIn`, `AwsCloudTrailInsight`…
    event_type: Str,
    event_category: Str,
    aws_region: Str,
    /// An IPv4 or IPv6 address, a service DNS name or `AWS Internal`, so text.
    source_ip: Str,
    user_agent: Str,
    error_code: Str,
    error_message: Str,
    read_only: Bool,
    management_event: Bool,
    event_id: Str,
    request_id: Str,
    shared_event_id: Str,
    /// The account that received the event; for aggregated events, `accountId`.
    recipient_account_id: Str,
    vpc_endpoint_id: Str,
    vpc_endpoint_account_id: Str,
    api_version: Str,
    session_credential_from_console: Bool,

    /// `userIdentity.type`, an open set (`IAMUser`, `AssumedRole`, `Root`…).
    identity_type: Str,
    principal_id: Str,
    principal_arn: Str,
    identity_account_id: Str,
    access_key_id: Str,
    user_name: Str,
    invoked_by: Str,
    identity_provider: Str,
    credential_id: Str,
    session_issuer_type: Str,
    session_issuer_principal_id: Str,
    session_issuer_arn: Str,
    session_issuer_account_id: Str,
    session_issuer_user_name: Str,
    mfa_authenticated: Bool,
    session_creation_time: Time,
    source_identity: Str,
    web_id_federated_provider: Str,
    ec2_role_delivery: Str,
    assumed_root: Bool,
    on_behalf_of_user_id: Str,
    on_behalf_of_identity_store_arn: Str,

    /// `long-term` for AKIA keys, `temporary` for ASIA keys, else null.
    caller_key_kind: Str,
    /// Access key id of a credential this call created, from
    /// `responseElements.credentials` (STS) or `responseElements.accessKey` (IAM).
    minted_access_key_id: Str,
    /// ARN of the principal the minted credential acts as (assumed role or
    /// federated user), when the response names it.
    minted_principal_arn: Str,
    /// User the minted long-term key belongs to (`CreateAccessKey`).
    minted_user_name: Str,
    minted_expiration: Time,
    target_user_name: Str,
    target_role_name: Str,
    target_role_arn: Str,
    target_group_name: Str,
    target_policy_arn: Str,
    target_policy_name: Str,

    /// The polymorphic parts of the record, as JSON text.
    user_identity: Str,
    request_parameters: Str,
    response_elements: Str,
    additional_event_data: Str,
    resources: Str,
    service_event_details: Str,
    tls_details: Str,
    addendum: Str,
    edge_device_details: Str,
    event_context: Str,
    insight_details: Str,
    /// Top-level fields this version of trailhound does not know, as a JSON
    /// object, so new CloudTrail fields are never lost.
    overflow: Str,

    /// The record exactly as it appeared in the source object.
    raw_record: Str,
    /// Origin of the record: a file path, `s3://` URI or `stdin:` name.
    source_uri: Str,
    /// Zero-based position of the record within its source object.
    source_index: UInt,
    /// The identity used to count a record once: recipient account and event
    /// id, or a hash of the raw record when the record has no event id.
    dedup_key: Str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_matches_column_names() {
        let schema = store_schema();
        let names: Vec<&str> = schema.iter_names().map(|name| name.as_str()).collect();
        assert_eq!(names, COLUMN_NAMES);
    }

    #[test]
    fn dataframe_has_fixed_columns_even_when_empty() {
        let frame = rows_to_dataframe(&mut Vec::new()).unwrap();
        assert_eq!(frame.width(), COLUMN_NAMES.len());
        assert_eq!(frame.height(), 0);
        assert_eq!(frame.schema().as_ref(), &store_schema());
    }

    #[test]
    fn dataframe_keeps_values() {
        let row = EventRow {
            event_time: Some(1_688_989_320_000_000),
            event_name: Some("CreateUser".into()),
            read_only: Some(false),
            source_index: Some(7),
            ..EventRow::default()
        };
        let frame = rows_to_dataframe(&mut vec![row]).unwrap();
        let name = frame.column("event_name").unwrap().str().unwrap().get(0);
        assert_eq!(name, Some("CreateUser"));
        let index = frame.column("source_index").unwrap().u64().unwrap().get(0);
        assert_eq!(index, Some(7));
    }
}
