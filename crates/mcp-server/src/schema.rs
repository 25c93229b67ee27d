//! Compact tool schemas: every byte of `tools/list` is paid for in every conversation, so the
//! generated JSON Schemas lose what a model does not need (issue #25).
//!
//! Input schemas keep their structure and the descriptions that say what to pass; they lose
//! `$schema`, schemars' `"default": null` on optional fields, the `null` in the type of an
//! optional field (absent is how it is left out), the integer formats (`uint32`) with the
//! `"minimum": 0` they imply, and the descriptions of the arguments the server instructions
//! explain once for every tool ([`EXPLAINED_ONCE`]).
//! Output schemas are not listed (see `BdiMcp::all_router`); [`compact_output`] remains for
//! the documentation.

use serde_json::{Map, Value};

/// Arguments whose meaning the server instructions give once, for every tool: their own
/// descriptions would repeat it in almost every tool.
pub const EXPLAINED_ONCE: &[&str] = &["environment_id", "data_flow_id"];

/// An input schema in its compact form (see the module documentation).
pub fn compact_input(schema: &Map<String, Value>) -> Map<String, Value> {
    let mut s = schema.clone();
    s.remove("$schema");
    // A definition's own description repeats the property that refers to it.
    if let Some(Value::Object(defs)) = s.get_mut("$defs") {
        for def in defs.values_mut() {
            if let Value::Object(d) = def {
                d.remove("description");
            }
        }
    }
    if let Some(Value::Object(props)) = s.get_mut("properties") {
        for (name, prop) in props.iter_mut() {
            if let Value::Object(p) = prop
                && EXPLAINED_ONCE.contains(&name.as_str())
            {
                p.remove("description");
            }
        }
    }
    compact_node(&mut s);
    s
}

/// The rules that hold at any depth: no `"default": null`, no `null` in a type list, no
/// integer format and its implied minimum.
fn compact_node(node: &mut Map<String, Value>) {
    // Absent is null for an optional field and false for a flag; an object takes any key
    // unless it says otherwise.
    if matches!(node.get("default"), Some(Value::Null | Value::Bool(false))) {
        node.remove("default");
    }
    if node.get("additionalProperties") == Some(&Value::Bool(true)) {
        node.remove("additionalProperties");
    }
    if let Some(Value::Array(types)) = node.get("type") {
        let kept: Vec<Value> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .cloned()
            .collect();
        if kept.len() == 1 {
            node.insert("type".to_owned(), kept[0].clone());
        } else if kept.len() < types.len() {
            node.insert("type".to_owned(), Value::Array(kept));
        }
    }
    // `anyOf: [X, {"type": "null"}]` (an optional enum or object) is X.
    if let Some(Value::Array(any)) = node.get("anyOf") {
        let kept: Vec<&Value> = any
            .iter()
            .filter(|v| v.get("type") != Some(&Value::from("null")))
            .collect();
        if kept.len() == 1
            && kept.len() < any.len()
            && let Value::Object(only) = kept[0].clone()
        {
            node.remove("anyOf");
            for (k, v) in only {
                node.entry(k).or_insert(v);
            }
        }
    }
    if let Some(format) = node.get("format").and_then(Value::as_str) {
        let unsigned = format.starts_with("uint");
        if unsigned
            || matches!(
                format,
                "int" | "int8" | "int16" | "int32" | "int64" | "double" | "float"
            )
        {
            node.remove("format");
            if unsigned && node.get("minimum") == Some(&Value::from(0)) {
                node.remove("minimum");
            }
        }
    }
    for value in node.values_mut() {
        match value {
            Value::Object(o) => compact_node(o),
            Value::Array(items) => {
                for item in items {
                    if let Value::Object(o) = item {
                        compact_node(o);
                    }
                }
            }
            _ => {}
        }
    }
}

/// An output schema without `$schema` and without descriptions.
pub fn compact_output(schema: &Map<String, Value>) -> Map<String, Value> {
    let mut s = schema.clone();
    s.remove("$schema");
    strip_descriptions(&mut s);
    s
}

