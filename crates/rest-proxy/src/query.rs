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

    /// The query of the activities endpoints (each uses the fields that apply to it).
    pub fn activity_query(&self) -> ApiResult<ActivityQuery> {
        let paged = self.get("page").is_some() || self.get("items_per_page").is_some();
        Ok(ActivityQuery {
            start_time: self.timestamp("start_time")?,
            end_time: self.timestamp("end_time")?,
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
        let q =
            QueryPairs::parse("start_time=2026-01-01&status=failed&status=running&scheduler_id=x");
        let a = q.activity_query().unwrap();
        assert!(a.page.is_none());
        assert_eq!(a.status, vec!["failed", "running"]);
        assert_eq!(a.run_group_id.as_deref(), Some("x"));
        let a = QueryPairs::parse("items_per_page=10")
            .activity_query()
            .unwrap();
        assert_eq!(a.page, Some(PageQuery::new(1, 10)));
    }
}
