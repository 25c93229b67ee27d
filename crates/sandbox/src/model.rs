//! The stored objects (environments, data flows, connections, runs, operations), their state
//! machines driven by poll counts, and their JSON renderings in the upstream's read shapes.
//!
//! Section and trap numbers are those of the upstream contract, `docs/upstream-api.md`.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value, json};

use crate::http::{fmt_micro, fmt_z};

/// The user every seeded or API-made change is attributed to.
pub(crate) const SANDBOX_USER: &str = "sandbox@example.com";
/// The user id shown in `connection_update_by` and `user_created`.
pub(crate) const SANDBOX_USER_ID: &str = "5f1e2d3c4b5a69788796a5c0";

/// One environment and everything scoped to it.
#[derive(Debug)]
pub(crate) struct Env {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) color: String,
    pub(crate) is_default: bool,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) variables: Map<String, Value>,
    pub(crate) default_group_id: String,
    pub(crate) rivers: Vec<River>,
    pub(crate) connections: Vec<Connection>,
    pub(crate) runs: Vec<Run>,
    pub(crate) operations: Vec<Operation>,
}

impl Env {
    pub(crate) fn new(id: &str, name: &str, is_default: bool, created_at: DateTime<Utc>) -> Self {
        Env {
            id: id.to_owned(),
            name: name.to_owned(),
            description: format!("{name} environment"),
            color: if is_default { "#2d7ff9" } else { "#f5a623" }.to_owned(),
            is_default,
            created_at,
            variables: Map::new(),
            default_group_id: String::new(),
            rivers: Vec::new(),
            connections: Vec::new(),
            runs: Vec::new(),
            operations: Vec::new(),
        }
    }

    /// The environments-list item (section 4.6).
    pub(crate) fn json(&self, account_id: &str) -> Value {
        json!({
            "_id": self.id,
            "cross_id": self.id,
            "account": account_id,
            "user_created": SANDBOX_USER_ID,
            "created_at": fmt_z(self.created_at),
            "updated_at": fmt_z(self.created_at),
            "updated_by": SANDBOX_USER_ID,
            "environment_name": self.name,
            "color": self.color,
            "description": self.description,
            "variables": self.variables,
            "is_deleted": false,
            "deleted_by": null,
            "deleted_at": null,
            "is_default": self.is_default,
            "is_delete_lock": self.is_default,
        })
    }

    pub(crate) fn river(&self, id: &str) -> Option<&River> {
        self.rivers.iter().find(|r| r.cross_id == id)
    }

    pub(crate) fn river_mut(&mut self, id: &str) -> Option<&mut River> {
        self.rivers.iter_mut().find(|r| r.cross_id == id)
    }

    pub(crate) fn connection(&self, id: &str) -> Option<&Connection> {
        self.connections.iter().find(|c| c.cross_id == id)
    }
}

/// A data flow.
#[derive(Debug, Clone)]
pub(crate) struct River {
    pub(crate) cross_id: String,
    pub(crate) name: String,
    pub(crate) river_type: String,
    pub(crate) kind: String,
    pub(crate) group_id: String,
    pub(crate) group_name: String,
    pub(crate) description: Value,
    pub(crate) settings: Value,
    pub(crate) properties: Value,
    pub(crate) schedulers: Value,
    pub(crate) active: bool,
    pub(crate) is_api_v2: bool,
    /// Whether a PUT followed the POST (the fire-service task entry exists; trap 13).
    pub(crate) initialized: bool,
    pub(crate) cdc_enabled: bool,
    pub(crate) version_id: String,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
    /// Run starts in the last 60 s, for the per-flow throttle.
    pub(crate) recent_runs: Vec<DateTime<Utc>>,
}