/// Removes `description` keywords from a schema object and its subschemas, leaving properties
/// that happen to be named `description` alone.
fn strip_descriptions(schema: &mut Map<String, Value>) {
    schema.remove("description");
    schema.remove("title");
    for (key, value) in schema.iter_mut() {
        match (key.as_str(), value) {
            ("properties" | "$defs" | "definitions" | "patternProperties", Value::Object(map)) => {
                for sub in map.values_mut() {
                    if let Value::Object(o) = sub {
                        strip_descriptions(o);
                    }
                }
            }
            (_, Value::Object(o)) => strip_descriptions(o),
            (_, Value::Array(items)) => {
                for item in items {
                    if let Value::Object(o) = item {
                        strip_descriptions(o);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn output_schemas_keep_structure_and_property_names() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "description": "root",
            "type": "object",
            "properties": {
                "description": {"description": "a field named description", "type": "string"},
                "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}},
                "maybe": {"anyOf": [{"$ref": "#/$defs/Item"}, {"type": "null"}], "description": "x"}
            },
            "$defs": {"Item": {"description": "an item", "type": "object", "properties": {"id": {"type": "string", "description": "id"}}}}
        });
        let out = compact_output(schema.as_object().unwrap());
        assert_eq!(
            Value::Object(out),
            json!({
                "type": "object",
                "properties": {
                    "description": {"type": "string"},
                    "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}},
                    "maybe": {"anyOf": [{"$ref": "#/$defs/Item"}, {"type": "null"}]}
                },
                "$defs": {"Item": {"type": "object", "properties": {"id": {"type": "string"}}}}
            })
        );
    }

    fn check_input(input: Value, want: Value) {
        assert_eq!(
            Value::Object(compact_input(input.as_object().unwrap())),
            want
        );
    }

    #[test]
    fn input_schemas_keep_descriptions() {
        check_input(
            json!({"$schema": "x", "type": "object", "properties": {"a": {"type": "string", "description": "what a is"}}}),
            json!({"type": "object", "properties": {"a": {"type": "string", "description": "what a is"}}}),
        );
    }

    #[test]
    fn optional_fields_lose_null_default_and_format() {
        check_input(
            json!({"type": "object", "properties": {
                "page": {"description": "From 1.", "type": ["integer", "null"], "format": "uint32", "minimum": 0, "default": null},
                "name": {"type": ["string", "null"], "default": null},
                "at": {"type": "string", "format": "date-time"},
                "all": {"type": "boolean", "default": false},
                "body": {"type": "object", "additionalProperties": true},
                "n": {"type": "integer", "format": "int64", "minimum": 1}
            }}),
            json!({"type": "object", "properties": {
                "page": {"description": "From 1.", "type": "integer"},
                "name": {"type": "string"},
                "at": {"type": "string", "format": "date-time"},
                "all": {"type": "boolean"},
                "body": {"type": "object"},
                "n": {"type": "integer", "minimum": 1}
            }}),
        );
    }

    #[test]
    fn arguments_explained_once_lose_their_description() {
        check_input(
            json!({"type": "object", "required": ["data_flow_id"], "properties": {
                "data_flow_id": {"type": "string", "description": "Data flow id (24-hex)."},
                "environment_id": {"type": ["string", "null"], "description": "Environment id.", "default": null}
            }}),
            json!({"type": "object", "required": ["data_flow_id"], "properties": {
                "data_flow_id": {"type": "string"},
                "environment_id": {"type": "string"}
            }}),
        );
    }

    #[test]
    fn an_optional_reference_is_the_reference() {
        check_input(
            json!({"type": "object", "properties": {"mode": {"anyOf": [{"$ref": "#/$defs/Mode"}, {"type": "null"}], "default": null}}}),
            json!({"type": "object", "properties": {"mode": {"$ref": "#/$defs/Mode"}}}),
        );
    }
}
