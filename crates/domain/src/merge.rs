//! Deep merge (JSON Merge Patch, RFC 7396) and the preparation of data flow write bodies.
//!
//! **The merge rule.** A patch that is an object is merged key by key into the target: a key whose
//! patch value is an object merges recursively; a key whose patch value is `null` is removed from
//! the target; any other patch value (string, number, boolean, *list*) replaces the target's value
//! wholesale. Lists are never merged element by element, so patching `schedulers`, `schemas`,
//! `logic_steps` or `modified_columns` replaces the whole list. A patch that is not an object
//! replaces the target. Keys absent from the patch are left untouched.
//!
//! **Preparing a write.** The upstream's PUT is a full replace that rejects server-managed
//! top-level keys (`extra_forbidden`) and, on some validators, explicit nulls. So before every
//! data flow write [`prepare_data_flow_write`] strips [`FORBIDDEN_WRITE_FIELDS`] and
//! [`SERVER_MANAGED_FIELDS`] (top level only; nested read-only fields go back as they are) and
//! removes null values recursively through objects, but not inside lists. A null in a patch
//! still removes its key, because the merge already removed it.

use serde_json::{Map, Value};

use crate::{Document, Error, Result};

/// Top-level keys the API rejects on every write (`docs/upstream-api.md` 6.4), stripped before POST and PUT.
pub const FORBIDDEN_WRITE_FIELDS: &[&str] = &[
    "title",
    "id",
    "cross_id",
    "_id",
    "account_id",
    "environment_name",
    "group_name",
];

/// Other top-level keys of the read shapes that are not part of `WriteRiverInput` (`docs/upstream-api.md` 6.1,
/// 6.2, 4.5.2). `environment_id`, `group_id` and `metadata` are writable and kept.
pub const SERVER_MANAGED_FIELDS: &[&str] = &[
    "river_cross_id",
    "river_id",
    "is_api_v2",
    "river_status",
    "river_type",
    "created_at",
    "created_by",
    "updated_at",
    "last_updated_at",
    "last_updated_by",
    "last_user_name_modified",
    "current_version_id",
    "is_deleted",
];

/// Applies `patch` to `target` by the rule in the module documentation.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(target) = target else {
        return;
    };
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// Removes null values recursively through objects; lists and their items are left as they are.
pub fn strip_nulls(doc: &mut Map<String, Value>) {
    doc.retain(|_, v| !v.is_null());
    for value in doc.values_mut() {
        if let Value::Object(inner) = value {
            strip_nulls(inner);
        }
    }
}

/// Removes the top-level keys the API rejects on writes ([`FORBIDDEN_WRITE_FIELDS`]).
pub fn strip_forbidden(doc: &mut Document) {
    for key in FORBIDDEN_WRITE_FIELDS {
        doc.remove(*key);
    }
}

/// Turns a data flow document (a read, a merge result or a caller's body) into a valid write body:
/// strips the forbidden and server-managed top-level keys, removes nulls through objects, and
/// restores `settings: {}` when the read shape carried `null` (the write requires the key).
pub fn prepare_data_flow_write(doc: &mut Document) {
    strip_forbidden(doc);
    for key in SERVER_MANAGED_FIELDS {
        doc.remove(*key);
    }
    strip_nulls(doc);
    if !doc.contains_key("settings") {
        doc.insert("settings".to_owned(), Value::Object(Map::new()));
    }
}

/// Fields fixed at creation: (JSON pointer, name shown to the caller).
const IMMUTABLE: &[(&str, &str)] = &[
    ("/properties/source/run_type", "properties.source.run_type"),
    ("/type", "type"),
];

/// Refuses a write that would change a field fixed at creation (`properties.source.run_type`,
/// `type`). A field missing on either side is not a change.
pub fn check_immutable(current: &Value, next: &Value) -> Result<()> {
    for (pointer, field) in IMMUTABLE {
        let (Some(was), Some(now)) = (current.pointer(pointer), next.pointer(pointer)) else {
            continue;
        };
        if was.is_null() || now.is_null() || was == now {
            continue;
        }
        return Err(Error::invalid(
            *field,
            format!(
                "cannot change {field} from {was} to {now}: it is fixed when the data flow is created; delete the data flow and create it again with the new value"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
