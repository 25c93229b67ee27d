//! Flows as code: an environment's data flows as documents (the desired state), compared with
//! what the environment holds (the current state), as a plan of typed changes. Pure: no I/O, so
//! the CLI renders a plan, the gateway returns one, and tests compute them with no server.
//!
//! A document is a data flow in its clean form ([`clean`]: no server-managed fields, no nulls,
//! keys in a stable order). Which upstream data flow a document is comes from an [`Identity`]
//! record (file → id, per environment), never from the name alone, so renaming a flow in its
//! file renames it upstream instead of creating a second one.
//!
//! The comparison follows what an apply does, a JSON merge patch (RFC 7396): a key the document
//! leaves out is left alone upstream, so a field the server adds is never a change; a list is
//! replaced whole, so inside list items a field only the server has is a change unless it holds
//! the server's default for that place ([`SERVER_DEFAULTS`]).
//!
//! An environment is more than its data flows: [`connections`] holds the connection documents
//! (parameters in the file, secrets named and taken from environment variables), [`variables`]
//! the environment's variables and the `{name}` references documents make to them, and
//! [`promotion`] the translation of documents for another environment (connections, variables
//! and groups mapped by name).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub mod connections;
pub mod promotion;
pub mod variables;

/// Top-level keys the server manages; they are never written back.
const SERVER_KEYS: &[&str] = &[
    "cross_id",
    "river_cross_id",
    "id",
    "_id",
    "title",
    "account_id",
    "environment_id",
    "environment_name",
    "group_name",
    "is_api_v2",
];

/// `metadata` keys the server manages.
const SERVER_METADATA_KEYS: &[&str] = &[
    "river_status",
    "created_at",
    "created_by",
    "last_updated_at",
    "last_updated_by",
    "current_version_id",
    "is_deleted",
];

/// `properties` keys the server adds on write (read-only enrichment).
const SERVER_PROPERTY_KEYS: &[&str] = &["additional_source_settings", "additional_target_settings"];

/// The order keys are written in ([`DOCUMENT_KEYS`]); the rest follow in their own order.
const KEY_ORDER: &[&str] = DOCUMENT_KEYS;

/// Fields inside list items that the server fills when a write leaves them out, with the value it
/// fills (`docs/upstream-api.md`, the data flow body): a path pattern where `[]` is any item.
pub const SERVER_DEFAULTS: &[(&str, Value)] = &[
    ("schedulers[].is_enabled", Value::Bool(false)),
    (
        "properties.schemas[].tables[].is_selected",
        Value::Bool(false),
    ),
    (
        "properties.schemas[].tables[].is_custom_incremental",
        Value::Bool(false),
    ),
];

/// The id a raw document names, if any (`cross_id`, `river_cross_id` or `id`).
pub fn document_id(doc: &Map<String, Value>) -> Option<String> {
    ["cross_id", "river_cross_id", "id"]
        .iter()
        .find_map(|k| doc.get(*k).and_then(Value::as_str))
        .filter(|s| !s.trim().is_empty())
        .map(str::to_owned)
}

/// The clean form of a data flow document: no server-managed fields, no nulls, keys in a stable
/// order. Applying it to the same flow changes nothing.
pub fn clean(doc: &Map<String, Value>) -> Map<String, Value> {
    let mut doc = doc.clone();
    for k in SERVER_KEYS {
        doc.remove(*k);
    }
    if let Some(Value::Object(meta)) = doc.get_mut("metadata") {
        for k in SERVER_METADATA_KEYS {
            meta.remove(*k);
        }
    }
    if let Some(Value::Object(props)) = doc.get_mut("properties") {
        for k in SERVER_PROPERTY_KEYS {
            props.remove(*k);
        }
    }
    let mut v = Value::Object(doc);
    strip_nulls(&mut v);
    let Value::Object(mut doc) = v else {
        return Map::new();
    };
    let mut ordered = Map::new();
    for k in KEY_ORDER {
        if let Some(v) = doc.remove(*k) {
            ordered.insert((*k).to_owned(), v);
        }
    }
    ordered.extend(doc);
    ordered
}

