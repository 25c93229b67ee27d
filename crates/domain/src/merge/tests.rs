//! Tests of the deep merge, the write preparation and the immutability guard.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn merged(target: Value, patch: Value) -> Value {
    let mut t = target;
    merge_patch(&mut t, &patch);
    t
}

#[test]
fn merge_patch_follows_rfc_7396() {
    // The examples of RFC 7396 appendix A, one line each: (target, patch, result).
    let cases = [
        (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
        (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
        (json!({"a":"b"}), json!({"a":null}), json!({})),
        (
            json!({"a":"b","b":"c"}),
            json!({"a":null}),
            json!({"b":"c"}),
        ),
        (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
        (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
        (
            json!({"a":{"b":"c"}}),
            json!({"a":{"b":"d","c":null}}),
            json!({"a":{"b":"d"}}),
        ),
        (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
        (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
        (json!({"a":"b"}), json!(["c"]), json!(["c"])),
        (json!({"a":"foo"}), json!(null), json!(null)),
        (json!({"a":"foo"}), json!("bar"), json!("bar")),
        (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
        (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
        (
            json!({}),
            json!({"a":{"bb":{"ccc":null}}}),
            json!({"a":{"bb":{}}}),
        ),
    ];
    for (target, patch, want) in cases {
        assert_eq!(
            merged(target.clone(), patch.clone()),
            want,
            "{target} + {patch}"
        );
    }
}

#[test]
fn merge_patch_on_a_data_flow_document() {
    let flow = json!({"name":"old","properties":{"target":{"name":"snowflake","schema_name":"RAW"},
        "schemas":[{"name":"a"},{"name":"b"}]},"schedulers":[{"cron_expression":"0 * * * *"}]});
    let cases = [
        (json!({"name":"new"}), "/name", json!("new")),
        (
            json!({"properties":{"target":{"schema_name":"PUBLIC"}}}),
            "/properties/target/schema_name",
            json!("PUBLIC"),
        ),
        (
            json!({"properties":{"target":{"schema_name":"PUBLIC"}}}),
            "/properties/target/name",
            json!("snowflake"),
        ),
        (
            json!({"properties":{"schemas":[{"name":"c"}]}}),
            "/properties/schemas",
            json!([{"name":"c"}]),
        ),
        (json!({"schedulers":[]}), "/schedulers", json!([])),
    ];
    for (patch, pointer, want) in cases {
        let out = merged(flow.clone(), patch.clone());
        assert_eq!(out.pointer(pointer), Some(&want), "{patch} at {pointer}");
    }
    let removed = merged(flow, json!({"properties":{"target":{"schema_name":null}}}));
    assert!(removed.pointer("/properties/target/schema_name").is_none());
}

fn doc(v: Value) -> Document {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

#[test]
fn prepare_strips_forbidden_server_fields_and_nulls() {
    let mut d = doc(json!({
        "cross_id":"507f191e810c19729de860ea","_id":"x","id":"y","title":"t","account_id":"a",
        "environment_name":"prod","group_name":"g","river_cross_id":"r","is_api_v2":true,
        "environment_id":"e","group_id":"g1","name":"flow","type":"source_to_target",
        "metadata":{"description":null,"river_status":"active","created_at":"2021-01-01"},
        "settings":null,"schedulers":null,
        "properties":{"source":{"name":"mysql","connection_name":null},
                      "schemas":[{"name":"s","tables":[{"details":{"target_table":null}}]}]}
    }));
    prepare_data_flow_write(&mut d);
    let got = Value::Object(d);
    assert_eq!(
        got,
        json!({
            "environment_id":"e","group_id":"g1","name":"flow","type":"source_to_target",
            "metadata":{"river_status":"active","created_at":"2021-01-01"},
            "properties":{"source":{"name":"mysql"},
                          "schemas":[{"name":"s","tables":[{"details":{"target_table":null}}]}]},
            "settings":{}
        })
    );
}

#[test]
fn prepare_keeps_a_good_body_unchanged() {
    let body = json!({"name":"n","type":"logic","metadata":{},"settings":{"run_timeout_seconds":60},
        "properties":{"properties_type":"logic","logic_steps":[{"step_id":"1"}]}});
    let mut d = doc(body.clone());
    prepare_data_flow_write(&mut d);
    assert_eq!(Value::Object(d), body);
}

#[test]
fn check_immutable_refuses_run_type_and_type_changes() {
    let cur =
        json!({"type":"source_to_target","properties":{"source":{"run_type":"multi_tables"}}});
    let cases = [
        (
            json!({"type":"source_to_target","properties":{"source":{"run_type":"multi_tables"}}}),
            None,
        ),
        (json!({"properties":{"source":{"name":"mysql"}}}), None),
        (
            json!({"type":"source_to_target","properties":{"source":{"run_type":null}}}),
            None,
        ),
        (
            json!({"properties":{"source":{"run_type":"regular"}}}),
            Some("properties.source.run_type"),
        ),
        (json!({"type":"logic"}), Some("type")),
    ];
    for (next, want) in cases {
        match (check_immutable(&cur, &next), want) {
            (Ok(()), None) => {}
            (Err(Error::InvalidInput { field, message }), Some(f)) => {
                assert_eq!(field, f);
                assert!(
                    message.contains("delete the data flow and create it again"),
                    "{message}"
                );
            }
            (got, want) => panic!("{next}: got {got:?}, want {want:?}"),
        }
    }
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..5).prop_map(Value::from),
        "[a-c]{0,2}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-d]", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Value> {
    prop::collection::btree_map("[a-d]", json_value(), 0..4)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

proptest! {
    #[test]
    fn empty_patch_changes_nothing(target in json_object()) {
        prop_assert_eq!(merged(target.clone(), json!({})), target);
    }

    #[test]
    fn merging_twice_equals_merging_once(target in json_value(), patch in json_value()) {
        let once = merged(target, patch.clone());
        prop_assert_eq!(merged(once.clone(), patch), once);
    }

    #[test]
    fn keys_absent_from_the_patch_are_untouched(target in json_object(), patch in json_object()) {
        let out = merged(target.clone(), patch.clone());
        for (k, v) in target.as_object().expect("object strategy") {
            if patch.get(k).is_none() {
                prop_assert_eq!(out.get(k), Some(v));
            }
        }
    }

    #[test]
    fn lists_are_replaced_never_interleaved(target in json_object(), key in "[a-d]", list in prop::collection::vec(json_value(), 0..4)) {
        let patch = json!({ key.clone(): list.clone() });
        let out = merged(target, patch);
        prop_assert_eq!(out.get(&key), Some(&Value::Array(list)));
    }

    #[test]
    fn prepared_documents_hold_no_nulls_in_objects(target in json_object()) {
        let mut d = doc(target);
        prepare_data_flow_write(&mut d);
        fn no_nulls(v: &Value) -> bool {
            match v {
                Value::Object(m) => m.values().all(|x| !x.is_null() && no_nulls(x)),
                _ => true,
            }
        }
        prop_assert!(no_nulls(&Value::Object(d)));
    }
}
