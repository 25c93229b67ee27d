//! Data flows: the document, the list items and the list query.

use super::*;

/// A data flow's full document (`RiverResponse`). The typed fields are the ones the tools read;
/// everything else, `properties` above all, is kept verbatim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataFlow {
    /// 24-hex id.
    #[serde(alias = "river_cross_id")]
    pub cross_id: String,
    /// Display name.
    pub name: String,
    /// `source_to_target`, `actions`, `logic`, `connector_executor`.
    #[serde(rename = "type", default)]
    pub flow_type: String,
    /// `metadata`: description, river_status, timestamps.
    #[serde(default)]
    pub metadata: Value,
    /// `settings`: timeouts, notifications; may be null.
    #[serde(default)]
    pub settings: Value,
    /// `properties`: source, target, schemas.
    #[serde(default)]
    pub properties: Value,
    /// Every other field (account_id, environment_id, group_id, schedulers, kind, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl DataFlow {
    /// `metadata.river_status`, when present.
    pub fn status(&self) -> Option<&str> {
        self.metadata.get("river_status").and_then(Value::as_str)
    }

    /// Whether the flow is active (logic flows are always active).
    pub fn is_active(&self) -> bool {
        self.status() == Some("active") || self.flow_type == "logic"
    }

    /// `properties.source.name`: the source connector type.
    pub fn source_name(&self) -> Option<&str> {
        self.properties
            .pointer("/source/name")
            .and_then(Value::as_str)
    }

    /// The whole document as JSON, for read-modify-write.
    pub fn to_document(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }
}

/// A data flow as the list endpoint shows it (a different shape from the detail).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataFlowSummary {
    /// 24-hex id.
    #[serde(alias = "cross_id")]
    pub river_cross_id: String,
    /// Display name.
    #[serde(default, deserialize_with = "null_string")]
    pub name: String,
    /// `active` or `disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub river_status: Option<String>,
    /// `source_to_target`, `logic`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub river_type: Option<String>,
    /// Group name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// The source's datasource id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasource_id: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// False for flows created in the legacy console (get_data_flow refuses them).
    #[serde(default = "yes")]
    pub is_api_v2: bool,
    /// Cron expressions.
    #[serde(default)]
    pub river_schedulers: Option<Vec<String>>,
    /// Last change.
    #[serde(
        default,
        deserialize_with = "lenient_ts",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_updated_at: Option<Timestamp>,
    /// Unnamed fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Sort key for data flows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataFlowSortBy {
    /// Last change (default).
    #[default]
    LastUpdatedAt,
    /// Source name.
    SourceName,
    /// Flow name.
    RiverName,
    /// Group name.
    GroupName,
    /// Group id.
    GroupId,
}

impl DataFlowSortBy {
    /// Wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LastUpdatedAt => "last_updated_at",
            Self::SourceName => "source_name",
            Self::RiverName => "river_name",
            Self::GroupName => "group_name",
            Self::GroupId => "group_id",
        }
    }
}

/// Activation state filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowStatus {
    /// Active (scheduled).
    Active,
    /// Disabled.
    Disabled,
}

impl FlowStatus {
    /// Wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }
}

/// Query of list_data_flows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DataFlowQuery {
    /// Page and size (1..=500).
    pub page: PageQuery,
    /// Name filter.
    #[serde(default)]
    pub name: Option<String>,
    /// Status filter.
    #[serde(default)]
    pub river_status: Vec<FlowStatus>,
    /// Group name filter.
    #[serde(default)]
    pub group_name: Option<String>,
    /// Group id filter.
    #[serde(default)]
    pub group_id: Vec<String>,
    /// River type filter (`source_to_target`, `logic`, `actions`).
    #[serde(default)]
    pub river_type: Vec<String>,
    /// Include deleted flows.
    #[serde(default)]
    pub include_deleted: bool,
    /// Sort key.
    #[serde(default)]
    pub sort_by: DataFlowSortBy,
    /// Sort direction.
    #[serde(default)]
    pub sort_order: SortOrder,
}
