//! An environment's variables as a document (`variables.yaml`), their plan, and the variables
//! data flow documents name.
//!
//! A document names a variable as the platform does, in curly brackets: `{days_ago}`, a name of
//! letters, digits and `_` (the platform's own rule for variable names). A `{...}` holding
//! anything else (`{"a": 1}`, `{0}`, `{ x }`) is not a variable. The platform sets
//! [`RESERVED`] itself on every run, so a document may name them with no variable defined.
//!
//! A variable whose name reads as a secret (`api_token`, `db_password`) is written as the
//! environment variable that holds its value (`{env: BDI_VARIABLE_API_TOKEN}`), never as the
//! value, and its value is never shown in a plan.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::{Action, Change, Desired, FieldChange, Plan, Problem, Resource, join, kind_of};
use crate::models::Variables;

/// The file of the environment's variables, at the directory's root.
pub const VARIABLES_FILE: &str = "variables.yaml";

/// Variables the platform sets itself on every run.
pub const RESERVED: &[&str] = &["run_id"];

/// What a variable should hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wanted {
    /// This value, written in the file.
    Value(String),
    /// The value of an environment variable where the command runs (`None`: not set there).
    FromEnv {
        /// The environment variable.
        env: String,
        /// Its value, if set.
        value: Option<String>,
    },
}

/// `variables.yaml`: the variables the environment should have.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VariablesDocument {
    /// The file.
    pub file: String,
    /// Name → what it should hold.
    pub values: BTreeMap<String, Wanted>,
}

/// Whether a variable holds a secret, by its name (as connection fields are judged).
pub fn is_secret(name: &str) -> bool {
    crate::service::is_credential_key(name) || name.to_ascii_lowercase().contains("key")
}

/// The environment variable a pull names for a secret variable: `BDI_VARIABLE_<NAME>`.
pub fn secret_env(name: &str) -> String {
    format!("BDI_VARIABLE_{}", name.to_ascii_uppercase())
}

/// The file's value, as a pull writes it: `{variables: {name: value | {env: NAME}}}`.
pub fn file_value(current: &Variables) -> Value {
    let values: Map<String, Value> = current
        .iter()
        .map(|(name, value)| {
            let v = if is_secret(name) {
                serde_json::json!({ "env": secret_env(name) })
            } else {
                Value::String(value.clone())
            };
            (name.clone(), v)
        })
        .collect();
    serde_json::json!({ "variables": values })
}

/// Whether `name` is a variable name the platform accepts: letters, digits and `_`, not
/// starting with a digit.
pub fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Reads `variables.yaml`'s value, the environment variables read with `lookup`: every problem
/// at once.
pub fn read(
    file: &str,
    raw: &Map<String, Value>,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<VariablesDocument, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut problem = |path: String, message: String| {
        problems.push(Problem {
            file: file.to_owned(),
            path: Some(path),
            message,
        });
    };
    for key in raw.keys().filter(|k| *k != "variables") {
        problem(
            key.clone(),
            "unknown key: the file holds `variables:` only".to_owned(),
        );
    }
    let mut values = BTreeMap::new();
    match raw.get("variables") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, v) in map {
                let path = join("variables", name);
                if !is_name(name) {
                    problem(
                        path,
                        "a variable name holds letters, digits and _ only, and starts with a letter or _".to_owned(),
                    );
                    continue;
                }
                let wanted = match v {
                    Value::String(s) => Wanted::Value(s.clone()),
                    Value::Number(n) => Wanted::Value(n.to_string()),
                    Value::Bool(b) => Wanted::Value(b.to_string()),
                    Value::Object(o)
                        if o.len() == 1 && o.get("env").is_some_and(Value::is_string) =>
                    {
                        let env = o["env"].as_str().unwrap_or_default().to_owned();
                        let value = lookup(&env);
                        Wanted::FromEnv { env, value }
                    }
                    other => {
                        problem(
                            path,
                            format!(
                                "must be a value (text) or {{env: NAME}}, not {}",
                                kind_of(other)
                            ),
                        );
                        continue;
                    }
                };
                values.insert(name.clone(), wanted);
            }
        }
        Some(other) => problem(
            "variables".to_owned(),
            format!("must be an object of name: value, not {}", kind_of(other)),
        ),
    }
    if problems.is_empty() {
        Ok(VariablesDocument {
            file: file.to_owned(),
            values,
        })
    } else {
        Err(problems)
    }
}

