//! Connections as documents: what a connection file holds (`name`, `type`, `parameters`, and the
//! `secrets` it needs, each named with the environment variable that holds it), how an upstream
//! connection becomes one, and the bodies an apply sends.
//!
//! The platform never returns a connection's secrets (`*_exists` flags stand for them), and a
//! save without them erases them (`docs/upstream-api.md` 4.7). So a document never holds a
//! secret: it names the field and the environment variable an apply reads it from, and an apply
//! that creates a connection, or updates one that stores secrets, sends them again from there.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::{Current, Desired, Identity, Plan, Problem, Resource, kind_of, plan_of};
use crate::models::Connection;

/// The keys a connection document holds.
pub const CONNECTION_KEYS: &[&str] = &["name", "type", "parameters", "secrets"];

/// Fields of a connection that the server manages: never in a document, never compared.
const SERVER_FIELDS: &[&str] = &[
    "cross_id",
    "_id",
    "id",
    "account_id",
    "environment_id",
    "environment_name",
    "connection_name",
    "connection_type",
    "connection_type_id",
    "is_test_connection",
    "connection_update_by",
    "connection_update_time",
];

/// A connection document, as read from its file.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionDocument {
    /// The file (`connections/warehouse-snowflake.yaml`).
    pub file: String,
    /// What is compared with the upstream connection: `name`, `type` and `parameters`.
    pub body: Map<String, Value>,
    /// Secret field → the environment variable an apply reads it from.
    pub secrets: BTreeMap<String, String>,
}

