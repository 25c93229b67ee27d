//! Validation of the data-flow write body (`WriteRiverInput`, section 6.1) with pydantic-style
//! errors, and the server-side enrichment applied to what is stored (section 6.2).
//!
//! Section and trap numbers are those of the upstream contract, `docs/upstream-api.md`.

use serde_json::{Map, Value, json};

use crate::error::{self, ApiError};

/// Top-level keys always accepted on a data-flow write.
const ALLOWED_TOP: &[&str] = &[
    "name",
    "type",
    "metadata",
    "settings",
    "properties",
    "kind",
    "group_id",
    "schedulers",
    "deployment_definition",
    "environment_id",
];
/// Keys accepted only when the sandbox is not strict (trap 5).
const LENIENT_TOP: &[&str] = &["cross_id", "account_id", "environment_name", "group_name"];
const REQUIRED_TOP: &[&str] = &["name", "type", "metadata", "settings", "properties"];
const RIVER_TYPES: &[&str] = &["source_to_target", "actions", "logic", "connector_executor"];
const PROPERTIES_TYPES: &[&str] = &["source_to_target", "logic", "actions"];
const EXTRACT_METHODS: &[&str] = &[
    "all",
    "incremental",
    "log",
    "change_tracking",
    "system_versioning",
];
/// The 17 properties of `WriteDatabaseTableDetailsInput`.
const DETAIL_KEYS: &[&str] = &[
    "name",
    "is_selected",
    "target_table",
    "extract_method",
    "incremental_field",
    "date_range",
    "running_number",
    "epoch",
    "is_custom_incremental",
    "modified_columns",
    "table_status",
    "exporter_chunk_size",
    "cdc_settings",
    "change_tracking_settings",
    "system_versioning_settings",
    "additional_source_settings",
    "additional_target_settings",
];
const S2T_KEYS: &[&str] = &["properties_type", "source", "target", "schemas"];
const INCREMENTAL_KEYS: &[&str] = &["date_range", "running_number", "epoch"];

/// Keys that are always rejected on connection writes (section 6.4).
pub(crate) const ALWAYS_FORBIDDEN: &[&str] = &["title", "id", "_id"];

/// A validated data-flow write body.
#[derive(Debug)]
pub(crate) struct RiverWrite {
    pub(crate) name: String,
    pub(crate) river_type: String,
    pub(crate) kind: String,
    pub(crate) description: Value,
    pub(crate) settings: Value,
    pub(crate) properties: Value,
    /// `None` when the key was omitted (leave the schedule alone).
    pub(crate) schedulers: Option<Value>,
    pub(crate) group_id: Option<String>,
    /// `properties` exactly as sent, before enrichment.
    pub(crate) raw_properties: Value,
}

/// Validates a data-flow write body; every problem is reported at once, as pydantic does.
pub(crate) fn river_write(body: &Map<String, Value>, strict: bool) -> Result<RiverWrite, ApiError> {
    let mut errors = Vec::new();
    for (key, value) in body {
        let allowed =
            ALLOWED_TOP.contains(&key.as_str()) || (!strict && LENIENT_TOP.contains(&key.as_str()));
        if !allowed {
            errors.push(error::extra_forbidden(json!(["body", key]), value.clone()));
        }
    }
    for key in REQUIRED_TOP {
        if !body.contains_key(*key) {
            errors.push(error::missing(
                json!(["body", key]),
                Some(Value::Object(body.clone())),
            ));
        }
    }
    let name = string_field(body, "name", &json!(["body", "name"]), &mut errors);
    let river_type =
        body.get("type")
            .and_then(|t| match t.as_str().filter(|s| RIVER_TYPES.contains(s)) {
                Some(s) => Some(s.to_owned()),
                None => {
                    errors.push(error::bad_enum(
                        json!(["body", "type"]),
                        RIVER_TYPES,
                        t.clone(),
                    ));
                    None
                }
            });
    let kind = match body.get("kind") {
        None | Some(Value::Null) => "main_river".to_owned(),
        Some(Value::String(s)) if s == "main_river" || s == "sub_river" => s.clone(),
        Some(other) => {
            errors.push(error::bad_enum(
                json!(["body", "kind"]),
                &["main_river", "sub_river"],
                other.clone(),
            ));
            String::new()
        }
    };
    let description = match body.get("metadata") {
        Some(Value::Object(m)) => m.get("description").cloned().unwrap_or(Value::Null),
        Some(other) => {
            errors.push(dict_type(json!(["body", "metadata"]), other));
            Value::Null
        }
        None => Value::Null,
    };
    let settings = match body.get("settings") {
        Some(Value::Object(s)) => {
            validate_settings(s, &mut errors);
            Value::Object(s.clone())
        }
        Some(other) => {
            errors.push(dict_type(json!(["body", "settings"]), other));
            Value::Null
        }
        None => Value::Null,
    };
    let schedulers = match body.get("schedulers") {
        None => None,
        Some(Value::Null) => Some(json!([])),
        Some(Value::Array(items)) => {
            validate_schedulers(items, &mut errors);
            Some(Value::Array(items.clone()))
        }
        Some(other) => {
            errors.push(error::item(
                "list_type",
                json!(["body", "schedulers"]),
                "Input should be a valid list",
                Some(other.clone()),
            ));
            None
        }
    };
    let group_id = match body.get("group_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            errors.push(string_type(json!(["body", "group_id"]), other));
            None
        }
    };
    let raw_properties = body.get("properties").cloned().unwrap_or(Value::Null);
    if body.contains_key("properties") {
        validate_properties(&raw_properties, &mut errors);
    }
    error::check(errors)?;
    let river_type = river_type.unwrap_or_default();
    let mut properties = raw_properties.clone();
    enrich_properties(&mut properties);
    let mut settings = settings;
    enrich_settings(&mut settings);
    Ok(RiverWrite {
        name: name.unwrap_or_default(),
        river_type,
        kind,
        description,
        settings,
        properties,
        schedulers: schedulers.map(enrich_schedulers),
        group_id,
        raw_properties,
    })
}