impl River {
    pub(crate) fn status(&self) -> &'static str {
        if self.active { "active" } else { "disabled" }
    }

    pub(crate) fn is_logic(&self) -> bool {
        self.river_type == "logic"
    }

    pub(crate) fn source(&self) -> Option<&Map<String, Value>> {
        self.properties.get("source").and_then(Value::as_object)
    }

    /// `properties.source.name`, the datasource slug.
    pub(crate) fn source_name(&self) -> Option<&str> {
        self.source()
            .and_then(|s| s.get("name"))
            .and_then(Value::as_str)
    }

    /// `properties.source.run_type` (default `multi_tables`).
    pub(crate) fn run_type(&self) -> &str {
        stored_run_type(&self.properties)
    }

    /// A CDC flow: `extract_method: "log"` at flow level or on any table.
    pub(crate) fn is_cdc(&self) -> bool {
        is_cdc(&self.properties)
    }

    /// The source and target connection ids this flow uses.
    pub(crate) fn connection_ids(&self) -> Vec<String> {
        ["source", "target"]
            .iter()
            .filter_map(|side| {
                self.properties
                    .get(side)
                    .and_then(|s| s.get("connection_id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect()
    }

    /// `(schema, table)` of every selected table, in document order.
    pub(crate) fn selected_tables(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let schemas = self.properties.get("schemas").and_then(Value::as_array);
        for schema in schemas.into_iter().flatten() {
            let schema_name = schema
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let tables = schema.get("tables").and_then(Value::as_array);
            for table in tables.into_iter().flatten() {
                let details = table.get("details");
                let selected = details
                    .and_then(|d| d.get("is_selected"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let name = details.and_then(|d| d.get("name")).and_then(Value::as_str);
                if let (true, Some(name)) = (selected, name) {
                    out.push((schema_name.to_owned(), name.to_owned()));
                }
            }
        }
        out
    }

    pub(crate) fn cron_expressions(&self) -> Vec<Value> {
        self.schedulers
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.get("cron_expression").cloned())
            .collect()
    }

    pub(crate) fn is_scheduled(&self) -> bool {
        self.schedulers.as_array().into_iter().flatten().any(|s| {
            s.get("is_enabled")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        })
    }

    /// The detail read shape (section 6.2).
    pub(crate) fn detail_json(&self, account_id: &str, env: &Env) -> Value {
        json!({
            "cross_id": self.cross_id,
            "account_id": account_id,
            "environment_id": env.id,
            "environment_name": env.name,
            "type": self.river_type,
            "name": self.name,
            "kind": self.kind,
            "group_id": self.group_id,
            "group_name": self.group_name,
            "metadata": {
                "description": self.description,
                "river_status": self.status(),
                "current_version_id": self.version_id,
                "created_by": SANDBOX_USER,
                "last_updated_by": SANDBOX_USER,
                "created_at": fmt_z(self.created_at),
                "last_updated_at": fmt_z(self.updated_at),
                "is_deleted": false,
            },
            "settings": self.settings,
            "properties": self.properties,
            "schedulers": self.schedulers,
        })
    }

    /// The list read shape (section 4.5.2).
    pub(crate) fn list_json(&self) -> Value {
        json!({
            "name": self.name,
            "river_status": self.status(),
            "group_name": self.group_name,
            "group_id": self.group_id,
            "river_schedulers": self.cron_expressions(),
            "datasource_id": self.source_name(),
            "last_user_name_modified": SANDBOX_USER,
            "river_cross_id": self.cross_id,
            "last_updated_at": fmt_z(self.updated_at),
            "description": self.description,
            "is_api_v2": self.is_api_v2,
            "river_type": self.river_type,
            "created_at": fmt_z(self.created_at),
        })
    }
}

/// `properties.source.run_type` of a properties document (default `multi_tables`).
pub(crate) fn stored_run_type(properties: &Value) -> &str {
    properties
        .get("source")
        .and_then(|s| s.get("run_type"))
        .and_then(Value::as_str)
        .unwrap_or("multi_tables")
}

/// Whether a properties document describes a CDC (log-based) flow.
pub(crate) fn is_cdc(properties: &Value) -> bool {
    let flow_level = properties
        .pointer("/source/additional_settings/extract_method")
        .and_then(Value::as_str)
        == Some("log");
    let table_level = properties
        .get("schemas")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("tables").and_then(Value::as_array))
        .flatten()
        .any(|t| t.pointer("/details/extract_method").and_then(Value::as_str) == Some("log"));
    flow_level || table_level
}

/// A connection type the sandbox knows: slug, display name, accepted parameters, secret keys.
#[derive(Debug)]
pub(crate) struct ConnType {
    pub(crate) slug: &'static str,
    pub(crate) display: &'static str,
    pub(crate) params: &'static [&'static str],
    pub(crate) secrets: &'static [&'static str],
}

const DB_PARAMS: &[&str] = &[
    "host",
    "port",
    "username",
    "database",
    "schema",
    "ssl_mode",
    "fz_connection_id",
    "is_ssh_tunnel",
    "ssh_remote_host",
    "ssh_remote_port",
    "ssh_remote_user",
    "ssh_pkey_file_path",
];

/// The connection types the sandbox accepts.
pub(crate) const CONN_TYPES: &[ConnType] = &[
    ConnType {
        slug: "mysql",
        display: "MySQL",
        params: DB_PARAMS,
        secrets: &["password"],
    },
    ConnType {
        slug: "postgres",
        display: "PostgreSQL",
        params: DB_PARAMS,
        secrets: &["password"],
    },
    ConnType {
        slug: "mssql",
        display: "SQL Server",
        params: DB_PARAMS,
        secrets: &["password"],
    },
    ConnType {
        slug: "oracle",
        display: "Oracle",
        params: &[
            "host",
            "port",
            "username",
            "sid",
            "service_name",
            "fz_connection_id",
        ],
        secrets: &["password"],
    },
    ConnType {
        slug: "snowflake",
        display: "Snowflake",
        params: &[
            "account",
            "warehouse",
            "role",
            "database",
            "username",
            "authentication_type",
        ],
        secrets: &["password"],
    },
    ConnType {
        slug: "bigquery",
        display: "BigQuery",
        params: &["project_id", "dataset_location", "fz_connection_id"],
        secrets: &["credentials"],
    },
    ConnType {
        slug: "redshift",
        display: "Redshift",
        params: &["host", "port", "username", "database"],
        secrets: &["password"],
    },
    ConnType {
        slug: "azure_blob_storage",
        display: "Azure Blob Storage",
        params: &["account_name", "container"],
        secrets: &["account_key"],
    },
    ConnType {
        slug: "s3",
        display: "Amazon S3",
        params: &["bucket_name", "region", "aws_access_key_id"],
        secrets: &["aws_secret_access_key"],
    },
    ConnType {
        slug: "zendesk",
        display: "Zendesk",
        params: &["subdomain", "email"],
        secrets: &["api_token"],
    },
    ConnType {
        slug: "jira",
        display: "Jira",
        params: &["domain", "email"],
        secrets: &["api_token"],
    },
    ConnType {
        slug: "google_sheets",
        display: "Google Sheets",
        params: &["spreadsheet_id"],
        secrets: &["credentials"],
    },
    ConnType {
        slug: "rest_api",
        display: "REST API",
        params: &["base_url", "auth_type"],
        secrets: &["api_token"],
    },
];

/// The `*_exists` flags every connection detail carries.
const SECRET_FLAGS: &[&str] = &["password", "account_key", "api_token", "credentials"];

/// Finds a connection type by slug or display name (case-insensitive), with slug aliases.
pub(crate) fn conn_type(name: &str) -> Option<&'static ConnType> {
    let lower = name.trim().to_ascii_lowercase();
    let slug = match lower.as_str() {
        "postgresql" | "postgres_rds" => "postgres",
        "sqlserver" | "sql_server" => "mssql",
        other => other,
    };
    CONN_TYPES
        .iter()
        .find(|t| t.slug == slug || t.display.eq_ignore_ascii_case(&lower))
}

