//! A promotion: documents pulled from one environment, translated for another. What the
//! documents name by id there (connections, groups) is mapped **by name** to the target's own
//! ids, a mapping file overriding a name; variables are named by name already (`{days_ago}`), so
//! the target must simply have them. Pure: the CLI reads both environments and the mapping file.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{Desired, Problem};

/// What the documents' environment calls things: id → name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceNames {
    /// Connection id → name.
    pub connections: BTreeMap<String, String>,
    /// Group id → name.
    pub groups: BTreeMap<String, String>,
}

/// What the target environment has: name → id, and its variables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Target {
    /// Connection name → id.
    pub connections: BTreeMap<String, String>,
    /// Group name → id (the groups its data flows are in: groups are made in the console only).
    pub groups: BTreeMap<String, String>,
    /// Its variables' names (`None`: the token may not read them, so they are not checked).
    pub variables: Option<BTreeSet<String>>,
}

/// A mapping file's overrides: a source name → the target's name (or id) for it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Connections.
    pub connections: BTreeMap<String, String>,
    /// Groups.
    pub groups: BTreeMap<String, String>,
}

/// What a translation did that a person should know (nothing refused).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// The file.
    pub file: String,
    /// What happened.
    pub message: String,
}

/// Rewrites `documents` for the target: each connection id and group id mapped by name.
/// A connection the target lacks, and a variable it lacks, is a problem: every one is listed and
/// nothing is translated. A group the target lacks is dropped with a notice, so the data flow
/// lands in the target's default group (groups cannot be made through the API).
pub fn translate(
    documents: &mut [Desired],
    source: &SourceNames,
    target: &Target,
    overrides: &Overrides,
) -> Result<Vec<Notice>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut notices = Vec::new();
    let target_connection_ids: BTreeSet<&str> =
        target.connections.values().map(String::as_str).collect();
    let target_group_ids: BTreeSet<&str> = target.groups.values().map(String::as_str).collect();
    for d in documents.iter_mut() {
        let had = target.variables.as_ref();
        for (name, path) in super::variables::references(&d.body) {
            if had.is_some_and(|v| !v.contains(&name))
                && !super::variables::RESERVED.contains(&name.as_str())
            {
                problems.push(Problem {
                    file: d.file.clone(),
                    path: Some(path),
                    message: format!(
                        "names the variable {{{name}}}, which the target environment does not have: create it there first"
                    ),
                });
            }
        }
        if let Some(group) = d
            .body
            .get("group_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
        {
            let name = source.groups.get(&group);
            let wanted = name.map(|n| overrides.groups.get(n).unwrap_or(n));
            let mapped = wanted.and_then(|w| {
                target
                    .groups
                    .get(w)
                    .cloned()
                    .or_else(|| target_group_ids.contains(w.as_str()).then(|| w.clone()))
            });
            match mapped {
                Some(id) => {
                    d.body.insert("group_id".into(), Value::String(id));
                }
                None => {
                    d.body.remove("group_id");
                    notices.push(Notice {
                        file: d.file.clone(),
                        message: format!(
                            "the target has no group {}: the data flow keeps the group it has there, or a new one gets the default group",
                            crate::error::quote(wanted.map_or(group.as_str(), String::as_str))
                        ),
                    });
                }
            }
        }
        let Some(Value::Object(props)) = d.body.get_mut("properties") else {
            continue;
        };
        for side in ["source", "target"] {
            let Some(Value::Object(end)) = props.get_mut(side) else {
                continue;
            };
            let Some(id) = end
                .get("connection_id")
                .and_then(Value::as_str)
                .map(str::to_owned)
            else {
                continue;
            };
            let path = Some(format!("properties.{side}.connection_id"));
            let Some(name) = source.connections.get(&id) else {
                problems.push(Problem {
                    file: d.file.clone(),
                    path,
                    message: format!(
                        "connection {id} has no document in connections/ (the record of the environment the documents were pulled from does not name it): pull them again"
                    ),
                });
                continue;
            };
            let wanted = overrides.connections.get(name).unwrap_or(name);
            let mapped = target.connections.get(wanted).cloned().or_else(|| {
                target_connection_ids
                    .contains(wanted.as_str())
                    .then(|| wanted.clone())
            });
            match mapped {
                Some(target_id) => {
                    end.insert("connection_id".into(), Value::String(target_id));
                    if end.contains_key("connection_name") {
                        end.insert("connection_name".into(), Value::String(wanted.clone()));
                    }
                }
                None => problems.push(Problem {
                    file: d.file.clone(),
                    path,
                    message: format!(
                        "the target environment has no connection named {} (create it there, or map it in the mapping file)",
                        crate::error::quote(wanted)
                    ),
                }),
            }
        }
    }
    if problems.is_empty() {
        Ok(notices)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn doc(file: &str, v: Value) -> Desired {
        Desired {
            file: file.into(),
            body: v.as_object().cloned().unwrap(),
        }
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    fn source() -> SourceNames {
        SourceNames {
            connections: map(&[
                ("src-my", "Orders MySQL"),
                ("src-sf", "Warehouse Snowflake"),
            ]),
            groups: map(&[("g-src", "Finance"), ("g-other", "Marketing")]),
        }
    }

    #[test]
    fn connections_and_groups_are_mapped_by_name() {
        let mut docs = vec![doc(
            "flows/a.yaml",
            json!({"name": "a", "group_id": "g-src", "properties": {
                "source": {"connection_id": "src-my", "connection_name": "Orders MySQL"},
                "target": {"connection_id": "src-sf"}}}),
        )];
        let target = Target {
            connections: map(&[("Staging MySQL", "t-my"), ("Warehouse Snowflake", "t-sf")]),
            groups: map(&[("Finance", "g-t")]),
            variables: Some(BTreeSet::new()),
        };
        let overrides = Overrides {
            connections: map(&[("Orders MySQL", "Staging MySQL")]),
            groups: BTreeMap::new(),
        };
        let notices = translate(&mut docs, &source(), &target, &overrides).unwrap();
        assert!(notices.is_empty());
        assert_eq!(
            Value::Object(docs[0].body.clone()),
            json!({"name": "a", "group_id": "g-t", "properties": {
                "source": {"connection_id": "t-my", "connection_name": "Staging MySQL"},
                "target": {"connection_id": "t-sf"}}})
        );
    }

    #[test]
    fn every_missing_connection_and_variable_is_listed_at_once() {
        let mut docs = vec![
            doc(
                "flows/a.yaml",
                json!({"name": "a", "properties": {"source": {"connection_id": "src-my", "query": "{days_ago} {run_id}"},
                    "target": {"connection_id": "src-sf"}}}),
            ),
            doc(
                "flows/b.yaml",
                json!({"name": "b", "group_id": "g-other", "properties": {"source": {"connection_id": "unknown"}}}),
            ),
        ];
        let before = docs.clone();
        let target = Target {
            variables: Some(BTreeSet::new()),
            ..Target::default()
        };
        let problems = translate(&mut docs, &source(), &target, &Overrides::default()).unwrap_err();
        let found: Vec<(&str, Option<&str>)> = problems
            .iter()
            .map(|p| (p.file.as_str(), p.path.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                ("flows/a.yaml", Some("properties.source.query")),
                ("flows/a.yaml", Some("properties.source.connection_id")),
                ("flows/a.yaml", Some("properties.target.connection_id")),
                ("flows/b.yaml", Some("properties.source.connection_id")),
            ]
        );
        assert!(problems[1].message.contains("`Orders MySQL`"));
        assert_eq!(docs[0].body["name"], before[0].body["name"]);
    }

    #[test]
    fn a_group_the_target_lacks_is_dropped_with_a_notice() {
        let mut docs = vec![doc(
            "flows/b.yaml",
            json!({"name": "b", "group_id": "g-other"}),
        )];
        let notices = translate(
            &mut docs,
            &source(),
            &Target::default(),
            &Overrides::default(),
        )
        .unwrap();
        assert!(!docs[0].body.contains_key("group_id"));
        assert!(notices[0].message.contains("`Marketing`"));
    }
}
