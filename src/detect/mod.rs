//! Detections: declarative rules evaluated over the store, the policy
//! analysis they share, the severity model and correlations.

pub mod condition;
pub mod correlate;
pub mod custom_policies;
pub mod engine;
pub mod event;
pub mod finding;
pub mod follow_up;
pub mod habits;
pub mod lineage;
pub mod policy;
pub mod rotation;
pub mod rule;
pub mod severity;

pub use engine::{HuntError, HuntOptions, hunt};
pub use finding::{FINDING_COLUMNS, Finding, findings_table};
pub use rule::{RuleSet, Severity};
