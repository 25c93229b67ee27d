//! The loader's state: per incremental resource, the cursor's last value and the ids of the rows
//! seen at that value (the source's `from` is inclusive, so those rows come back and are skipped).
//! It is kept in the destination (`_bdi_state`) and written in the load's transaction.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::schema::parse_timestamp;

/// The state of one pipeline.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineState {
    /// By resource name.
    #[serde(default)]
    pub resources: BTreeMap<String, ResourceState>,
}

/// The state of one incremental resource.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceState {
    /// The cursor field (`occurredAt`).
    pub cursor: String,
    /// The largest cursor value loaded, as the source wrote it.
    pub last_value: Option<String>,
    /// The ids of the rows loaded at `last_value`.
    #[serde(default)]
    pub ids_at_last_value: BTreeSet<String>,
}

/// A cursor over the items of one incremental resource during a load: skips what was loaded
/// before, and tracks the new last value.
#[derive(Debug)]
pub struct Cursor {
    field: String,
    id_field: String,
    start: Option<(i64, String)>,
    seen_at_start: BTreeSet<String>,
    last: Option<(i64, String)>,
    ids_at_last: BTreeSet<String>,
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Orders cursor values: date-times by instant, anything else by text.
fn key_of(s: &str) -> i64 {
    parse_timestamp(s).unwrap_or(i64::MIN)
}

impl Cursor {
    /// A cursor on `field`, starting after `state` (if any), identifying rows by `id_field`.
    pub fn new(field: &str, id_field: &str, state: Option<&ResourceState>) -> Self {
        let start = state
            .and_then(|s| s.last_value.clone())
            .map(|v| (key_of(&v), v));
        let seen_at_start = state
            .map(|s| s.ids_at_last_value.clone())
            .unwrap_or_default();
        Self {
            field: field.to_owned(),
            id_field: id_field.to_owned(),
            last: start.clone(),
            ids_at_last: seen_at_start.clone(),
            start,
            seen_at_start,
        }
    }

    /// Starts `lookback` before the last value instead of at it, and skips nothing as seen: the
    /// items of that span come back to be merged again (a run first seen running, now ended).
    /// The last value never moves back.
    #[must_use]
    pub fn with_lookback(mut self, lookback: std::time::Duration) -> Self {
        if let Some((key, _)) = &self.start
            && *key != i64::MIN
        {
            let back = i64::try_from(lookback.as_micros()).unwrap_or(i64::MAX);
            let start = key.saturating_sub(back);
            if let Some(t) = chrono::DateTime::<chrono::Utc>::from_timestamp_micros(start) {
                self.start = Some((
                    start,
                    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                ));
                self.seen_at_start.clear();
            }
        }
        self
    }

    /// The value to ask the source to start from (inclusive).
    pub fn start_value(&self) -> Option<&str> {
        self.start.as_ref().map(|(_, v)| v.as_str())
    }

    /// The field of an item that orders it.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The field that identifies an item.
    pub fn id_field(&self) -> &str {
        &self.id_field
    }

    /// Whether the item is new; tracks the last value. Items without the cursor field are kept.
    pub fn admit(&mut self, item: &Value) -> bool {
        self.admit_parts(
            item.get(&self.field).and_then(text_of),
            item.get(&self.id_field).and_then(text_of),
        )
    }

    /// [`Cursor::admit`] given the item's cursor value and id as text (a string as it is, a
    /// number as JSON writes it).
    pub fn admit_parts(&mut self, value: Option<String>, id: Option<String>) -> bool {
        let Some(value) = value else {
            return true;
        };
        let key = key_of(&value);
        if let Some((start, _)) = &self.start {
            if key < *start {
                return false;
            }
            if key == *start
                && id
                    .as_ref()
                    .is_some_and(|id| self.seen_at_start.contains(id))
            {
                return false;
            }
        }
        match &self.last {
            Some((last, _)) if key < *last => {}
            Some((last, _)) if key == *last => {
                if let Some(id) = id {
                    self.ids_at_last.insert(id);
                }
            }
            _ => {
                self.last = Some((key, value));
                self.ids_at_last = id.into_iter().collect();
            }
        }
        true
    }

