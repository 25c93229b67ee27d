//! Typed models of the upstream API's resources, requests and statuses.
//!
//! Every response model keeps the fields it does not name in `extra`, so that a read-modify-write
//! round trip loses nothing. Decoding is lenient where the real API is inconsistent (status
//! spellings, timestamps with and without a zone, `0`/`""`/`null` for "not ended"). One module
//! per resource; every type is used as `bdi_domain::models::Type`, and the lenient decoders they
//! share are here.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::Error;
use crate::ids::{ConnectionId, RunId};

/// Fields a model does not name, kept as they came.
pub type Extra = Map<String, Value>;

mod account;
mod discovery;
mod flow;
mod operation;
mod page;
mod run;
mod status;
mod time;

pub use account::{Connection, Environment, Variables};
pub use discovery::{ActivityQuery, DiscoveryRequest};
pub use flow::{DataFlow, DataFlowQuery, DataFlowSortBy, DataFlowSummary, FlowStatus};
pub use operation::{Operation, Toggle};
pub use page::{Page, PageQuery, SortOrder};
pub use run::{Run, RunQuery, RunSortBy, RunTriggered, TriggeredRun};
pub use status::{OperationStatus, RunStatus};
pub use time::Timestamp;

/// Decodes an optional timestamp where `null`, `""`, `0` and an unparsable value all mean "none".
fn lenient_ts<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) if !s.trim().is_empty() => Timestamp::parse(&s).ok(),
        _ => None,
    })
}

/// Decodes an optional integer where `null`, `""` and `0` mean "none".
fn lenient_millis<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .filter(|v| *v != 0),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok().filter(|v| *v != 0),
        _ => None,
    })
}

/// Decodes a number that may come as a number, a numeric string or null.
fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_f64().unwrap_or_default(),
        Some(Value::String(s)) => s.trim().parse().unwrap_or_default(),
        _ => 0.0,
    })
}

/// Decodes a string that may be null into an empty string.
fn null_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

fn one() -> u32 {
    1
}

/// `next_page` is a URL string, but integers and empty strings occur; "" and 0 mean none.
fn lenient_next<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        Some(Value::Number(n)) if n.as_u64().unwrap_or(0) > 0 => Some(n.to_string()),
        _ => None,
    })
}

fn pending() -> RunStatus {
    RunStatus::Pending
}

fn yes() -> bool {
    true
}

/// Takes the id: `cross_id`, else `_id` (which then stays in `extra`).
fn take_cross_id(m: &mut Extra) -> Result<String, String> {
    let id = match m.remove("cross_id") {
        Some(Value::String(s)) => Some(s),
        _ => m.get("_id").and_then(Value::as_str).map(str::to_owned),
    };
    id.ok_or_else(|| "missing field `cross_id`".to_owned())
}

fn take_string(m: &mut Extra, key: &str) -> Option<String> {
    match m.remove(key) {
        Some(Value::String(s)) => Some(s),
        Some(other) if !other.is_null() => {
            m.insert(key.to_owned(), other);
            None
        }
        _ => None,
    }
}

fn take_bool(m: &mut Extra, key: &str) -> bool {
    match m.remove(key) {
        Some(Value::Bool(b)) => b,
        Some(other) if !other.is_null() => {
            m.insert(key.to_owned(), other);
            false
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests;
