//! Table matching for `set_data_flow_source_tables`: the discovery result parsed into a
//! [`Catalog`], the caller's table names matched against it, and `properties.schemas` rebuilt.
//!
//! Matching is case-insensitive; `schema.table` disambiguates a name found in several schemas.
//! Every problem (unknown names with their closest candidates, ambiguous names with their
//! qualified candidates) is collected and reported together, so that nothing is written unless
//! every name matches.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::Error;
use crate::error::quote;

/// A connection's tables, as metadata discovery reports them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// Schemas (databases, datasets) in discovery order.
    pub schemas: Vec<SchemaEntry>,
}

/// One schema and its tables.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SchemaEntry {
    /// Exact name.
    pub name: String,
    /// Tables in discovery order.
    pub tables: Vec<TableEntry>,
}

/// One table and its columns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableEntry {
    /// Exact name.
    pub name: String,
    /// Columns (empty when discovery did not detail them).
    pub columns: Vec<Column>,
}

/// One column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Name.
    pub name: String,
    /// Source type (`STRING` when not reported).
    #[serde(rename = "type")]
    pub data_type: String,
    /// Part of the primary key.
    pub is_key: bool,
    /// Nullable.
    pub nullable: bool,
}

impl Catalog {
    /// Parses an operation's `result` (`docs/upstream-api.md` 7.2): a map of schema to a map of table to an
    /// entry whose columns are under `columns`, `modified_columns` or `fields`, or a bare list. A
    /// JSON-encoded string is accepted too.
    pub fn from_discovery(result: &Value) -> Result<Self, Error> {
        if let Value::String(s) = result
            && let Ok(inner) = serde_json::from_str::<Value>(s)
        {
            return Self::from_discovery(&inner);
        }
        let Value::Object(schemas) = result else {
            return Err(Error::Decode {
                path: "result".to_owned(),
                message: format!(
                    "expected a map of schema to tables, got {}",
                    kind_of(result)
                ),
            });
        };
        let mut out = Vec::with_capacity(schemas.len());
        for (schema, tables) in schemas {
            let tables = match tables {
                Value::Object(t) => t
                    .iter()
                    .map(|(name, entry)| TableEntry {
                        name: name.clone(),
                        columns: columns_of(entry),
                    })
                    .collect(),
                Value::Array(names) => names
                    .iter()
                    .filter_map(|n| n.as_str())
                    .map(|name| TableEntry {
                        name: name.to_owned(),
                        columns: Vec::new(),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            out.push(SchemaEntry {
                name: schema.clone(),
                tables,
            });
        }
        Ok(Self { schemas: out })
    }

    /// The number of tables across all schemas.
    pub fn table_count(&self) -> usize {
        self.schemas.iter().map(|s| s.tables.len()).sum()
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn columns_of(entry: &Value) -> Vec<Column> {
    let list = match entry {
        Value::Array(l) => Some(l),
        Value::Object(m) => ["columns", "modified_columns", "fields"]
            .iter()
            .find_map(|k| m.get(*k).and_then(Value::as_array)),
        _ => None,
    };
    list.map(|l| l.iter().filter_map(column_of).collect())
        .unwrap_or_default()
}

fn first<'a>(m: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|k| m.get(*k).filter(|v| !v.is_null()))
}

fn truthy(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|f| f != 0.0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "pri" => Some(true),
            "false" | "no" | "n" | "0" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn column_of(v: &Value) -> Option<Column> {
    let m = match v {
        Value::Object(m) => m,
        Value::String(name) => {
            return Some(Column {
                name: name.clone(),
                data_type: "STRING".to_owned(),
                is_key: false,
                nullable: true,
            });
        }
        _ => return None,
    };
    let name = first(m, &["name", "column_name", "field_name"])?
        .as_str()?
        .to_owned();
    let data_type = first(m, &["type", "data_type", "column_type", "target_type"])
        .and_then(Value::as_str)
        .unwrap_or("STRING")
        .to_owned();
    let nullable = match m.get("mode").and_then(Value::as_str) {
        Some(mode) => !mode.eq_ignore_ascii_case("REQUIRED"),
        None => first(m, &["nullable", "is_nullable", "is_null", "allow_null"])
            .and_then(truthy)
            .unwrap_or(true),
    };
    let is_key = first(m, &["is_key", "is_primary_key", "primary_key", "pk", "key"])
        .and_then(truthy)
        .unwrap_or(false);
    Some(Column {
        name,
        data_type,
        is_key,
        nullable,
    })
}

/// A table resolved to its schema, with the connection's exact casing.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QualifiedTable {
    /// Exact schema name.
    pub schema: String,
    /// Exact table name.
    pub table: String,
}

impl fmt::Display for QualifiedTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.table)
    }
}

/// One name that could not be matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MatchProblem {
    /// An empty name.
    Empty,
    /// No table has this name; `candidates` are the closest qualified names (up to 3).
    Unknown {
        /// The name as given.
        name: String,
        /// Closest qualified names, best first.
        candidates: Vec<String>,
    },
    /// The name exists in several schemas; `candidates` are the qualified names.
    Ambiguous {
        /// The name as given.
        name: String,
        /// Every qualified name it matches.
        candidates: Vec<String>,
    },
}

