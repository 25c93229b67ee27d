//! Query strings as the upstream takes them (repeated keys for lists: `river_status=active&
//! river_status=disabled`), parsed into the domain's query types. A bad value is refused with a
//! 422 in the upstream's own detail style before any call is made.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use bdi_domain::RunId;
use bdi_domain::models::{ActivityQuery, DataFlowQuery, PageQuery, RunQuery, SortOrder, Timestamp};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};
use crate::routes::{ParamType, QueryParam};

/// The decoded `(key, value)` pairs of a query string, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Self::parse(parts.uri.query().unwrap_or("")))
    }
}

impl QueryPairs {
    /// Decodes a raw query string.
    pub fn parse(raw: &str) -> Self {
        Self(
            url::form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first non-empty value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// Every non-empty value of `key`.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// An integer in `min..=max`, or `default` when absent.
    pub fn int(&self, key: &str, default: u32, min: u32, max: u32) -> ApiResult<u32> {
        let Some(raw) = self.get(key) else {
            return Ok(default);
        };
        match raw.trim().parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            Ok(_) => Err(ApiError::validation(
                &["query", key],
                "value_error",
                &format!("must be between {min} and {max}"),
            )),
            Err(_) => Err(ApiError::validation(
                &["query", key],
                "int_parsing",
                "must be an integer",
            )),
        }
    }

    /// A boolean (`true`/`false`/`1`/`0`), or `default` when absent.
    pub fn bool(&self, key: &str, default: bool) -> ApiResult<bool> {
        self.opt_bool(key).map(|b| b.unwrap_or(default))
    }

    /// A boolean, if given.
    pub fn opt_bool(&self, key: &str) -> ApiResult<Option<bool>> {
        match self.get(key).map(|s| s.trim().to_ascii_lowercase()) {
            None => Ok(None),
            Some(s) if matches!(s.as_str(), "true" | "1" | "yes") => Ok(Some(true)),
            Some(s) if matches!(s.as_str(), "false" | "0" | "no") => Ok(Some(false)),
            Some(_) => Err(ApiError::validation(
                &["query", key],
                "bool_parsing",
                "must be true or false",
            )),
        }
    }

    /// A timestamp, if given.
    pub fn timestamp(&self, key: &str) -> ApiResult<Option<Timestamp>> {
        self.get(key)
            .map(|s| {
                Timestamp::parse(s).map_err(|_| {
                    ApiError::validation(
                        &["query", key],
                        "datetime_from_date_parsing",
                        "must be a date-time such as 2026-05-25T00:00:00",
                    )
                })
            })
            .transpose()
    }

    /// A required timestamp: absent gives the upstream's `missing` 422.
    pub fn required_timestamp(&self, key: &str) -> ApiResult<Timestamp> {
        self.timestamp(key)?
            .ok_or_else(|| ApiError::validation(&["query", key], "missing", "Field required"))
    }

    /// A value decoded from its wire spelling through serde (the domain's enums).
    pub fn parsed<T: DeserializeOwned>(&self, key: &str) -> ApiResult<Option<T>> {
        self.get(key)
            .map(|s| {
                serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| {
                    ApiError::validation(&["query", key], "enum", &format!("`{s}` is not allowed"))
                })
            })
            .transpose()
    }

    /// Every value of `key`, each decoded through serde.
    pub fn parsed_all<T: DeserializeOwned>(&self, key: &str) -> ApiResult<Vec<T>> {
        self.all(key)
            .into_iter()
            .map(|s| {
                serde_json::from_value(serde_json::Value::String(s.clone())).map_err(|_| {
                    ApiError::validation(&["query", key], "enum", &format!("`{s}` is not allowed"))
                })
            })
            .collect()
    }

    /// `page` and `items_per_page` with the upstream's default (20) and this endpoint's maximum.
    pub fn page(&self, default_size: u32, max: u32) -> ApiResult<PageQuery> {
        Ok(PageQuery::new(
            self.int("page", 1, 1, u32::MAX)?,
            self.int("items_per_page", default_size, 1, max)?,
        ))
    }

    /// Checks every value of the route's declared parameters against its documented type (the
    /// route table's [`QueryParam`]s, which the OpenAPI document is built from): a required one
    /// that is missing, an empty value of a typed one, a number out of range, a value outside
    /// an enumeration, and the like are refused with a 422 in the upstream's style before any
    /// call. Keys the route does not declare are ignored.
    pub fn check(&self, params: &[QueryParam]) -> ApiResult<()> {
        for p in params {
            let values: Vec<&str> = self
                .0
                .iter()
                .filter(|(k, _)| k == p.name)
                .map(|(_, v)| v.as_str())
                .collect();
            if p.required && values.iter().all(|v| v.is_empty()) {
                return Err(ApiError::validation(
                    &["query", p.name],
                    "missing",
                    "Field required",
                ));
            }
            for v in values {
                check_value(p, v)?;
            }
        }
        Ok(())
    }