fn string_field(
    body: &Map<String, Value>,
    key: &str,
    loc: &Value,
    errors: &mut Vec<Value>,
) -> Option<String> {
    match body.get(key)? {
        Value::String(s) => Some(s.clone()),
        other => {
            errors.push(string_type(loc.clone(), other));
            None
        }
    }
}

fn string_type(loc: Value, input: &Value) -> Value {
    error::item(
        "string_type",
        loc,
        "Input should be a valid string",
        Some(input.clone()),
    )
}

fn dict_type(loc: Value, input: &Value) -> Value {
    error::item(
        "dict_type",
        loc,
        "Input should be a valid dictionary",
        Some(input.clone()),
    )
}

fn loc_with(base: &Value, extra: &[Value]) -> Value {
    let mut v = base.as_array().cloned().unwrap_or_default();
    v.extend(extra.iter().cloned());
    Value::Array(v)
}

fn validate_settings(settings: &Map<String, Value>, errors: &mut Vec<Value>) {
    let Some(notification) = settings.get("notification") else {
        return;
    };
    let Some(notification) = notification.as_object() else {
        if !notification.is_null() {
            errors.push(dict_type(
                json!(["body", "settings", "notification"]),
                notification,
            ));
        }
        return;
    };
    for report in ["warning", "failure", "run_threshold"] {
        if let Some(Value::Object(r)) = notification.get(report)
            && !r.contains_key("email")
        {
            errors.push(error::missing(
                json!(["body", "settings", "notification", report, "email"]),
                Some(Value::Object(r.clone())),
            ));
        }
    }
}

fn validate_schedulers(items: &[Value], errors: &mut Vec<Value>) {
    if items.len() > 1 {
        errors.push(json!({
            "type": "too_long",
            "loc": ["body", "schedulers"],
            "msg": format!("List should have at most 1 item after validation, not {}", items.len()),
            "input": items,
            "ctx": {"field_type": "List", "max_length": 1, "actual_length": items.len()},
        }));
    }
    for (i, item) in items.iter().enumerate() {
        match item.get("cron_expression") {
            Some(Value::String(_)) => {}
            Some(other) => errors.push(string_type(
                json!(["body", "schedulers", i, "cron_expression"]),
                other,
            )),
            None => errors.push(error::missing(
                json!(["body", "schedulers", i, "cron_expression"]),
                Some(item.clone()),
            )),
        }
    }
}