/// A connection. Secrets are write-only.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    pub(crate) cross_id: String,
    pub(crate) name: String,
    pub(crate) kind: &'static ConnType,
    pub(crate) params: Map<String, Value>,
    pub(crate) secrets: Map<String, Value>,
    pub(crate) unreachable: bool,
    pub(crate) updated_at: DateTime<Utc>,
}

impl Connection {
    pub(crate) fn list_json(&self, account_id: &str, env_id: &str) -> Value {
        json!({
            "account_id": account_id,
            "environment_id": env_id,
            "cross_id": self.cross_id,
            "_id": self.cross_id,
            "connection_name": self.name,
            "connection_type": self.kind.display,
            "connection_type_id": self.kind.slug,
            "is_test_connection": false,
            "connection_update_by": SANDBOX_USER_ID,
            "connection_update_time": fmt_z(self.updated_at),
        })
    }

    /// The detail: the list fields, the non-secret parameters and `*_exists` flags.
    pub(crate) fn detail_json(&self, account_id: &str, env_id: &str) -> Value {
        let mut v = self.list_json(account_id, env_id);
        if let Some(map) = v.as_object_mut() {
            for (k, val) in &self.params {
                map.insert(k.clone(), val.clone());
            }
            let mut flags: Vec<&str> = SECRET_FLAGS.to_vec();
            flags.extend(
                self.kind
                    .secrets
                    .iter()
                    .filter(|s| !SECRET_FLAGS.contains(s)),
            );
            for flag in flags {
                map.insert(
                    format!("{flag}_exists"),
                    json!(self.secrets.contains_key(flag)),
                );
            }
        }
        v
    }
}

