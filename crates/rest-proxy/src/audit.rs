//! The audit trail: one line per write (any method but GET, HEAD and OPTIONS), on the tracing
//! target `audit`, with the key's name, the method, the route template, the target id and the
//! outcome. It never holds a key, a token or a body.

use std::sync::{Arc, Mutex};

use serde::Serialize;

/// One audited write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    /// The gateway key's name, or `-` when no valid key was sent.
    pub key: String,
    /// The HTTP method.
    pub method: String,
    /// The route template, e.g. `/v1/accounts/{account}/environments/{env}/rivers/{flow}`.
    pub route: String,
    /// The id the write touched (a created resource's new id when known), if any.
    pub target: Option<String>,
    /// The response status.
    pub status: u16,
    /// `ok`, or the error code of the response.
    pub outcome: String,
}

/// Where audit records go: always to the `audit` tracing target, and also to an in-memory list
/// when one is attached (tests).
#[derive(Clone, Debug, Default)]
pub struct Audit {
    capture: Option<Arc<Mutex<Vec<AuditRecord>>>>,
}

impl Audit {
    /// An audit log that also keeps its records in memory; returns the list.
    pub fn capturing() -> (Self, Arc<Mutex<Vec<AuditRecord>>>) {
        let list = Arc::new(Mutex::new(Vec::new()));
        (
            Self {
                capture: Some(Arc::clone(&list)),
            },
            list,
        )
    }

    /// Records one write.
    pub fn record(&self, record: AuditRecord) {
        tracing::info!(
            target: "audit",
            key = %record.key,
            method = %record.method,
            route = %record.route,
            target_id = record.target.as_deref().unwrap_or("-"),
            status = record.status,
            outcome = %record.outcome,
            "write",
        );
        if let Some(list) = &self.capture {
            list.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(record);
        }
    }
}

/// A response extension naming the id a write touched when the path does not (a created
/// resource's new id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditTarget(pub String);