impl fmt::Display for MatchProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("an empty table name"),
            Self::Unknown { name, candidates } if candidates.is_empty() => {
                write!(
                    f,
                    "{} matches no table, and no table has a similar name",
                    quote(name)
                )
            }
            Self::Unknown { name, candidates } => write!(
                f,
                "{} matches no table; did you mean {}?",
                quote(name),
                candidates.join(", ")
            ),
            Self::Ambiguous { name, candidates } => write!(
                f,
                "{} matches several tables ({}); write it as schema.table with the exact name",
                quote(name),
                candidates.join(", ")
            ),
        }
    }
}

/// Every problem found while matching; nothing may be written while there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchError {
    /// The problems, in input order.
    pub problems: Vec<MatchProblem>,
    /// How many names were requested.
    pub requested: usize,
    /// How many tables the connection has.
    pub available: usize,
}

impl MatchError {
    /// Whether any problem is an unknown name (worth refreshing a cached catalog for).
    pub fn has_unknown(&self) -> bool {
        self.problems
            .iter()
            .any(|p| matches!(p, MatchProblem::Unknown { .. }))
    }
}

impl fmt::Display for MatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self.problems.iter().map(ToString::to_string).collect();
        write!(
            f,
            "{} of {} table names could not be matched against the connection's {} tables: {}; nothing was changed: correct the names and call again with every table",
            self.problems.len(),
            self.requested,
            self.available,
            items.join("; ")
        )
    }
}

impl std::error::Error for MatchError {}

impl From<MatchError> for Error {
    fn from(e: MatchError) -> Self {
        Error::invalid("table_names", e.to_string())
    }
}

/// Resolves every requested name against the catalog (see the module documentation). Duplicates
/// are removed, keeping the first occurrence's position.
pub fn match_tables(
    catalog: &Catalog,
    requested: &[String],
) -> Result<Vec<QualifiedTable>, MatchError> {
    let mut index: HashMap<String, Vec<QualifiedTable>> = HashMap::new();
    for s in &catalog.schemas {
        for t in &s.tables {
            index
                .entry(t.name.to_lowercase())
                .or_default()
                .push(QualifiedTable {
                    schema: s.name.clone(),
                    table: t.name.clone(),
                });
        }
    }
    let mut found: Vec<QualifiedTable> = Vec::new();
    let mut problems = Vec::new();
    for raw in requested {
        let name = raw.trim();
        if name.is_empty() {
            problems.push(MatchProblem::Empty);
            continue;
        }
        match resolve(catalog, &index, name) {
            Ok(q) => {
                if !found.contains(&q) {
                    found.push(q);
                }
            }
            Err(p) => problems.push(p),
        }
    }
    if problems.is_empty() {
        Ok(found)
    } else {
        Err(MatchError {
            problems,
            requested: requested.len(),
            available: catalog.table_count(),
        })
    }
}

/// Narrows several case-insensitive matches to the one with the exact casing, when there is
/// exactly one.
fn pick(
    mut hits: Vec<QualifiedTable>,
    exact: impl Fn(&QualifiedTable) -> bool,
) -> Vec<QualifiedTable> {
    if hits.len() > 1 {
        let exact_hits: Vec<QualifiedTable> = hits.iter().filter(|q| exact(q)).cloned().collect();
        if exact_hits.len() == 1 {
            hits = exact_hits;
        }
    }
    hits
}