/// How a run ends.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    Succeeded,
    Failed(String),
    Canceled,
}

/// One run (one target table of a run group, or the single run of a flow).
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub(crate) run_id: String,
    pub(crate) run_group_id: String,
    pub(crate) river_cross_id: String,
    pub(crate) datasource_id: String,
    pub(crate) source_schema: Option<String>,
    pub(crate) target_name: Option<String>,
    pub(crate) sub_river_id: Option<String>,
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: Option<DateTime<Utc>>,
    pub(crate) polls: u32,
    pub(crate) steps: u32,
    pub(crate) outcome: Outcome,
    pub(crate) units: f64,
    pub(crate) rows: u64,
    pub(crate) trigger: String,
    /// Sources that keep no logs answer an empty logs body.
    pub(crate) keeps_logs: bool,
    /// Lines of progress the log holds between connecting and the outcome (a long log; 0 for
    /// runs as the platform's demo runs log them).
    pub(crate) extra_log_lines: usize,
}

/// Sources whose runs keep no logs.
pub(crate) const SOURCES_WITHOUT_LOGS: &[&str] = &["google_sheets", "rest_api"];

impl Run {
    pub(crate) fn is_terminal(&self) -> bool {
        self.polls >= self.steps
    }

    /// The enum spelling of the current status.
    pub(crate) fn status(&self) -> &'static str {
        if self.is_terminal() {
            match self.outcome {
                Outcome::Succeeded => "succeeded",
                Outcome::Failed(_) => "failed",
                Outcome::Canceled => "canceled",
            }
        } else if self.polls == 0 {
            "pending"
        } else {
            "running"
        }
    }

    /// One poll: advances the state machine and stamps the end time when it finishes.
    pub(crate) fn poll(&mut self, now: DateTime<Utc>) {
        self.polls = self.polls.saturating_add(1);
        self.stamp_end(now);
    }

    pub(crate) fn stamp_end(&mut self, now: DateTime<Utc>) {
        if self.is_terminal() && self.end.is_none() {
            let min_end = self.start + TimeDelta::seconds(1);
            self.end = Some(if now > min_end { now } else { min_end });
        }
    }

    pub(crate) fn units_now(&self) -> f64 {
        match self.status() {
            "pending" => 0.0,
            "running" => self.units / 2.0,
            _ => self.units,
        }
    }

    pub(crate) fn error_description(&self) -> Option<&str> {
        match (&self.outcome, self.is_terminal()) {
            (Outcome::Failed(msg), true) => Some(msg),
            _ => None,
        }
    }

    pub(crate) fn duration_ms(&self) -> i64 {
        self.end.map_or(0, |e| (e - self.start).num_milliseconds())
    }

    /// The run read shape (section 4.3).
    pub(crate) fn json(&self) -> Value {
        let units = round2(self.units_now());
        json!({
            "run_id": self.run_id,
            "river_cross_id": self.river_cross_id,
            "datasource_id": self.datasource_id,
            "error_description": self.error_description(),
            "units": units,
            "rpu": units,
            "run_group_id": self.run_group_id,
            "status": self.status(),
            "source_name": self.datasource_id,
            "target_name": self.target_name,
            "start_date_utc": fmt_z(self.start),
            "start_date_in_milliseconds": self.start.timestamp_millis(),
            "end_date_utc": self.end.map(fmt_z),
            "end_date_in_milliseconds": self.end.map(|e| e.timestamp_millis()),
            "sub_river_id": self.sub_river_id,
            "is_sub_river_run": self.sub_river_id.is_some(),
            "is_high_frequency": false,
            "pricing_category": null,
        })
    }

    /// The logs CSV (`timestamp,level,message`), or empty for a source that keeps none.
    pub(crate) fn logs_csv(&self) -> String {
        if !self.keeps_logs {
            return String::new();
        }
        let table = self.target_name.as_deref().unwrap_or("data flow");
        let qualified = match &self.source_schema {
            Some(schema) => format!("{schema}.{table}"),
            None => table.to_owned(),
        };
        let at = |ms: i64| fmt_z(self.start + TimeDelta::milliseconds(ms));
        let mut lines = vec!["timestamp,level,message".to_owned()];
        lines.push(format!(
            "{},INFO,Run {} started for {qualified}",
            at(0),
            self.run_id
        ));
        if self.status() == "pending" {
            return lines.join("\n") + "\n";
        }
        lines.push(format!(
            "{},INFO,Connecting to source {}",
            at(120),
            self.datasource_id
        ));
        for i in 1..=self.extra_log_lines {
            lines.push(format!(
                "{},INFO,Read batch {i} of {} from {qualified}",
                at(121 + i as i64),
                self.extra_log_lines
            ));
        }
        if self.status() == "running" {
            lines.push(format!("{},INFO,Extracting rows from {qualified}", at(400)));
            return lines.join("\n") + "\n";
        }
        let end = self.duration_ms();
        match &self.outcome {
            Outcome::Succeeded => {
                lines.push(format!(
                    "{},INFO,Extracted {} rows from {qualified}",
                    at(end / 2),
                    self.rows
                ));
                lines.push(format!(
                    "{},INFO,Loaded {} rows into target table {table}",
                    at(end - 10),
                    self.rows
                ));
                lines.push(format!(
                    "{},INFO,Run finished with status succeeded",
                    at(end)
                ));
            }
            Outcome::Failed(msg) => {
                lines.push(format!("{},ERROR,{}", at(end / 2), csv_field(msg)));
                lines.push(format!(
                    "{},ERROR,Extraction of {qualified} failed; no rows were loaded",
                    at(end - 10)
                ));
                lines.push(format!("{},INFO,Run finished with status failed", at(end)));
            }
            Outcome::Canceled => {
                lines.push(format!("{},WARNING,Run canceled by user", at(end)));
            }
        }
        lines.join("\n") + "\n"
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The aggregate status of a run group (`partially succeeded` only here).
pub(crate) fn group_status(statuses: &[&str]) -> &'static str {
    if statuses.is_empty() {
        return "pending";
    }
    if statuses.contains(&"running") {
        return "running";
    }
    if statuses.contains(&"pending") {
        return if statuses.iter().all(|s| *s == "pending") {
            "pending"
        } else {
            "running"
        };
    }
    let all = |v: &str| statuses.iter().all(|s| *s == v);
    if all("succeeded") {
        "succeeded"
    } else if all("failed") {
        "failed"
    } else if all("canceled") {
        "canceled"
    } else if all("skipped") {
        "skipped"
    } else if statuses.contains(&"succeeded") {
        "partially succeeded"
    } else {
        "failed"
    }
}