fn validate_properties(props: &Value, errors: &mut Vec<Value>) {
    let base = json!(["body", "properties"]);
    let Some(map) = props.as_object() else {
        errors.push(error::item(
            "model_attributes_type",
            base,
            "Input should be a valid dictionary or object to extract fields from",
            Some(props.clone()),
        ));
        return;
    };
    let tag = match map.get("properties_type") {
        None => {
            errors.push(json!({
                "type": "union_tag_not_found",
                "loc": base,
                "msg": "Unable to extract tag using discriminator 'properties_type'",
                "input": props,
                "ctx": {"discriminator": "'properties_type'"},
            }));
            return;
        }
        Some(t) => match t.as_str().filter(|s| PROPERTIES_TYPES.contains(s)) {
            Some(s) => s,
            None => {
                errors.push(json!({
                    "type": "union_tag_invalid",
                    "loc": base,
                    "msg": format!("Input tag '{}' found using 'properties_type' does not match any of the expected tags: 'source_to_target', 'logic', 'actions'", t.as_str().unwrap_or_default()),
                    "input": props,
                    "ctx": {"discriminator": "'properties_type'", "tag": t, "expected_tags": "'source_to_target', 'logic', 'actions'"},
                }));
                return;
            }
        },
    };
    let base = loc_with(&base, &[json!(tag)]);
    match tag {
        "source_to_target" => validate_s2t(map, &base, errors),
        "logic" => match map.get("logic_steps") {
            Some(Value::Array(steps)) if !steps.is_empty() => {}
            Some(Value::Array(_)) => errors.push(json!({
                "type": "too_short",
                "loc": loc_with(&base, &[json!("logic_steps")]),
                "msg": "List should have at least 1 item after validation, not 0",
                "input": [],
                "ctx": {"field_type": "List", "min_length": 1, "actual_length": 0},
            })),
            Some(other) => errors.push(error::item(
                "list_type",
                loc_with(&base, &[json!("logic_steps")]),
                "Input should be a valid list",
                Some(other.clone()),
            )),
            None => errors.push(error::missing(
                loc_with(&base, &[json!("logic_steps")]),
                Some(props.clone()),
            )),
        },
        _ => {}
    }
}

fn validate_s2t(map: &Map<String, Value>, base: &Value, errors: &mut Vec<Value>) {
    for (key, value) in map {
        if !S2T_KEYS.contains(&key.as_str()) {
            errors.push(error::extra_forbidden(
                loc_with(base, &[json!(key)]),
                value.clone(),
            ));
        }
    }
    for side in ["source", "target"] {
        match map.get(side) {
            Some(Value::Object(obj)) => {
                if !obj.contains_key("name") {
                    errors.push(error::missing(
                        loc_with(base, &[json!(side), json!("name")]),
                        Some(Value::Object(obj.clone())),
                    ));
                }
            }
            Some(other) => errors.push(dict_type(loc_with(base, &[json!(side)]), other)),
            None => errors.push(error::missing(
                loc_with(base, &[json!(side)]),
                Some(Value::Object(map.clone())),
            )),
        }
    }
    let Some(schemas) = map.get("schemas") else {
        return;
    };
    let Some(schemas) = schemas.as_array() else {
        if !schemas.is_null() {
            errors.push(error::item(
                "list_type",
                loc_with(base, &[json!("schemas")]),
                "Input should be a valid list",
                Some(schemas.clone()),
            ));
        }
        return;
    };
    for (si, schema) in schemas.iter().enumerate() {
        let sloc = loc_with(base, &[json!("schemas"), json!(si)]);
        let Some(schema) = schema.as_object() else {
            errors.push(dict_type(sloc, schema));
            continue;
        };
        if !schema.get("name").is_some_and(Value::is_string) {
            errors.push(error::missing(
                loc_with(&sloc, &[json!("name")]),
                Some(Value::Object(schema.clone())),
            ));
        }
        let tables = schema.get("tables").and_then(Value::as_array);
        for (ti, table) in tables.into_iter().flatten().enumerate() {
            let tloc = loc_with(&sloc, &[json!("tables"), json!(ti)]);
            validate_table(table, &tloc, errors);
        }
    }
}