    /// The state after the load.
    pub fn state(&self) -> ResourceState {
        ResourceState {
            cursor: self.field.clone(),
            last_value: self.last.as_ref().map(|(_, v)| v.clone()),
            ids_at_last_value: self.ids_at_last.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ev(id: &str, at: &str) -> Value {
        json!({"id": id, "occurredAt": at})
    }

    #[test]
    fn the_inclusive_boundary_is_not_loaded_twice() {
        let mut first = Cursor::new("occurredAt", "id", None);
        for e in [
            ev("a", "2026-01-01T00:00:00Z"),
            ev("b", "2026-01-01T00:00:01Z"),
            ev("c", "2026-01-01T00:00:01Z"),
        ] {
            assert!(first.admit(&e));
        }
        let state = first.state();
        assert_eq!(state.last_value.as_deref(), Some("2026-01-01T00:00:01Z"));
        assert_eq!(state.ids_at_last_value.len(), 2);

        let mut second = Cursor::new("occurredAt", "id", Some(&state));
        assert_eq!(second.start_value(), Some("2026-01-01T00:00:01Z"));
        assert!(!second.admit(&ev("b", "2026-01-01T00:00:01Z")));
        assert!(!second.admit(&ev("c", "2026-01-01T00:00:01Z")));
        assert!(
            second.admit(&ev("d", "2026-01-01T00:00:01Z")),
            "new at the boundary"
        );
        assert!(!second.admit(&ev("z", "2025-12-31T00:00:00Z")), "older");
        assert!(second.admit(&ev("e", "2026-01-01T00:00:02Z")));
        let after = second.state();
        assert_eq!(after.last_value.as_deref(), Some("2026-01-01T00:00:02Z"));
        assert_eq!(after.ids_at_last_value.iter().collect::<Vec<_>>(), ["e"]);
    }

    #[test]
    fn nothing_new_keeps_the_state() {
        let state = ResourceState {
            cursor: "occurredAt".into(),
            last_value: Some("2026-01-01T00:00:01Z".into()),
            ids_at_last_value: ["b".to_owned()].into(),
        };
        let mut c = Cursor::new("occurredAt", "id", Some(&state));
        assert!(!c.admit(&ev("b", "2026-01-01T00:00:01Z")));
        assert_eq!(c.state(), state);
    }

    #[test]
    fn a_lookback_reads_again_before_the_last_value_and_never_moves_it_back() {
        let state = ResourceState {
            cursor: "start".into(),
            last_value: Some("2026-01-03T00:00:00Z".into()),
            ids_at_last_value: ["r9".to_owned()].into(),
        };
        let mut c = Cursor::new("start", "id", Some(&state))
            .with_lookback(std::time::Duration::from_secs(2 * 86_400));
        assert_eq!(c.start_value(), Some("2026-01-01T00:00:00Z"));
        let run = |id: &str, at: &str| serde_json::json!({"id": id, "start": at});
        assert!(
            c.admit(&run("r9", "2026-01-03T00:00:00Z")),
            "seen, but merged again"
        );
        assert!(
            c.admit(&run("r5", "2026-01-02T00:00:00Z")),
            "inside the lookback"
        );
        assert!(!c.admit(&run("r1", "2025-12-31T00:00:00Z")), "before it");
        assert_eq!(
            c.state().last_value.as_deref(),
            Some("2026-01-03T00:00:00Z")
        );
        assert!(c.admit(&run("r10", "2026-01-04T00:00:00Z")));
        assert_eq!(
            c.state().last_value.as_deref(),
            Some("2026-01-04T00:00:00Z")
        );
    }
}
