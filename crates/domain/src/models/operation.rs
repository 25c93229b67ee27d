//! Asynchronous operations and the answer of activate and disable.

use super::*;

/// An asynchronous operation (activation, disable, metadata discovery).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// 24-hex id.
    pub operation_id: String,
    /// The kind of operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_type: Option<String>,
    /// The run id of the operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Last change, UTC.
    #[serde(
        default,
        deserialize_with = "lenient_ts",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_update_date: Option<Timestamp>,
    /// W, R, D or E.
    pub status: OperationStatus,
    /// The result: a string for toggles, the catalog for metadata discovery.
    #[serde(default)]
    pub result: Option<Value>,
    /// Set when the status is E.
    #[serde(default)]
    pub error_message: Option<String>,
    /// Unnamed fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// What activate and disable answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Toggle {
    /// 202: an operation to follow with get_operation.
    Started {
        /// The operation.
        operation: Box<Operation>,
    },
    /// 204 or an empty 2xx: the flow was already in the requested state.
    AlreadyInState,
}