impl ConnectionDocument {
    /// The document as the plan compares it.
    pub fn desired(&self) -> Desired {
        Desired {
            file: self.file.clone(),
            body: self.body.clone(),
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        self.body.get("name").and_then(Value::as_str).unwrap_or("")
    }
}

/// An upstream connection as a document: its body (`name`, `type`, `parameters`) and the secret
/// fields it stores (from its `*_exists` flags).
pub fn document_of(conn: &Connection) -> (Map<String, Value>, Vec<String>) {
    let mut parameters = Map::new();
    let mut stored = Vec::new();
    for (k, v) in &conn.extra {
        if let Some(field) = k.strip_suffix("_exists") {
            if v.as_bool() == Some(true) {
                stored.push(field.to_owned());
            }
            continue;
        }
        if SERVER_FIELDS.contains(&k.as_str()) || v.is_null() {
            continue;
        }
        parameters.insert(k.clone(), v.clone());
    }
    let mut body = Map::new();
    body.insert("name".into(), Value::String(conn.connection_name.clone()));
    if let Some(slug) = conn.type_slug() {
        body.insert("type".into(), Value::String(slug));
    }
    if !parameters.is_empty() {
        body.insert("parameters".into(), Value::Object(parameters));
    }
    stored.sort();
    (body, stored)
}

/// The environment variable a pull names for a secret: `BDI_SECRET_<CONNECTION>_<FIELD>`, in
/// upper case with `_` for anything else (`Warehouse Snowflake`, `password` →
/// `BDI_SECRET_WAREHOUSE_SNOWFLAKE_PASSWORD`).
pub fn secret_variable(connection: &str, field: &str) -> String {
    let mut out = String::from("BDI_SECRET_");
    for part in [connection, field] {
        let mut last_sep = true;
        for ch in part.chars() {
            if ch.is_ascii_alphanumeric() {
                out.push(ch.to_ascii_uppercase());
                last_sep = false;
            } else if !last_sep {
                out.push('_');
                last_sep = true;
            }
        }
        while out.ends_with('_') {
            out.pop();
        }
        out.push('_');
    }
    out.pop();
    out
}

/// A connection's file, as a pull writes it: the body, and `secrets` naming each stored secret
/// with its environment variable.
pub fn file_value(body: &Map<String, Value>, stored: &[String]) -> Value {
    let mut out = body.clone();
    let name = body.get("name").and_then(Value::as_str).unwrap_or("");
    if !stored.is_empty() {
        let secrets: Map<String, Value> = stored
            .iter()
            .map(|f| {
                (
                    f.clone(),
                    serde_json::json!({ "env": secret_variable(name, f) }),
                )
            })
            .collect();
        out.insert("secrets".into(), Value::Object(secrets));
    }
    Value::Object(out)
}

/// Reads a connection document from its file's value: every problem at once. A secret written
/// into `parameters` is refused (it belongs in an environment variable, named under `secrets`).
pub fn read(file: &str, raw: &Map<String, Value>) -> Result<ConnectionDocument, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut problem = |path: &str, message: String| {
        problems.push(Problem {
            file: file.to_owned(),
            path: Some(path.to_owned()),
            message,
        });
    };
    for key in raw.keys() {
        if !CONNECTION_KEYS.contains(&key.as_str()) {
            problem(
                key,
                format!(
                    "unknown key: a connection document holds {}",
                    CONNECTION_KEYS.join(", ")
                ),
            );
        }
    }
    let mut body = Map::new();
    for key in ["name", "type"] {
        match raw.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => {
                body.insert(key.into(), Value::String(s.clone()));
            }
            Some(Value::String(_)) | None => {
                problem(key, format!("a connection needs a {key}"));
            }
            Some(other) => problem(key, format!("must be a string, not {}", kind_of(other))),
        }
    }
    let mut secrets = BTreeMap::new();
    match raw.get("secrets") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (field, source) in map {
                let path = format!("secrets.{field}");
                match source.get("env").and_then(Value::as_str) {
                    Some(var) if is_variable_name(var) && source.as_object().map(Map::len) == Some(1) => {
                        secrets.insert(field.clone(), var.to_owned());
                    }
                    _ => problem(
                        &path,
                        "must be `{env: NAME}`: the environment variable an apply reads the secret from (a secret is never written in the file)".to_owned(),
                    ),
                }
            }
        }
        Some(other) => problem(
            "secrets",
            format!(
                "must be an object of field: {{env: NAME}}, not {}",
                kind_of(other)
            ),
        ),
    }
    match raw.get("parameters") {
        None | Some(Value::Null) => {}
        Some(Value::Object(params)) => {
            for (k, v) in params {
                let path = format!("parameters.{k}");
                if secrets.contains_key(k) {
                    problem(
                        &path,
                        format!("{k} is also under secrets: name it once, under secrets"),
                    );
                } else if crate::service::is_credential_key(k)
                    && v.as_str().is_some_and(|s| !s.is_empty())
                {
                    problem(
                        &path,
                        format!(
                            "looks like a secret: move it out of the file, under `secrets: {{{k}: {{env: NAME}}}}`, and set NAME in the environment that applies"
                        ),
                    );
                }
            }
            body.insert("parameters".into(), Value::Object(params.clone()));
        }
        Some(other) => problem(
            "parameters",
            format!("must be an object, not {}", kind_of(other)),
        ),
    }
    if problems.is_empty() {
        Ok(ConnectionDocument {
            file: file.to_owned(),
            body,
            secrets,
        })
    } else {
        Err(problems)
    }
}