    /// The query of `GET {E}/rivers`.
    pub fn data_flow_query(&self) -> ApiResult<DataFlowQuery> {
        Ok(DataFlowQuery {
            page: self.page(20, 500)?,
            name: self.get("name").map(str::to_owned),
            river_status: self.parsed_all("river_status")?,
            group_name: self.get("group_name").map(str::to_owned),
            group_id: self.all("group_id"),
            river_type: self.all("river_type"),
            include_deleted: self.bool("include_deleted", false)?,
            sort_by: self.parsed("sort_by")?.unwrap_or_default(),
            sort_order: self.parsed("sort_order")?.unwrap_or_default(),
        })
    }

    /// The query of `GET {E}/rivers/{flow}/runs`.
    pub fn run_query(&self) -> ApiResult<RunQuery> {
        let mut q = RunQuery::window(
            self.required_timestamp("start_time")?,
            self.required_timestamp("end_time")?,
        );
        q.target_name = self.get("target_name").map(str::to_owned);
        q.run_group_id = self.run_id("run_group_id")?;
        q.sub_river_id = self.get("sub_river_id").map(str::to_owned);
        q.page = self.page(20, 200)?;
        q.sort_by = self.parsed("sort_by")?.unwrap_or_default();
        q.sort_order = self.parsed("sort_order")?.unwrap_or_default();
        Ok(q)
    }

    fn run_id(&self, key: &str) -> ApiResult<Option<RunId>> {
        self.get(key)
            .map(|s| RunId::parse(s).map_err(ApiError::from))
            .transpose()
    }

    /// The query of the activities endpoints (each uses the fields that apply to it); the window
    /// is required by every one of them, as upstream.
    pub fn activity_query(&self) -> ApiResult<ActivityQuery> {
        let paged = self.get("page").is_some() || self.get("items_per_page").is_some();
        Ok(ActivityQuery {
            start_time: Some(self.required_timestamp("start_time")?),
            end_time: Some(self.required_timestamp("end_time")?),
            status: self.all("status"),
            group_id: self.get("group_id").map(str::to_owned),
            is_scheduled: self.opt_bool("is_scheduled")?,
            search: self.get("search").map(str::to_owned),
            river_type: self.get("river_type").map(str::to_owned),
            target_name: self.get("target_name").map(str::to_owned),
            run_group_id: self
                .get("run_group_id")
                .or_else(|| self.get("scheduler_id"))
                .map(str::to_owned),
            sub_river_id: self.get("sub_river_id").map(str::to_owned),
            page: if paged {
                Some(self.page(50, 200)?)
            } else {
                None
            },
            sort_by: self.get("sort_by").map(str::to_owned),
            sort_order: self.parsed::<SortOrder>("sort_order")?,
            return_last_runs: self.opt_bool("return_last_runs")?,
        })
    }
}

fn check_value(p: &QueryParam, v: &str) -> ApiResult<()> {
    let refuse = |kind: &str, msg: &str| Err(ApiError::validation(&["query", p.name], kind, msg));
    match p.ty {
        ParamType::Text | ParamType::ManyText => Ok(()),
        ParamType::Integer { min, max } => match v.trim().parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(()),
            Ok(_) => refuse("value_error", &format!("must be between {min} and {max}")),
            Err(_) => refuse("int_parsing", "must be an integer"),
        },
        ParamType::Boolean => {
            let b = v.trim().to_ascii_lowercase();
            if matches!(b.as_str(), "true" | "false" | "1" | "0" | "yes" | "no") {
                Ok(())
            } else {
                refuse("bool_parsing", "must be true or false")
            }
        }
        ParamType::DateTime => match Timestamp::parse(v) {
            Ok(_) => Ok(()),
            Err(_) => refuse(
                "datetime_from_date_parsing",
                "must be a date-time such as 2026-05-25T00:00:00",
            ),
        },
        ParamType::OneOf(allowed) | ParamType::ManyOf(allowed) => {
            if allowed.contains(&v) {
                Ok(())
            } else {
                refuse(
                    "enum",
                    &format!("`{v}` is not allowed: one of {}", allowed.join(", ")),
                )
            }
        }
        ParamType::RunId => match RunId::parse(v) {
            Ok(_) => Ok(()),
            Err(_) => refuse("string_pattern_mismatch", "must be 32 hexadecimal digits"),
        },
    }
}

#[cfg(test)]
mod tests {
    use bdi_domain::models::FlowStatus;

    use super::*;

