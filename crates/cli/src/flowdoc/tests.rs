//! Unit tests of parsing and diffing documents.

use serde_json::json;

use super::*;

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

#[test]
fn diff_lists_changed_paths() {
    let a = json!({"name": "a", "metadata": {"description": "old"}, "schedulers": [], "properties": {"schemas": [{"name": "s", "tables": [1]}]}, "gone": 1});
    let b = json!({"name": "a", "metadata": {"description": "new"}, "schedulers": [{"cron_expression": "0 * * * *"}], "properties": {"schemas": [{"name": "t", "tables": [1]}]}, "extra": true});
    let lines: Vec<String> = diff(&a, &b).iter().map(Change::line).collect();
    insta::assert_snapshot!(lines.join("\n"), @r#"
    ~ metadata.description: "old" -> "new"
    ~ schedulers: [] -> [{"cron_expression":"0 * * * *"}]
    ~ properties.schemas[0].name: "s" -> "t"
    - gone: 1
    + extra: true
    "#);
    assert!(diff(&a, &a).is_empty());
}

#[test]
fn documents_parse_from_json_and_yaml() {
    assert_eq!(
        parse_document("name: x\ntype: logic\n", false, "f").unwrap(),
        obj(json!({"name": "x", "type": "logic"}))
    );
    assert_eq!(
        parse_document(r#"{"name": "x"}"#, false, "f").unwrap(),
        obj(json!({"name": "x"}))
    );
    assert_eq!(
        parse_document("[1]", true, "f.json").unwrap_err(),
        "f.json must hold an object, not a list"
    );
    assert!(
        parse_document("{", true, "f.json")
            .unwrap_err()
            .starts_with("f.json is not valid JSON")
    );
}
