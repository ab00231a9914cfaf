//! Detections: policy-document analysis shared by the rules.

pub mod policy;
