//! The plan, computed with no server: matching by identity then by name, renames, creates,
//! deletes, merge-patch comparison with the server's defaults, and every problem listed at once.

use serde_json::json;

use super::*;

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn desired(file: &str, v: Value) -> Desired {
    Desired {
        file: file.into(),
        body: obj(v),
    }
}

fn current(id: &str, v: Value) -> Current {
    Current {
        id: id.into(),
        body: obj(v),
    }
}

fn identity(pairs: &[(&str, &str)]) -> Identity {
    Identity(
        pairs
            .iter()
            .map(|(f, i)| ((*f).to_owned(), (*i).to_owned()))
            .collect(),
    )
}

#[test]
fn clean_drops_server_fields_and_nulls_and_orders_keys() {
    let doc = obj(json!({
        "cross_id": "5f", "account_id": "a", "environment_id": "e", "environment_name": "Prod",
        "group_name": "g", "group_id": "gid", "is_api_v2": true,
        "properties": {"source": {"name": "postgres", "connection_id": null}, "additional_target_settings": {}},
        "metadata": {"description": "d", "river_status": "active", "created_at": "t"},
        "schedulers": [], "settings": null, "name": "orders", "type": "source_to_target",
    }));
    let cleaned = clean(&doc);
    let keys: Vec<&String> = cleaned.keys().collect();
    assert_eq!(
        keys,
        [
            "name",
            "type",
            "group_id",
            "metadata",
            "properties",
            "schedulers"
        ]
    );
    assert_eq!(clean(&doc)["metadata"], json!({"description": "d"}));
    assert_eq!(document_id(&doc).as_deref(), Some("5f"));
    assert_eq!(document_id(&clean(&doc)), None);
}

#[test]
fn a_document_equal_to_its_flow_is_no_change_and_server_additions_are_ignored() {
    let doc = json!({"name": "orders", "type": "source_to_target",
        "schedulers": [{"cron_expression": "0 * * * *"}],
        "properties": {"schemas": [{"name": "public", "tables": [{"name": "t", "is_selected": true}]}]}});
    let mut upstream = doc.clone();
    // What the server adds: a key the document leaves out, and defaults inside list items.
    upstream["metadata"] = json!({"description": "set in the console"});
    upstream["schedulers"][0]["is_enabled"] = json!(false);
    upstream["properties"]["schemas"][0]["tables"][0]["is_custom_incremental"] = json!(false);
    let p = plan(
        &[desired("flows/orders.yaml", doc)],
        &identity(&[("flows/orders.yaml", "f1")]),
        &[current("f1", upstream)],
    )
    .unwrap();
    assert_eq!(p.changes, []);
    assert_eq!(p.unchanged, 1);
    assert!(!p.has_changes(true));
}

#[test]
fn drift_names_the_field_and_a_non_default_inside_a_list_is_a_change() {
    let doc = json!({"name": "orders", "settings": {"run_timeout_seconds": 600},
        "schedulers": [{"cron_expression": "0 * * * *", "is_enabled": true}]});
    let mut upstream = doc.clone();
    upstream["settings"]["run_timeout_seconds"] = json!(900);
    upstream["schedulers"][0]["retries"] = json!(3);
    let p = plan(
        &[desired("a.yaml", doc)],
        &identity(&[("a.yaml", "f1")]),
        &[current("f1", upstream)],
    )
    .unwrap();
    assert_eq!(p.changes.len(), 1);
    let c = &p.changes[0];
    assert_eq!(
        (c.action, c.id.as_deref(), c.name.as_str()),
        (Action::Update, Some("f1"), "orders")
    );
    assert_eq!(
        c.fields,
        [
            FieldChange {
                path: "settings.run_timeout_seconds".into(),
                before: Some(json!(900)),
                after: Some(json!(600)),
            },
            FieldChange {
                path: "schedulers[0].retries".into(),
                before: Some(json!(3)),
                after: None,
            },
        ]
    );
}

#[test]
fn a_rename_in_the_file_renames_the_flow_it_is() {
    let p = plan(
        &[desired(
            "a.yaml",
            json!({"name": "orders_v2", "type": "logic"}),
        )],
        &identity(&[("a.yaml", "f1")]),
        &[current("f1", json!({"name": "orders", "type": "logic"}))],
    )
    .unwrap();
    assert_eq!(p.changes.len(), 1, "{p:?}");
    assert_eq!(p.changes[0].action, Action::Rename);
    assert_eq!(p.changes[0].id.as_deref(), Some("f1"));
    assert_eq!(
        p.changes[0].fields,
        [FieldChange {
            path: "name".into(),
            before: Some(json!("orders")),
            after: Some(json!("orders_v2")),
        }]
    );
}

#[test]
fn creates_updates_and_deletes_with_the_record_before_names() {
    let p = plan(
        &[
            // Recorded: matched by id although another flow has its name.
            desired("a.yaml", json!({"name": "b", "type": "logic"})),
            // Not recorded: matched by name, to the one flow no file owns.
            desired("c.yaml", json!({"name": "c", "type": "logic"})),
            // Nothing upstream: created.
            desired("new.yaml", json!({"name": "new", "type": "logic"})),
        ],
        &identity(&[("a.yaml", "f1")]),
        &[
            current("f1", json!({"name": "a", "type": "logic"})),
            current("f2", json!({"name": "b", "type": "logic"})),
            current("f3", json!({"name": "c", "type": "logic"})),
        ],
    )
    .unwrap();
    let summary: Vec<(Action, &str, Option<&str>)> = p
        .changes
        .iter()
        .map(|c| (c.action, c.name.as_str(), c.id.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            (Action::Rename, "b", Some("f1")),
            (Action::Create, "new", None),
            (Action::Delete, "b", Some("f2")),
        ]
    );
    assert_eq!(p.unchanged, 1, "c.yaml matches f3");
    assert!(p.has_changes(false));
    let create = &p.changes[1];
    assert_eq!(create.fields.len(), 2, "every field of the document");
}