/// What a plan shows for a value: itself, or for a secret only where it comes from.
fn shown(name: &str, value: &str) -> Value {
    if is_secret(name) {
        Value::String("(hidden)".to_owned())
    } else {
        Value::String(value.to_owned())
    }
}

/// The plan that makes the environment's variables what `document` asks: creates and updates
/// (a secret's values hidden), and the variables only upstream has as deletes, which an apply
/// never carries out ([`Change::applies`]). A variable whose value comes from an environment
/// variable that is not set is not compared (it is a problem only if it must be created:
/// [`problems`]).
pub fn plan(document: &VariablesDocument, current: &Variables) -> Plan {
    let mut out = Plan::default();
    let change = |action, name: &str, before: Option<Value>, after: Option<Value>| Change {
        resource: Resource::Variable,
        action,
        name: name.to_owned(),
        id: None,
        file: (action != Action::Delete).then(|| document.file.clone()),
        fields: if action == Action::Delete {
            Vec::new()
        } else {
            vec![FieldChange {
                path: "value".to_owned(),
                before,
                after,
            }]
        },
    };
    for (name, wanted) in &document.values {
        let (value, after) = match wanted {
            Wanted::Value(v) => (Some(v.as_str()), Some(shown(name, v))),
            Wanted::FromEnv { env, value } => (
                value.as_deref(),
                Some(Value::String(format!("(from {env})"))),
            ),
        };
        match (current.get(name), value) {
            (Some(_), None) => out.unchanged += 1,
            (Some(have), Some(want)) if have == want => out.unchanged += 1,
            (Some(have), Some(_)) => {
                let before = if matches!(wanted, Wanted::FromEnv { .. }) {
                    Value::String("(hidden)".to_owned())
                } else {
                    shown(name, have)
                };
                out.changes
                    .push(change(Action::Update, name, Some(before), after));
            }
            (None, _) => out.changes.push(change(Action::Create, name, None, after)),
        }
    }
    for name in current.keys() {
        if !document.values.contains_key(name) {
            out.changes.push(change(Action::Delete, name, None, None));
        }
    }
    out
}

/// The variables `document` asks to create whose value cannot be read: each a problem.
pub fn problems(document: &VariablesDocument, current: &Variables) -> Vec<Problem> {
    document
        .values
        .iter()
        .filter_map(|(name, wanted)| match wanted {
            Wanted::FromEnv { env, value: None } if !current.contains_key(name) => Some(Problem {
                file: document.file.clone(),
                path: Some(join("variables", name)),
                message: format!(
                    "set the environment variable {env}: the environment has no variable {name} yet, and its value comes from there"
                ),
            }),
            _ => None,
        })
        .collect()
}

/// The values an apply sends: the variables to create or update, with their values.
pub fn to_send(document: &VariablesDocument, plan: &Plan) -> Variables {
    plan.changes
        .iter()
        .filter(|c| c.resource == Resource::Variable && c.action != Action::Delete)
        .filter_map(|c| {
            let value = match document.values.get(&c.name)? {
                Wanted::Value(v) => v.clone(),
                Wanted::FromEnv { value, .. } => value.clone()?,
            };
            Some((c.name.clone(), value))
        })
        .collect()
}

/// Every `{name}` a document names, with the path of the first string that names it.
pub fn references(body: &Map<String, Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in body {
        walk(&join("", k), v, &mut out);
    }
    out
}

fn walk(path: &str, v: &Value, out: &mut BTreeMap<String, String>) {
    match v {
        Value::String(s) => {
            for name in names_in(s) {
                out.entry(name).or_insert_with(|| path.to_owned());
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(&format!("{path}[{i}]"), item, out);
            }
        }
        Value::Object(m) => {
            for (k, item) in m {
                walk(&join(path, k), item, out);
            }
        }
        _ => {}
    }
}

/// The variable names in `{...}` in `s`.
fn names_in(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find(['}', '{']) {
            Some(close) if after.as_bytes()[close] == b'}' => {
                let name = &after[..close];
                if is_name(name) {
                    out.push(name.to_owned());
                }
                rest = &after[close + 1..];
            }
            Some(close) => rest = &after[close..],
            None => break,
        }
    }
    out
}