/// Removes null-valued keys of objects, recursively (list items stay).
fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// A document as read from a file: the desired state of one data flow.
#[derive(Clone, Debug, PartialEq)]
pub struct Desired {
    /// The file it was read from, relative to the directory (`flows/orders.yaml`).
    pub file: String,
    /// Its clean form.
    pub body: Map<String, Value>,
}

/// A data flow as the environment holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct Current {
    /// Its id.
    pub id: String,
    /// Its document, in clean form.
    pub body: Map<String, Value>,
}

/// Which upstream data flow each file is, in one environment: file → id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Identity(pub BTreeMap<String, String>);

/// What a change does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A document with no data flow upstream: create it.
    Create,
    /// A data flow whose fields differ from its document.
    Update,
    /// A data flow whose name differs from its document's (and perhaps other fields).
    Rename,
    /// A data flow with no document (deleted only when asked to prune).
    Delete,
}

/// What a change is to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    /// An environment variable (`variables.yaml`).
    Variable,
    /// A connection (`connections/*.yaml`).
    Connection,
    /// A data flow (`flows/*.yaml`).
    DataFlow,
}

impl Resource {
    /// How messages name it: `data flow`, `connection`, `variable`.
    pub fn label(self) -> &'static str {
        match self {
            Self::DataFlow => "data flow",
            Self::Connection => "connection",
            Self::Variable => "variable",
        }
    }
}

/// One field of a change: `before` upstream, `after` the document (`None`: absent).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldChange {
    /// Dotted path, with `[i]` for list items: `properties.schemas[0].name`.
    pub path: String,
    /// The value upstream.
    pub before: Option<Value>,
    /// The value the document asks for.
    pub after: Option<Value>,
}

/// A change to one data flow.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    /// What it is to.
    pub resource: Resource,
    /// What it does.
    pub action: Action,
    /// The data flow's name (the document's, or upstream's for a delete).
    pub name: String,
    /// The data flow's id (`None` for a create).
    pub id: Option<String>,
    /// The document's file (`None` for a delete).
    pub file: Option<String>,
    /// The fields it changes (every field of the document for a create, none for a delete).
    pub fields: Vec<FieldChange>,
}

impl Change {
    /// Whether an apply carries it out: everything but a delete, and a data flow's delete when
    /// pruning. Connections and variables are never deleted by an apply: the directory holds
    /// only the connections its data flows use, and a variable may serve flows outside it.
    pub fn applies(&self, prune: bool) -> bool {
        self.action != Action::Delete || (prune && self.resource == Resource::DataFlow)
    }
}

/// What an apply would do: the changes (variables, then connections, then data flows, each in
/// the documents' order then the deletes).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Plan {
    /// The changes.
    pub changes: Vec<Change>,
    /// How many documents match their data flow, connection or variable exactly.
    pub unchanged: usize,
}

impl Plan {
    /// Whether an apply would change anything ([`Change::applies`]).
    pub fn has_changes(&self, prune: bool) -> bool {
        self.changes.iter().any(|c| c.applies(prune))
    }

    /// Adds `other`'s changes after its own.
    pub fn extend(&mut self, other: Plan) {
        self.changes.extend(other.changes);
        self.unchanged += other.unchanged;
    }
}

/// Why documents cannot be planned: every problem at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file.
    pub file: String,
    /// Where in it (`name`), if anywhere in particular.
    pub path: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// The keys a data flow document may hold at the top (`docs/upstream-api.md` 6.1), once clean.
pub const DOCUMENT_KEYS: &[&str] = &[
    "name",
    "type",
    "kind",
    "group_id",
    "metadata",
    "settings",
    "properties",
    "schedulers",
];

/// The data flow types a document may name.
const TYPES: &[&str] = &["source_to_target", "actions", "logic", "connector_executor"];

/// Where a document names a connection.
const CONNECTION_PATHS: &[(&str, &str)] =
    &[("source", "connection_id"), ("target", "connection_id")];