    #[test]
    fn repeated_keys_become_lists() {
        let q = QueryPairs::parse("river_status=active&river_status=disabled&name=a%20b&page=2");
        let d = q.data_flow_query().unwrap();
        assert_eq!(
            d.river_status,
            vec![FlowStatus::Active, FlowStatus::Disabled]
        );
        assert_eq!(d.name.as_deref(), Some("a b"));
        assert_eq!(d.page, PageQuery::new(2, 20));
    }

    #[test]
    fn bad_values_are_refused_like_the_upstream() {
        let e = QueryPairs::parse("end_time=2026-01-01")
            .run_query()
            .unwrap_err();
        assert_eq!(e.status.as_u16(), 422);
        assert!(e.body.error.message.contains("query.start_time"), "{e:?}");
        let e = QueryPairs::parse("items_per_page=900")
            .data_flow_query()
            .unwrap_err();
        assert!(e.body.error.message.contains("between 1 and 500"), "{e:?}");
        let e = QueryPairs::parse("river_status=sleeping")
            .data_flow_query()
            .unwrap_err();
        assert!(
            e.body.error.message.contains("`sleeping` is not allowed"),
            "{e:?}"
        );
    }

    #[test]
    fn activity_queries_page_only_when_asked() {
        let w = "start_time=2026-01-01&end_time=2026-01-02";
        let q = QueryPairs::parse(&format!("{w}&status=failed&status=running&scheduler_id=x"));
        let a = q.activity_query().unwrap();
        assert!(a.page.is_none());
        assert_eq!(a.status, vec!["failed", "running"]);
        assert_eq!(a.run_group_id.as_deref(), Some("x"));
        let a = QueryPairs::parse(&format!("{w}&items_per_page=10"))
            .activity_query()
            .unwrap();
        assert_eq!(a.page, Some(PageQuery::new(1, 10)));
    }

    #[test]
    fn declared_parameters_are_checked_against_their_type() {
        use crate::routes::table;
        let params = |id: &str| {
            table()
                .into_iter()
                .find(|s| s.operation_id == id)
                .unwrap()
                .query
        };
        let check = |id: &str, raw: &str| QueryPairs::parse(raw).check(params(id));
        let w = "start_time=2026-01-01T00:00:00Z&end_time=2026-01-02";
        for (id, raw) in [
            ("list_runs", w.to_owned()),
            (
                "list_runs",
                format!("{w}&page=3&sort_by=units&sort_order=asc&target_name="),
            ),
            ("list_runs", format!("{w}&run_group_id={}", "A".repeat(32))),
            (
                "list_data_flows",
                "river_status=active&river_status=disabled&include_deleted=1".into(),
            ),
            ("activate_and_wait", "wait=false&timeout_seconds=600".into()),
            (
                "activities",
                format!("{w}&sort_by=RPUs(Units)&status=partially%20succeed"),
            ),
            ("list_environments", "unknown=whatever".into()),
        ] {
            assert_eq!(check(id, &raw), Ok(()), "{id}?{raw}");
        }
        for (id, raw, kind) in [
            ("list_runs", "end_time=2026-01-02".to_owned(), "missing"),
            ("list_runs", format!("{w}&sort_by="), "enum"),
            ("list_runs", format!("{w}&page="), "int_parsing"),
            ("list_runs", format!("{w}&page=0"), "value_error"),
            (
                "list_runs",
                format!("{w}&items_per_page=201"),
                "value_error",
            ),
            (
                "list_runs",
                format!("{w}&run_group_id=xyz"),
                "string_pattern_mismatch",
            ),
            (
                "list_runs",
                "start_time=soon&end_time=2026-01-02".into(),
                "datetime_from_date_parsing",
            ),
            (
                "list_data_flows",
                "river_status=active&river_status=".into(),
                "enum",
            ),
            (
                "activate_and_wait",
                "timeout_seconds=".into(),
                "int_parsing",
            ),
            ("activate_and_wait", "wait=maybe".into(), "bool_parsing"),
            (
                "data_flow_targets",
                format!("{w}&sort_by=RPUs(Units)"),
                "enum",
            ),
            (
                "activities_statistics",
                "start_time=&end_time=2026-01-02".into(),
                "missing",
            ),
        ] {
            let e = check(id, &raw).unwrap_err();
            assert_eq!(e.status.as_u16(), 422, "{id}?{raw}");
            assert_eq!(
                e.body.error.upstream_detail.unwrap()[0]["type"],
                kind,
                "{id}?{raw}"
            );
        }
    }

    #[test]
    fn activity_queries_need_their_window() {
        for raw in ["", "start_time=2026-01-01", "end_time=2026-01-02"] {
            let e = QueryPairs::parse(raw).activity_query().unwrap_err();
            assert_eq!(e.status.as_u16(), 422, "{raw}");
            assert_eq!(e.body.error.upstream_detail.unwrap()[0]["type"], "missing");
        }
    }
}