/// Every variable the documents name that is not `known` (the environment's, the ones the
/// directory creates) nor [`RESERVED`]: a problem each, all listed.
pub fn check_references(documents: &[Desired], known: &BTreeSet<String>) -> Vec<Problem> {
    let mut out = Vec::new();
    for d in documents {
        for (name, path) in references(&d.body) {
            if known.contains(&name) || RESERVED.contains(&name.as_str()) {
                continue;
            }
            out.push(Problem {
                file: d.file.clone(),
                path: Some(path),
                message: format!(
                    "names the variable {{{name}}}, which the environment does not have: add it to {VARIABLES_FILE}, or create it there"
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn vars(pairs: &[(&str, &str)]) -> Variables {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn references_are_names_in_curly_brackets_only() {
        let body = obj(json!({
            "properties": {"source": {"query": "select * from t where d > now() - {days_ago} and s = '{target_schema}'"},
                "target": {"x": "{\"a\": 1} {0} { spaced } {nested{inner}} {run_id}"}},
            "schedulers": [{"note": "{days_ago}"}],
        }));
        let found = references(&body);
        assert_eq!(
            found.keys().map(String::as_str).collect::<Vec<_>>(),
            ["days_ago", "inner", "run_id", "target_schema"]
        );
        assert_eq!(found["days_ago"], "properties.source.query");
        let known: BTreeSet<String> = ["days_ago".to_owned()].into();
        let problems = check_references(
            &[Desired {
                file: "flows/a.yaml".into(),
                body,
            }],
            &known,
        );
        let named: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(named.len(), 2, "{named:?}");
        assert!(named[0].contains("{inner}") && named[1].contains("{target_schema}"));
    }

    #[test]
    fn secret_variables_are_written_as_where_they_come_from() {
        let v = file_value(&vars(&[("days_ago", "1"), ("api_token", "s3cr3t")]));
        assert_eq!(
            v,
            json!({"variables": {"api_token": {"env": "BDI_VARIABLE_API_TOKEN"}, "days_ago": "1"}})
        );
        assert!(!v.to_string().contains("s3cr3t"));
    }

    #[test]
    fn the_plan_creates_updates_and_never_shows_a_secret() {
        let env = |name: &str| (name == "BDI_VARIABLE_API_TOKEN").then(|| "new-secret".to_owned());
        let doc = read(
            VARIABLES_FILE,
            &obj(
                json!({"variables": {"days_ago": 3, "target_schema": "PUBLIC", "fresh": "x",
                "api_token": {"env": "BDI_VARIABLE_API_TOKEN"}, "db_password": {"env": "UNSET"}}}),
            ),
            env,
        )
        .unwrap();
        let current = vars(&[
            ("days_ago", "1"),
            ("target_schema", "PUBLIC"),
            ("api_token", "old-secret"),
            ("db_password", "kept"),
            ("console_only", "y"),
        ]);
        let plan = plan(&doc, &current);
        let text = serde_json::to_string(&plan).unwrap();
        assert!(
            !text.contains("secret\"")
                && !text.contains("old-secret")
                && !text.contains("new-secret")
        );
        let summary: Vec<(Action, &str)> = plan
            .changes
            .iter()
            .map(|c| (c.action, c.name.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                (Action::Update, "api_token"),
                (Action::Update, "days_ago"),
                (Action::Create, "fresh"),
                (Action::Delete, "console_only"),
            ]
        );
        assert_eq!(plan.unchanged, 2);
        assert!(
            !plan.changes[3].applies(true),
            "variables are never deleted"
        );
        assert_eq!(
            to_send(&doc, &plan),
            vars(&[
                ("api_token", "new-secret"),
                ("days_ago", "3"),
                ("fresh", "x")
            ])
        );
        assert!(problems(&doc, &current).is_empty());
        assert_eq!(problems(&doc, &vars(&[])).len(), 1);
    }

    #[test]
    fn a_bad_variables_file_lists_every_problem() {
        let problems = read(
            VARIABLES_FILE,
            &obj(json!({"variables": {"ok": "1", "bad.name": "x", "list": [1]}, "other": 1})),
            |_| None,
        )
        .unwrap_err();
        let paths: Vec<&str> = problems.iter().filter_map(|p| p.path.as_deref()).collect();
        assert_eq!(paths, ["other", "variables.bad.name", "variables.list"]);
    }
}