#[test]
fn deletes_alone_are_changes_only_when_pruning() {
    let p = plan(
        &[],
        &Identity::default(),
        &[current("f1", json!({"name": "a"}))],
    )
    .unwrap();
    assert!(!p.has_changes(false));
    assert!(p.has_changes(true));
}

#[test]
fn every_problem_is_listed_at_once() {
    let problems = plan(
        &[
            desired("a.yaml", json!({"name": "x"})),
            desired("b.yaml", json!({"name": "x"})),
            desired("c.yaml", json!({"type": "logic"})),
            desired("d.yaml", json!({"name": "twice"})),
            desired("e.yaml", json!({"name": "e"})),
        ],
        &identity(&[("a.yaml", "f9"), ("e.yaml", "f9")]),
        &[
            current("f1", json!({"name": "twice"})),
            current("f2", json!({"name": "twice"})),
        ],
    )
    .unwrap_err();
    let lines: Vec<String> = problems
        .iter()
        .map(|p| {
            format!(
                "{} {}: {}",
                p.file,
                p.path.as_deref().unwrap_or("-"),
                p.message
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            r#"b.yaml name: the name "x" is also the name in a.yaml"#,
            "c.yaml name: a data flow needs a name",
            "e.yaml -: the identity record gives it the data flow f9 of a.yaml too",
            r#"d.yaml name: 2 data flows upstream are named "twice" (f1, f2): record which one this file is in the identity record"#,
        ]
    );
}

#[test]
fn lists_of_another_length_are_one_change_and_null_removes_a_key() {
    let fields = compare(
        &obj(json!({"schedulers": [], "metadata": {"description": "d"}})),
        &obj(
            json!({"schedulers": [{"cron_expression": "0 * * * *"}], "metadata": {"description": null}}),
        ),
    );
    assert_eq!(
        fields,
        [
            FieldChange {
                path: "schedulers".into(),
                before: Some(json!([])),
                after: Some(json!([{"cron_expression": "0 * * * *"}])),
            },
            FieldChange {
                path: "metadata.description".into(),
                before: Some(json!("d")),
                after: None,
            },
        ]
    );
}

#[test]
fn a_patch_holds_only_what_changed_with_lists_whole() {
    let current = obj(
        json!({"name": "a", "metadata": {"description": "d", "owner": "x"},
        "schedulers": [{"cron_expression": "0 * * * *", "is_enabled": false}], "settings": {"run_timeout_seconds": 60}}),
    );
    let desired = obj(
        json!({"name": "a", "metadata": {"description": "new", "owner": "x"},
        "schedulers": [{"cron_expression": "5 * * * *"}], "settings": {"run_timeout_seconds": 60}}),
    );
    assert_eq!(
        Value::Object(patch(&current, &desired)),
        json!({"metadata": {"description": "new"}, "schedulers": [{"cron_expression": "5 * * * *"}]})
    );
    // A list that differs only by the server's defaults is not patched.
    let same = obj(json!({"schedulers": [{"cron_expression": "0 * * * *"}]}));
    assert!(patch(&current, &same).is_empty());
    assert!(patch(&current, &current).is_empty());
}

#[test]
fn validation_lists_every_problem_with_its_file_and_path() {
    let connections: BTreeSet<String> = ["64b0c0a1e4b0a1c2d3e4f501".to_owned()].into();
    let problems = validate(
        &[
            desired(
                "a.yaml",
                json!({"name": "a", "type": "source_to_target", "description": "x", "colour": 1,
                    "properties": {"source": {"connection_id": "64b0c0a1e4b0a1c2d3e4f501"},
                                   "target": {"connection_id": "64b0c0a1e4b0a1c2d3e4f5ff"}}}),
            ),
            desired(
                "b.yaml",
                json!({"name": 7, "type": "teleport", "kind": "side_river", "settings": [],
                    "schedulers": [{"cron_expression": "0 * * * *"}, {"is_enabled": true}]}),
            ),
            desired(
                "c.yaml",
                json!({"name": "fine", "type": "logic", "schedulers": []}),
            ),
        ],
        &connections,
    );
    let lines: Vec<String> = problems
        .iter()
        .map(|p| {
            format!(
                "{} {}: {}",
                p.file,
                p.path.as_deref().unwrap_or("-"),
                p.message
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            "a.yaml description: unknown key (a description belongs in metadata.description)",
            "a.yaml colour: unknown key: a document holds name, type, kind, group_id, metadata, settings, properties, schedulers",
            "a.yaml properties.target.connection_id: the environment has no connection 64b0c0a1e4b0a1c2d3e4f5ff",
            "b.yaml name: must be a string, not a number",
            r#"b.yaml type: unknown type "teleport": one of source_to_target, actions, logic, connector_executor"#,
            r#"b.yaml kind: unknown kind "side_river": main_river or sub_river"#,
            "b.yaml settings: must be an object, not a list",
            "b.yaml schedulers: holds 2 schedulers; a data flow has at most one",
            r#"b.yaml schedulers[1].cron_expression: a scheduler needs a cron_expression (a string, e.g. "0 * * * *")"#,
        ]
    );
}