/// Whether `s` can name an environment variable (`[A-Za-z_][A-Za-z0-9_]*`).
fn is_variable_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The plan for connection documents against the upstream connections they may be (`current`:
/// the ones the record names and the ones of the documents' names). Connections upstream with no
/// document are not part of it: the directory holds only those its data flows use.
pub fn plan(
    documents: &[ConnectionDocument],
    identity: &Identity,
    current: &[Current],
) -> Result<Plan, Vec<Problem>> {
    let desired: Vec<Desired> = documents.iter().map(ConnectionDocument::desired).collect();
    let mut plan = plan_of(Resource::Connection, &desired, identity, current)?;
    plan.changes.retain(|c| c.action != super::Action::Delete);
    Ok(plan)
}

/// The upstream connections a plan of `documents` needs to read in full: the ones the record
/// names, and the ones named as a document is (`listed`: id → name, from the list).
pub fn candidates(
    documents: &[ConnectionDocument],
    identity: &Identity,
    listed: &BTreeMap<String, String>,
) -> BTreeSet<String> {
    let names: BTreeSet<&str> = documents.iter().map(ConnectionDocument::name).collect();
    let mut out: BTreeSet<String> = documents
        .iter()
        .filter_map(|d| identity.0.get(&d.file))
        .filter(|id| listed.contains_key(*id))
        .cloned()
        .collect();
    out.extend(
        listed
            .iter()
            .filter(|(_, name)| names.contains(name.as_str()))
            .map(|(id, _)| id.clone()),
    );
    out
}

/// The secrets an apply sends for `document`, read with `lookup` (the process environment): the
/// values, or every variable that is not set.
pub fn resolve_secrets(
    document: &ConnectionDocument,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Map<String, Value>, Vec<Problem>> {
    let mut out = Map::new();
    let mut problems = Vec::new();
    for (field, var) in &document.secrets {
        match lookup(var).filter(|v| !v.is_empty()) {
            Some(value) => {
                out.insert(field.clone(), Value::String(value));
            }
            None => problems.push(Problem {
                file: document.file.clone(),
                path: Some(format!("secrets.{field}")),
                message: format!(
                    "set the environment variable {var}: the platform never returns a secret, so creating or updating this connection sends it again"
                ),
            }),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// The body of a create: `connection_name`, `connection_type`, the parameters and the secrets.
pub fn create_body(
    document: &ConnectionDocument,
    secrets: &Map<String, Value>,
) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert(
        "connection_name".into(),
        Value::String(document.name().to_owned()),
    );
    if let Some(t) = document.body.get("type") {
        out.insert("connection_type".into(), t.clone());
    }
    if let Some(Value::Object(params)) = document.body.get("parameters") {
        out.extend(params.clone());
    }
    out.extend(secrets.clone());
    out
}

/// The patch of an update: the name and type when they change, the parameters that differ, and
/// the secrets (sent again: see the module's doc).
pub fn update_patch(
    current: &Map<String, Value>,
    document: &ConnectionDocument,
    secrets: &Map<String, Value>,
) -> Map<String, Value> {
    let mut out = Map::new();
    if current.get("name") != document.body.get("name") {
        out.insert(
            "connection_name".into(),
            Value::String(document.name().to_owned()),
        );
    }
    if let Some(t) = document.body.get("type")
        && current.get("type") != Some(t)
    {
        out.insert("connection_type".into(), t.clone());
    }
    let empty = Map::new();
    let have = match current.get("parameters") {
        Some(Value::Object(m)) => m,
        _ => &empty,
    };
    let want = match document.body.get("parameters") {
        Some(Value::Object(m)) => m,
        _ => &empty,
    };
    out.extend(super::patch(have, want));
    out.extend(secrets.clone());
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn connection(v: Value) -> Connection {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn an_upstream_connection_becomes_a_document_without_secrets() {
        let c = connection(json!({
            "cross_id": "a1", "_id": "a1", "account_id": "x", "environment_id": "e",
            "connection_name": "Warehouse Snowflake", "connection_type": "Snowflake",
            "connection_type_id": "snowflake", "is_test_connection": false,
            "connection_update_by": "u", "connection_update_time": "2026-01-01T00:00:00Z",
            "account": "acme", "database": "DW", "role": null,
            "password_exists": true, "api_token_exists": false,
        }));
        let (body, stored) = document_of(&c);
        assert_eq!(
            Value::Object(body.clone()),
            json!({"name": "Warehouse Snowflake", "type": "snowflake", "parameters": {"account": "acme", "database": "DW"}})
        );
        assert_eq!(stored, ["password"]);
        assert_eq!(
            file_value(&body, &stored)["secrets"],
            json!({"password": {"env": "BDI_SECRET_WAREHOUSE_SNOWFLAKE_PASSWORD"}})
        );
    }

    #[test]
    fn secret_variables_read_as_shell_names() {
        assert_eq!(
            secret_variable("  Orders / MySQL (eu) ", "password"),
            "BDI_SECRET_ORDERS_MYSQL_EU_PASSWORD"
        );
        assert_eq!(
            secret_variable("x", "account_key"),
            "BDI_SECRET_X_ACCOUNT_KEY"
        );
    }

    #[test]
    fn a_document_with_a_secret_in_it_is_refused_with_every_problem() {
        let raw = obj(json!({
            "name": "db", "type": 3, "colour": "red",
            "parameters": {"host": "h", "password": "hunter2", "token": ""},
            "secrets": {"api_key": "plain", "other": {"env": "1BAD"}},
        }));
        let problems = read("connections/db.yaml", &raw).unwrap_err();
        let paths: Vec<&str> = problems.iter().filter_map(|p| p.path.as_deref()).collect();
        assert_eq!(
            paths,
            [
                "colour",
                "type",
                "secrets.api_key",
                "secrets.other",
                "parameters.password"
            ]
        );
        assert!(problems.iter().all(|p| !p.message.contains("hunter2")));
    }

    #[test]
    fn secrets_come_from_the_environment_and_every_missing_one_is_named() {
        let doc = read(
            "connections/db.yaml",
            &obj(
                json!({"name": "db", "type": "mysql", "parameters": {"host": "h"},
                "secrets": {"password": {"env": "DB_PASSWORD"}, "api_token": {"env": "DB_TOKEN"}}}),
            ),
        )
        .unwrap();
        let missing = resolve_secrets(&doc, |_| None).unwrap_err();
        assert_eq!(missing.len(), 2);
        assert!(missing[0].message.contains("DB_TOKEN"));
        let found = resolve_secrets(&doc, |v| Some(format!("{v}-value"))).unwrap();
        let body = create_body(&doc, &found);
        assert_eq!(
            Value::Object(body),
            json!({"connection_name": "db", "connection_type": "mysql", "host": "h",
                "password": "DB_PASSWORD-value", "api_token": "DB_TOKEN-value"})
        );
    }

    #[test]
    fn an_update_patches_what_differs_and_sends_the_secrets_again() {
        let doc = read(
            "connections/db.yaml",
            &obj(
                json!({"name": "db2", "type": "mysql", "parameters": {"host": "new", "port": 3306},
                "secrets": {"password": {"env": "P"}}}),
            ),
        )
        .unwrap();
        let current = obj(
            json!({"name": "db", "type": "mysql", "parameters": {"host": "old", "port": 3306, "schema": "s"}}),
        );
        let secrets = obj(json!({"password": "x"}));
        assert_eq!(
            Value::Object(update_patch(&current, &doc, &secrets)),
            json!({"connection_name": "db2", "host": "new", "password": "x"})
        );
    }

    #[test]
    fn connections_are_matched_by_record_then_name_and_never_deleted() {
        let doc = |file: &str, name: &str, host: &str| {
            read(
                file,
                &obj(json!({"name": name, "type": "mysql", "parameters": {"host": host}})),
            )
            .unwrap()
        };
        let docs = [
            doc("connections/a.yaml", "renamed", "h"),
            doc("connections/b.yaml", "b", "h2"),
            doc("connections/c.yaml", "c", "h"),
        ];
        let current = vec![
            Current {
                id: "1".into(),
                body: obj(json!({"name": "a", "type": "mysql", "parameters": {"host": "h"}})),
            },
            Current {
                id: "2".into(),
                body: obj(json!({"name": "b", "type": "mysql", "parameters": {"host": "h"}})),
            },
            Current {
                id: "3".into(),
                body: obj(json!({"name": "unused", "type": "mysql"})),
            },
        ];
        let identity = Identity([("connections/a.yaml".to_owned(), "1".to_owned())].into());
        let listed: BTreeMap<String, String> = [("1", "a"), ("2", "b"), ("3", "unused")]
            .into_iter()
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect();
        assert_eq!(
            candidates(&docs, &identity, &listed),
            ["1".to_owned(), "2".to_owned()].into()
        );
        let plan = plan(&docs, &identity, &current).unwrap();
        let summary: Vec<(super::super::Action, Option<&str>)> = plan
            .changes
            .iter()
            .map(|c| (c.action, c.id.as_deref()))
            .collect();
        use super::super::Action::*;
        assert_eq!(
            summary,
            [(Rename, Some("1")), (Update, Some("2")), (Create, None)]
        );
        assert!(
            plan.changes
                .iter()
                .all(|c| c.resource == Resource::Connection)
        );
    }
}