/// Every problem of `documents` that the platform would refuse or that would write the wrong
/// thing, found before anything is sent: an unknown top-level key (a top-level `description`
/// belongs in `metadata.description`), a value of the wrong type, an unknown data flow type or
/// kind, more than one scheduler, and a connection the environment does not have (`connections`:
/// the ids it has).
pub fn validate(documents: &[Desired], connections: &BTreeSet<String>) -> Vec<Problem> {
    let mut out = Vec::new();
    for d in documents {
        let mut problem = |path: &str, message: String| {
            out.push(Problem {
                file: d.file.clone(),
                path: Some(path.to_owned()),
                message,
            });
        };
        for (key, value) in &d.body {
            if !DOCUMENT_KEYS.contains(&key.as_str()) {
                let hint = if key == "description" {
                    " (a description belongs in metadata.description)".to_owned()
                } else {
                    format!(": a document holds {}", DOCUMENT_KEYS.join(", "))
                };
                problem(key, format!("unknown key{hint}"));
                continue;
            }
            let wanted = match key.as_str() {
                "name" | "type" | "kind" | "group_id" => "a string",
                "metadata" | "settings" | "properties" => "an object",
                _ => "a list",
            };
            let fits = match wanted {
                "a string" => value.is_string(),
                "an object" => value.is_object(),
                _ => value.is_array(),
            };
            if !fits {
                problem(key, format!("must be {wanted}, not {}", kind_of(value)));
                continue;
            }
            match (key.as_str(), value) {
                ("type", Value::String(t)) if !TYPES.contains(&t.as_str()) => {
                    problem(
                        key,
                        format!("unknown type {t:?}: one of {}", TYPES.join(", ")),
                    );
                }
                ("kind", Value::String(k)) if k != "main_river" && k != "sub_river" => {
                    problem(key, format!("unknown kind {k:?}: main_river or sub_river"));
                }
                ("schedulers", Value::Array(items)) => {
                    if items.len() > 1 {
                        problem(
                            key,
                            format!(
                                "holds {} schedulers; a data flow has at most one",
                                items.len()
                            ),
                        );
                    }
                    for (i, item) in items.iter().enumerate() {
                        let cron = item.get("cron_expression");
                        if !cron.is_some_and(Value::is_string) {
                            problem(
                                &format!("schedulers[{i}].cron_expression"),
                                "a scheduler needs a cron_expression (a string, e.g. \"0 * * * *\")".to_owned(),
                            );
                        }
                    }
                }
                ("properties", Value::Object(props)) => {
                    for (side, field) in CONNECTION_PATHS {
                        let Some(found) = props.get(*side).and_then(|s| s.get(*field)) else {
                            continue;
                        };
                        let path = format!("properties.{side}.{field}");
                        match found.as_str() {
                            Some(id) if !connections.contains(id) => {
                                problem(&path, format!("the environment has no connection {id}"));
                            }
                            Some(_) => {}
                            None => {
                                problem(&path, format!("must be a string, not {}", kind_of(found)));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// The connections a document names.
pub fn connections_of(body: &Map<String, Value>) -> Vec<String> {
    let Some(Value::Object(props)) = body.get("properties") else {
        return Vec::new();
    };
    CONNECTION_PATHS
        .iter()
        .filter_map(|(side, field)| props.get(*side)?.get(*field)?.as_str())
        .map(str::to_owned)
        .collect()
}

/// `a string`, `a list`, ...: a value's kind, as messages name it.
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn name_of(body: &Map<String, Value>) -> Option<&str> {
    body.get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
}

/// The plan that makes `current` match `desired`, each document's data flow found through
/// `identity` first, then by name (a data flow no file claims, with that name, and only one).
/// Documents without a name, two documents with one name, two files that claim one id, and a name
/// that matches several upstream data flows are problems, all listed.
pub fn plan(
    desired: &[Desired],
    identity: &Identity,
    current: &[Current],
) -> Result<Plan, Vec<Problem>> {
    plan_of(Resource::DataFlow, desired, identity, current)
}

/// [`plan`] for any resource whose documents have a `name`.
pub(crate) fn plan_of(
    resource: Resource,
    desired: &[Desired],
    identity: &Identity,
    current: &[Current],
) -> Result<Plan, Vec<Problem>> {
    let what = resource.label();
    let mut problems = Vec::new();
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    let mut claimed: BTreeMap<&str, &str> = BTreeMap::new();
    for d in desired {
        match name_of(&d.body) {
            None => problems.push(Problem {
                file: d.file.clone(),
                path: Some("name".to_owned()),
                message: format!("a {what} needs a name"),
            }),
            Some(name) => {
                if let Some(first) = names.insert(name, &d.file) {
                    problems.push(Problem {
                        file: d.file.clone(),
                        path: Some("name".to_owned()),
                        message: format!("the name {name:?} is also the name in {first}"),
                    });
                }
            }
        }
        if let Some(id) = identity.0.get(&d.file)
            && let Some(first) = claimed.insert(id, &d.file)
        {
            problems.push(Problem {
                file: d.file.clone(),
                path: None,
                message: format!("the identity record gives it the {what} {id} of {first} too"),
            });
        }
    }
    let by_id: BTreeMap<&str, &Current> = current.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut used: BTreeSet<&str> = BTreeSet::new();
    let mut matched: Vec<Option<&Current>> = Vec::with_capacity(desired.len());
    // First the files the record names, so that a name match never takes a flow a file owns.
    for d in desired {
        let found = identity
            .0
            .get(&d.file)
            .and_then(|id| by_id.get(id.as_str()).copied());
        if let Some(c) = found {
            used.insert(&c.id);
        }
        matched.push(found);
    }
    for (d, slot) in desired.iter().zip(matched.iter_mut()) {
        if slot.is_some() {
            continue;
        }
        let Some(name) = name_of(&d.body) else {
            continue;
        };
        let same: Vec<&Current> = current
            .iter()
            .filter(|c| !used.contains(c.id.as_str()) && name_of(&c.body) == Some(name))
            .collect();
        match same.as_slice() {
            [] => {}
            [one] => {
                used.insert(&one.id);
                *slot = Some(one);
            }
            many => problems.push(Problem {
                file: d.file.clone(),
                path: Some("name".to_owned()),
                message: format!(
                    "{} {what}s upstream are named {name:?} ({}): record which one this file is in the identity record",
                    many.len(),
                    many.iter()
                        .map(|c| c.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut out = Plan::default();
    for (d, found) in desired.iter().zip(matched) {
        let name = name_of(&d.body).unwrap_or_default().to_owned();
        let Some(c) = found else {
            out.changes.push(Change {
                resource,
                action: Action::Create,
                name,
                id: None,
                file: Some(d.file.clone()),
                fields: compare(&Map::new(), &d.body),
            });
            continue;
        };
        let fields = compare(&c.body, &d.body);
        if fields.is_empty() {
            out.unchanged += 1;
            continue;
        }
        let renamed = fields.iter().any(|f| f.path == "name");
        out.changes.push(Change {
            resource,
            action: if renamed {
                Action::Rename
            } else {
                Action::Update
            },
            name,
            id: Some(c.id.clone()),
            file: Some(d.file.clone()),
            fields,
        });
    }
    for c in current {
        if !used.contains(c.id.as_str()) {
            out.changes.push(Change {
                resource,
                action: Action::Delete,
                name: name_of(&c.body).unwrap_or_default().to_owned(),
                id: Some(c.id.clone()),
                file: None,
                fields: Vec::new(),
            });
        }
    }
    Ok(out)
}

/// The fields a merge patch of `desired` would change in `current` (see the module's doc).
pub fn compare(current: &Map<String, Value>, desired: &Map<String, Value>) -> Vec<FieldChange> {
    let mut out = Vec::new();
    merge_walk("", current, desired, &mut out);
    out
}

/// The merge patch that makes `current` what `desired` asks, and nothing more: only the keys
/// whose comparison shows a change, objects patched key by key, a list (or any other value) whole.
/// A patch of only what changed leaves alone what someone else changed meanwhile in the other
/// fields, when the domain merges it into the data flow as it is at the write.
pub fn patch(current: &Map<String, Value>, desired: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, want) in desired {
        let mut one = Vec::new();
        let single = |v: &Value| Map::from_iter([(k.clone(), v.clone())]);
        let have = current.get(k);
        merge_walk(
            "",
            &have.map(single).unwrap_or_default(),
            &single(want),
            &mut one,
        );
        if one.is_empty() {
            continue;
        }
        match (have, want) {
            (Some(Value::Object(h)), Value::Object(w)) => {
                out.insert(k.clone(), Value::Object(patch(h, w)));
            }
            _ => {
                out.insert(k.clone(), want.clone());
            }
        }
    }
    out
}

/// `base.key` (`key` alone at the top): a field's path.
pub fn join(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_owned()
    } else {
        format!("{base}.{key}")
    }
}

/// Objects merge: only the keys the document names are compared.
fn merge_walk(
    path: &str,
    current: &Map<String, Value>,
    desired: &Map<String, Value>,
    out: &mut Vec<FieldChange>,
) {
    for (k, want) in desired {
        let at = join(path, k);
        match (current.get(k), want) {
            (None, Value::Null) => {}
            (Some(have), Value::Null) => out.push(FieldChange {
                path: at,
                before: Some(have.clone()),
                after: None,
            }),
            (Some(Value::Object(have)), Value::Object(want)) => merge_walk(&at, have, want, out),
            (Some(have), want) => replace_walk(&at, have, want, out),
            (None, want) => out.push(FieldChange {
                path: at,
                before: None,
                after: Some(want.clone()),
            }),
        }
    }
}

/// Lists are replaced whole: inside them, a field only upstream has is a change unless it holds
/// the server's default for that place.
fn replace_walk(path: &str, current: &Value, desired: &Value, out: &mut Vec<FieldChange>) {
    match (current, desired) {
        (Value::Object(have), Value::Object(want)) if inside_list(path) => {
            for (k, v) in want {
                let at = join(path, k);
                match have.get(k) {
                    Some(h) => replace_walk(&at, h, v, out),
                    None => out.push(FieldChange {
                        path: at,
                        before: None,
                        after: Some(v.clone()),
                    }),
                }
            }
            for (k, h) in have {
                let at = join(path, k);
                if !want.contains_key(k) && !is_server_default(&at, h) {
                    out.push(FieldChange {
                        path: at,
                        before: Some(h.clone()),
                        after: None,
                    });
                }
            }
        }
        (Value::Object(have), Value::Object(want)) => merge_walk(path, have, want, out),
        (Value::Array(have), Value::Array(want)) if have.len() == want.len() => {
            for (i, (h, w)) in have.iter().zip(want).enumerate() {
                replace_walk(&format!("{path}[{i}]"), h, w, out);
            }
        }
        _ if current == desired => {}
        _ => out.push(FieldChange {
            path: path.to_owned(),
            before: Some(current.clone()),
            after: Some(desired.clone()),
        }),
    }
}

/// Whether `path` is inside a list item (`schedulers[0]`, `properties.schemas[1].tables[0]`).
fn inside_list(path: &str) -> bool {
    path.contains('[')
}

/// Whether `value` at `path` is what the server fills in there anyway ([`SERVER_DEFAULTS`]).
fn is_server_default(path: &str, value: &Value) -> bool {
    let general = generalize(path);
    SERVER_DEFAULTS
        .iter()
        .any(|(pattern, default)| value == default && matches_pattern(&general, pattern))
}

/// `properties.schemas[3].tables[0].x` as `properties.schemas[].tables[].x`.
fn generalize(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for ch in path.chars() {
        match ch {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            _ => out.push(ch),
        }
    }
    out
}

/// A pattern's `*` stands for one path segment.
fn matches_pattern(path: &str, pattern: &str) -> bool {
    let a: Vec<&str> = path.split('.').collect();
    let b: Vec<&str> = pattern.split('.').collect();
    a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| *y == "*" || x == y)
}

#[cfg(test)]
mod tests;