/// What a finished operation does to its data flow.
#[derive(Debug, Clone)]
pub(crate) enum Effect {
    None,
    Activate(String),
    Disable(String),
    EnableCdc(String),
}

/// An asynchronous operation (activation, disable, CDC enable, pull request).
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub(crate) operation_id: String,
    pub(crate) operation_type: &'static str,
    pub(crate) run_id: String,
    pub(crate) polls: u32,
    pub(crate) steps: u32,
    pub(crate) outcome: Result<Value, String>,
    pub(crate) effect: Effect,
    pub(crate) applied: bool,
    pub(crate) updated: DateTime<Utc>,
}

impl Operation {
    pub(crate) fn is_terminal(&self) -> bool {
        self.polls >= self.steps
    }

    pub(crate) fn status(&self) -> &'static str {
        match (self.is_terminal(), &self.outcome, self.polls) {
            (true, Ok(_), _) => "D",
            (true, Err(_), _) => "E",
            (false, _, 0) => "W",
            (false, _, _) => "R",
        }
    }

    /// The operation object (section 4.1).
    pub(crate) fn json(&self) -> Value {
        let (result, error) = match (self.is_terminal(), &self.outcome) {
            (true, Ok(v)) => (v.clone(), Value::Null),
            (true, Err(e)) => (Value::Null, json!(e)),
            (false, _) => (Value::Null, Value::Null),
        };
        json!({
            "operation_id": self.operation_id,
            "operation_type": self.operation_type,
            "run_id": self.run_id,
            "last_update_date": fmt_micro(self.updated),
            "status": self.status(),
            "result": result,
            "error_message": error,
        })
    }
}

#[cfg(test)]
mod tests;