fn resolve(
    catalog: &Catalog,
    index: &HashMap<String, Vec<QualifiedTable>>,
    name: &str,
) -> Result<QualifiedTable, MatchProblem> {
    // Qualified forms first: every split at a dot, since names may contain dots themselves.
    let mut qualified = Vec::new();
    for (i, _) in name.match_indices('.') {
        let (schema, table) = (&name[..i], &name[i + 1..]);
        for q in index.get(&table.to_lowercase()).into_iter().flatten() {
            if q.schema.to_lowercase() == schema.to_lowercase() {
                qualified.push(q.clone());
            }
        }
    }
    let qualified = pick(qualified, |q| q.to_string() == name);
    let hits = if qualified.is_empty() {
        pick(
            index.get(&name.to_lowercase()).cloned().unwrap_or_default(),
            |q| q.table == name,
        )
    } else {
        qualified
    };
    match hits.len() {
        1 => Ok(hits.into_iter().next().expect("one hit")),
        0 => Err(MatchProblem::Unknown {
            name: name.to_owned(),
            candidates: closest(catalog, name, 3),
        }),
        _ => Err(MatchProblem::Ambiguous {
            name: name.to_owned(),
            candidates: hits.iter().map(ToString::to_string).collect(),
        }),
    }
}

/// Levenshtein distance over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The `limit` qualified names closest to `name` (by edit distance on lowercase names, with
/// containment counting as close), best first and then in catalog order; names further than a
/// third of the name's length (at least 2 edits) are not suggested.
pub fn closest(catalog: &Catalog, name: &str, limit: usize) -> Vec<String> {
    let wanted = name.to_lowercase();
    let qualified_input = wanted.contains('.');
    let threshold = (wanted.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, String)> = Vec::new();
    for s in &catalog.schemas {
        for t in &s.tables {
            let q = format!("{}.{}", s.name, t.name);
            let against = if qualified_input {
                q.to_lowercase()
            } else {
                t.name.to_lowercase()
            };
            let mut d = edit_distance(&wanted, &against);
            if d > threshold && (against.contains(&wanted) || wanted.contains(&against)) {
                d = threshold;
            }
            if d <= threshold {
                scored.push((d, q));
            }
        }
    }
    scored.sort_by_key(|(d, _)| *d);
    scored.into_iter().take(limit).map(|(_, q)| q).collect()
}

/// Builds `properties.schemas` for the matched tables (`docs/upstream-api.md` 7.3): grouped by schema in input
/// order, each table `{"run_type_and_datasource":"multi_tables","details":{...}}` with the
/// connection's exact names. A table already in `current_schemas` keeps its `details`
/// (incremental settings, `modified_columns`) with `is_selected` forced to true.
pub fn build_schemas(current_schemas: &Value, matched: &[QualifiedTable]) -> Value {
    let mut existing: HashMap<(String, String), Map<String, Value>> = HashMap::new();
    for s in current_schemas.as_array().into_iter().flatten() {
        let Some(schema) = s.get("name").and_then(Value::as_str) else {
            continue;
        };
        for t in s
            .get("tables")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(details) = t.get("details").and_then(Value::as_object)
                && let Some(name) = details.get("name").and_then(Value::as_str)
            {
                existing
                    .entry((schema.to_lowercase(), name.to_lowercase()))
                    .or_insert_with(|| details.clone());
            }
        }
    }
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    for q in matched {
        let mut details = existing
            .get(&(q.schema.to_lowercase(), q.table.to_lowercase()))
            .cloned()
            .unwrap_or_default();
        details.insert("name".to_owned(), Value::String(q.table.clone()));
        details.insert("is_selected".to_owned(), Value::Bool(true));
        let table = json!({"run_type_and_datasource": "multi_tables", "details": details});
        match groups.iter_mut().find(|(s, _)| *s == q.schema) {
            Some((_, tables)) => tables.push(table),
            None => groups.push((q.schema.clone(), vec![table])),
        }
    }
    Value::Array(
        groups
            .into_iter()
            .map(|(name, tables)| json!({"name": name, "tables": tables}))
            .collect(),
    )
}

#[cfg(test)]
mod tests;
