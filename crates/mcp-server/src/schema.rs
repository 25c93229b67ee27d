//! Compact tool schemas: every byte of `tools/list` is paid for in every conversation, so the
//! generated JSON Schemas lose what a model does not need. Input schemas keep their descriptions
//! (they say what to pass); output schemas keep only the structure (field names and types are
//! self-explanatory, and the tool description says what comes back). `$schema` goes everywhere.

use serde_json::{Map, Value};

/// An input schema without `$schema`.
pub fn compact_input(schema: &Map<String, Value>) -> Map<String, Value> {
    let mut s = schema.clone();
    s.remove("$schema");
    s
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

    #[test]
    fn input_schemas_keep_descriptions() {
        let schema = json!({"$schema": "x", "type": "object", "properties": {"a": {"type": "string", "description": "what a is"}}});
        let out = compact_input(schema.as_object().unwrap());
        assert_eq!(
            Value::Object(out),
            json!({"type": "object", "properties": {"a": {"type": "string", "description": "what a is"}}})
        );
    }
}
