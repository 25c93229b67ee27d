//! Request plumbing shared by the handlers: the raw query (repeatable keys kept), the host for
//! absolute pagination URLs, the pagination envelope, time and boolean query parameters, and JSON
//! body parsing with pydantic-style errors.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::header::HOST;
use axum::http::request::Parts;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Map, Value, json};

use crate::error::{self, ApiError};

/// What a handler needs to know about the request beyond its path parameters and body.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) host: String,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let host = parts
            .headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| parts.uri.authority().map(std::string::ToString::to_string))
            .unwrap_or_else(|| "localhost".to_owned());
        let query = parts
            .uri
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Ctx {
            host,
            path: parts.uri.path().to_owned(),
            query,
        })
    }
}

impl Ctx {
    /// The last value of a query parameter (FastAPI keeps the last one for scalars).
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeatable parameter, with empty values dropped.
    pub(crate) fn all(&self, key: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A non-empty scalar parameter.
    pub(crate) fn get_nonempty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    /// The absolute URL of this request with `page` replaced.
    fn page_url(&self, page: u64) -> String {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        let mut replaced = false;
        for (k, v) in &self.query {
            if k == "page" {
                if !replaced {
                    ser.append_pair("page", &page.to_string());
                    replaced = true;
                }
            } else {
                ser.append_pair(k, v);
            }
        }
        if !replaced {
            ser.append_pair("page", &page.to_string());
        }
        format!("http://{}{}?{}", self.host, self.path, ser.finish())
    }

    /// An optional enumerated parameter; `None` when absent or empty.
    pub(crate) fn enum_param(
        &self,
        key: &str,
        allowed: &[&str],
        errors: &mut Vec<Value>,
    ) -> Option<String> {
        let v = self.get_nonempty(key)?;
        if allowed.contains(&v) {
            Some(v.to_owned())
        } else {
            errors.push(error::bad_enum(json!(["query", key]), allowed, json!(v)));
            None
        }
    }

    /// An optional boolean parameter, parsed pydantic's way.
    pub(crate) fn bool_param(&self, key: &str, errors: &mut Vec<Value>) -> Option<bool> {
        let v = self.get_nonempty(key)?;
        match v.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" | "t" | "y" => Some(true),
            "false" | "0" | "no" | "off" | "f" | "n" => Some(false),
            _ => {
                errors.push(error::item(
                    "bool_parsing",
                    json!(["query", key]),
                    "Input should be a valid boolean, unable to interpret input",
                    Some(json!(v)),
                ));
                None
            }
        }
    }

    /// A required date-time parameter (`start_time`, `end_time`).
    pub(crate) fn required_time(
        &self,
        key: &str,
        errors: &mut Vec<Value>,
    ) -> Option<DateTime<Utc>> {
        match self.get(key) {
            None => {
                errors.push(error::missing(json!(["query", key]), None));
                None
            }
            Some(raw) => match parse_time(raw) {
                Some(t) => Some(t),
                None => {
                    errors.push(error::item(
                        "datetime_from_date_parsing",
                        json!(["query", key]),
                        "Input should be a valid datetime or date, invalid character in year",
                        Some(json!(raw)),
                    ));
                    None
                }
            },
        }
    }

    /// Reads `page` and `items_per_page` with the endpoint's range and default.
    pub(crate) fn paging(&self, default: u64, max: u64, errors: &mut Vec<Value>) -> Paging {
        let page = self.int_param("page", 1, 1, None, errors);
        let per_page = self.int_param(
            "items_per_page",
            default,
            1,
            i64::try_from(max).ok(),
            errors,
        );
        Paging { page, per_page }
    }

    fn int_param(
        &self,
        key: &str,
        default: u64,
        min: i64,
        max: Option<i64>,
        errors: &mut Vec<Value>,
    ) -> u64 {
        let Some(raw) = self.get(key) else {
            return default;
        };
        let Ok(n) = raw.trim().parse::<i64>() else {
            errors.push(error::item(
                "int_parsing",
                json!(["query", key]),
                "Input should be a valid integer, unable to parse string as an integer",
                Some(json!(raw)),
            ));
            return default;
        };
        if n < min {
            let mut v = error::item(
                "greater_than_equal",
                json!(["query", key]),
                format!("Input should be greater than or equal to {min}"),
                Some(json!(raw)),
            );
            if let Some(m) = v.as_object_mut() {
                m.insert("ctx".to_owned(), json!({ "ge": min }));
            }
            errors.push(v);
            return default;
        }
        if let Some(max) = max.filter(|max| n > *max) {
            let mut v = error::item(
                "less_than_equal",
                json!(["query", key]),
                format!("Input should be less than or equal to {max}"),
                Some(json!(raw)),
            );
            if let Some(m) = v.as_object_mut() {
                m.insert("ctx".to_owned(), json!({ "le": max }));
            }
            errors.push(v);
            return default;
        }
        u64::try_from(n).unwrap_or(default)
    }

    /// Builds the pagination envelope around one page of `items`.
    pub(crate) fn envelope(
        &self,
        paging: Paging,
        items: Vec<Value>,
        extra: Map<String, Value>,
    ) -> Value {
        let total = items.len() as u64;
        let start = (paging.page - 1).saturating_mul(paging.per_page);
        let page_items: Vec<Value> = items
            .into_iter()
            .skip(usize::try_from(start).unwrap_or(usize::MAX))
            .take(usize::try_from(paging.per_page).unwrap_or(usize::MAX))
            .collect();
        let next = (start + paging.per_page < total).then(|| self.page_url(paging.page + 1));
        let previous = (paging.page > 1).then(|| self.page_url(paging.page - 1));
        let mut env = Map::new();
        env.insert("next_page".to_owned(), json!(next));
        env.insert("previous_page".to_owned(), json!(previous));
        env.insert("page".to_owned(), json!(paging.page));
        env.insert("current_page_size".to_owned(), json!(page_items.len()));
        env.insert("total_items".to_owned(), json!(total));
        for (k, v) in extra {
            env.insert(k, v);
        }
        env.insert("items".to_owned(), Value::Array(page_items));
        Value::Object(env)
    }
}

/// A validated page request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paging {
    pub(crate) page: u64,
    pub(crate) per_page: u64,
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.ffffff][Z|±hh:mm]` (UTC when no zone) or a bare date.
pub(crate) fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, fmt) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// `2022-07-25T18:38:55.640Z`.
pub(crate) fn fmt_z(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `2022-08-02T13:38:44.054000` (no zone, as operations report it).
pub(crate) fn fmt_micro(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// Parses a JSON request body that must be an object. An empty body is `missing`.
pub(crate) fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid(error::missing(json!(["body"]), None)));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid(json!({
            "type": "json_invalid",
            "loc": ["body", e.column()],
            "msg": "JSON decode error",
            "input": {},
            "ctx": { "error": e.to_string() },
        }))
    })?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(ApiError::invalid(error::item(
            "model_attributes_type",
            json!(["body"]),
            "Input should be a valid dictionary or object to extract fields from",
            Some(other),
        ))),
    }
}
