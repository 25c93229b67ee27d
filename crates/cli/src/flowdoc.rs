//! Flows as code in the CLI: reading documents from files and a readable diff of two documents.
//! The clean form of a document and the plan are the domain's (`bdi_domain::plan`).
//!
//! Pure: no I/O except [`read_document`], which reads the file it is given.

use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};

pub use bdi_domain::plan::{clean, document_id};

/// Reads a JSON or YAML document (a `.json` file is JSON; anything else is read as YAML, which
/// accepts JSON too); `-` reads stdin.
pub fn read_document(
    path: &Path,
    stdin: &mut dyn std::io::BufRead,
) -> Result<Map<String, Value>, String> {
    let text = if path.as_os_str() == "-" {
        let mut s = String::new();
        stdin
            .read_to_string(&mut s)
            .map_err(|e| format!("could not read stdin: {e}"))?;
        s
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| format!("could not read {}: {e}", path.display()))?
    };
    let name = if path.as_os_str() == "-" {
        "stdin".to_owned()
    } else {
        path.display().to_string()
    };
    parse_document(&text, path.extension().is_some_and(|e| e == "json"), &name)
}

/// Parses a document's text; it must be an object.
pub fn parse_document(text: &str, json: bool, name: &str) -> Result<Map<String, Value>, String> {
    let value: Value = if json {
        serde_json::from_str(text).map_err(|e| format!("{name} is not valid JSON: {e}"))?
    } else {
        serde_norway::from_str(text)
            .map_err(|e| format!("{name} is not valid YAML or JSON: {e}"))?
    };
    match value {
        Value::Object(m) => Ok(m),
        other => Err(format!(
            "{name} must hold an object, not {}",
            bdi_domain::plan::kind_of(&other)
        )),
    }
}

/// One difference between two documents.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    /// `add`, `remove` or `change`.
    pub op: &'static str,
    /// Dotted path, with `[i]` for list items: `properties.schemas[0].name`.
    pub path: String,
    /// The current value (none for `add`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Value>,
    /// The new value (none for `remove`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Value>,
}

impl Change {
    /// `+ path: value`, `- path: value` or `~ path: old -> new`.
    pub fn line(&self) -> String {
        let show = |v: &Option<Value>| {
            v.as_ref()
                .map_or_else(String::new, std::string::ToString::to_string)
        };
        match self.op {
            "add" => format!("+ {}: {}", self.path, show(&self.to)),
            "remove" => format!("- {}: {}", self.path, show(&self.from)),
            _ => format!(
                "~ {}: {} -> {}",
                self.path,
                show(&self.from),
                show(&self.to)
            ),
        }
    }
}

/// The changes that turn `from` into `to`. Objects are compared key by key, lists of the same
/// length item by item; anything else that differs is one change.
pub fn diff(from: &Value, to: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    walk("", from, to, &mut out);
    out
}

fn walk(path: &str, from: &Value, to: &Value, out: &mut Vec<Change>) {
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                match b.get(k) {
                    Some(vb) => walk(&bdi_domain::plan::join(path, k), va, vb, out),
                    None => out.push(Change {
                        op: "remove",
                        path: bdi_domain::plan::join(path, k),
                        from: Some(va.clone()),
                        to: None,
                    }),
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    out.push(Change {
                        op: "add",
                        path: bdi_domain::plan::join(path, k),
                        from: None,
                        to: Some(vb.clone()),
                    });
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                walk(&format!("{path}[{i}]"), va, vb, out);
            }
        }
        _ if from == to => {}
        _ => out.push(Change {
            op: "change",
            path: if path.is_empty() {
                "(document)".to_owned()
            } else {
                path.to_owned()
            },
            from: Some(from.clone()),
            to: Some(to.clone()),
        }),
    }
}

#[cfg(test)]
mod tests;