fn validate_table(table: &Value, tloc: &Value, errors: &mut Vec<Value>) {
    let tag = table.get("run_type_and_datasource").and_then(Value::as_str);
    let tag = match tag {
        Some(t @ ("multi_tables" | "predefined_report")) => t,
        Some(other) => {
            errors.push(json!({
                "type": "union_tag_invalid",
                "loc": tloc,
                "msg": format!("Input tag '{other}' found using 'run_type_and_datasource' does not match any of the expected tags: 'multi_tables', 'predefined_report'"),
                "input": table,
            }));
            return;
        }
        None => {
            errors.push(json!({
                "type": "union_tag_not_found",
                "loc": tloc,
                "msg": "Unable to extract tag using discriminator 'run_type_and_datasource'",
                "input": table,
            }));
            return;
        }
    };
    if tag != "multi_tables" {
        return;
    }
    let dloc = loc_with(tloc, &[json!(tag), json!("details")]);
    let Some(details) = table.get("details").and_then(Value::as_object) else {
        errors.push(error::missing(dloc, Some(table.clone())));
        return;
    };
    for (key, value) in details {
        if !DETAIL_KEYS.contains(&key.as_str()) {
            errors.push(error::extra_forbidden(
                loc_with(&dloc, &[json!(key)]),
                value.clone(),
            ));
        }
    }
    if !details.get("name").is_some_and(Value::is_string) {
        errors.push(error::missing(
            loc_with(&dloc, &[json!("name")]),
            Some(Value::Object(details.clone())),
        ));
    }
    let method = details.get("extract_method").filter(|m| !m.is_null());
    if let Some(m) = method
        && !m.as_str().is_some_and(|s| EXTRACT_METHODS.contains(&s))
    {
        errors.push(error::bad_enum(
            loc_with(&dloc, &[json!("extract_method")]),
            EXTRACT_METHODS,
            m.clone(),
        ));
    }
    let incremental_set: Vec<&str> = INCREMENTAL_KEYS
        .iter()
        .copied()
        .filter(|k| details.get(*k).is_some_and(|v| !v.is_null()))
        .collect();
    let has_field = details
        .get("incremental_field")
        .is_some_and(|v| !v.is_null());
    if method.and_then(Value::as_str) == Some("all") && (has_field || !incremental_set.is_empty()) {
        errors.push(error::item(
            "value_error",
            dloc.clone(),
            "Value error, incremental settings are only allowed with extract_method 'incremental'",
            Some(Value::Object(details.clone())),
        ));
    }
    if incremental_set.len() > 1 {
        errors.push(error::item(
            "value_error",
            dloc,
            "Value error, exactly one of date_range, running_number or epoch may be set",
            Some(Value::Object(details.clone())),
        ));
    }
}

/// Server-side defaults added to stored properties (the read shape is never the write shape).
fn enrich_properties(props: &mut Value) {
    let Some(map) = props.as_object_mut() else {
        return;
    };
    match map.get("properties_type").and_then(Value::as_str) {
        Some("source_to_target") => {
            if let Some(Value::Object(source)) = map.get_mut("source") {
                source
                    .entry("run_type")
                    .or_insert_with(|| json!("multi_tables"));
                source
                    .entry("additional_settings")
                    .or_insert_with(|| json!({}));
            }
            let schemas = map.entry("schemas").or_insert_with(|| json!([]));
            if schemas.is_null() {
                *schemas = json!([]);
            }
            let tables = schemas
                .as_array_mut()
                .into_iter()
                .flatten()
                .filter_map(|s| s.get_mut("tables").and_then(Value::as_array_mut))
                .flatten();
            for table in tables {
                if let Some(Value::Object(details)) = table.get_mut("details") {
                    let name = details.get("name").cloned().unwrap_or(Value::Null);
                    details.entry("is_selected").or_insert(json!(false));
                    details.entry("target_table").or_insert(name);
                    details.entry("modified_columns").or_insert(json!([]));
                    details
                        .entry("is_custom_incremental")
                        .or_insert(json!(false));
                    details.entry("exporter_chunk_size").or_insert(json!(30000));
                }
            }
        }
        Some("logic") => {
            let steps = map.get_mut("logic_steps").and_then(Value::as_array_mut);
            for (i, step) in steps.into_iter().flatten().enumerate() {
                if let Some(step) = step.as_object_mut() {
                    step.entry("step_id").or_insert_with(|| {
                        json!(format!("{:024x}", 0x5ca1_ab1e_0000_u64 + i as u64))
                    });
                    step.entry("is_enabled").or_insert(json!(true));
                }
            }
        }
        _ => {}
    }
}

fn enrich_settings(settings: &mut Value) {
    if let Some(map) = settings.as_object_mut() {
        map.entry("run_timeout_seconds").or_insert(Value::Null);
        let notification = map.entry("notification").or_insert_with(|| json!({}));
        if let Some(n) = notification.as_object_mut() {
            for report in ["warning", "failure", "run_threshold"] {
                n.entry(report)
                    .or_insert_with(|| json!({"email": "", "is_enabled": false}));
            }
        }
    }
}

fn enrich_schedulers(mut schedulers: Value) -> Value {
    for s in schedulers.as_array_mut().into_iter().flatten() {
        if let Some(m) = s.as_object_mut() {
            m.entry("is_enabled").or_insert(json!(false));
        }
    }
    schedulers
}

#[cfg(test)]
mod tests;
