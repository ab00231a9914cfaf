//! The credential lineage root of an access key, for attributing findings.

use std::collections::HashMap;

use crate::query::QueryError;
use crate::query::lineage::lineage_roots;
use crate::store::Store;
use crate::time::Micros;

/// Maps access keys to the long-term key at the root of their lineage.
#[derive(Debug, Clone, Default)]
pub struct LineageRoots {
    /// Minted key → the key at the top of its chain, from the lineage query.
    tops: HashMap<String, String>,
}

impl LineageRoots {
    /// Reads the lineage of every key minted in the window from the store.
    pub fn from_store(
        store: &Store,
        since: Option<Micros>,
        until: Option<Micros>,
    ) -> Result<LineageRoots, QueryError> {
        Ok(LineageRoots {
            tops: lineage_roots(store, since, until)?,
        })
    }

    /// Returns the long-term key at the top of `access_key`'s lineage: the
    /// top of its minting chain when that is an AKIA key, the key itself
    /// when it is an AKIA key that nothing in the store minted, else `None`.
    pub fn root(&self, access_key: &str) -> Option<String> {
        let top = self.tops.get(access_key).map_or(access_key, String::as_str);
        top.starts_with("AKIA").then(|| top.to_string())
    }
}
