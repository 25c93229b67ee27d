//! `impl Backend for HttpBackend`: one method per upstream operation, with the method and path of
//! the summary table of `docs/upstream-api.md` (4.0) and the Activities paths of its section 4.10.

use async_trait::async_trait;
use bdi_domain::models::{
    ActivityQuery, Connection, DataFlow, DataFlowQuery, DataFlowSummary, DiscoveryRequest,
    Environment, Operation, Page, PageQuery, Run, RunQuery, RunTriggered, Toggle, Variables,
};
use bdi_domain::{
    Backend, ConnectionId, DataFlowId, Document, Env, EnvironmentId, Error, OperationId, Result,
    RunId,
};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::client::{Call, HttpBackend, Raw, decode, decode_value};
use crate::status::CallKind;

/// How many times a 202 "logs still preparing" answer is retried before returning what is there.
const LOG_PREPARING_RETRIES: u32 = 3;

type Query = Vec<(&'static str, String)>;

fn page_params(q: &mut Query, page: PageQuery) {
    q.push(("page", page.page.max(1).to_string()));
    q.push(("items_per_page", page.items_per_page.max(1).to_string()));
}

fn opt(q: &mut Query, key: &'static str, value: Option<&str>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        q.push((key, v.to_owned()));
    }
}

/// The query parameters of one Activities endpoint.
#[derive(Clone, Copy)]
enum Activity {
    /// A1 `activities_statistics`.
    EnvStatistics,
    /// A8 `activities`.
    EnvActivities,
    /// A2 `rivers/{id}/activities_statistics`.
    FlowStatistics,
    /// A3 `rivers/{id}/activities_targets`.
    FlowTargets,
    /// A4 `rivers/{id}/activities_run_groups`.
    FlowRunGroups,
    /// A5 `rivers/{id}/activities_sub_rivers`.
    FlowSubRivers,
}

fn activity_query(a: Activity, aq: &ActivityQuery) -> Query {
    use Activity as A;
    let mut q = Query::new();
    opt(
        &mut q,
        "start_time",
        aq.start_time.map(|t| t.to_query()).as_deref(),
    );
    opt(
        &mut q,
        "end_time",
        aq.end_time.map(|t| t.to_query()).as_deref(),
    );
    let env_wide = matches!(a, A::EnvStatistics | A::EnvActivities);
    if matches!(
        a,
        A::EnvStatistics | A::EnvActivities | A::FlowStatistics | A::FlowTargets | A::FlowRunGroups
    ) {
        for s in &aq.status {
            q.push(("status", s.clone()));
        }
    }
    if env_wide {
        opt(&mut q, "group_id", aq.group_id.as_deref());
        if let Some(b) = aq.is_scheduled {
            q.push(("is_scheduled", b.to_string()));
        }
        opt(&mut q, "search", aq.search.as_deref());
        opt(&mut q, "river_type", aq.river_type.as_deref());
    }
    if matches!(a, A::FlowRunGroups | A::FlowSubRivers) {
        opt(&mut q, "target_name", aq.target_name.as_deref());
    }
    if matches!(a, A::FlowTargets | A::FlowSubRivers) {
        // The Activities API's name for a run group id.
        opt(&mut q, "scheduler_id", aq.run_group_id.as_deref());
    }
    if matches!(a, A::FlowTargets | A::FlowRunGroups) {
        opt(&mut q, "sub_river_id", aq.sub_river_id.as_deref());
    }
    if matches!(a, A::EnvActivities | A::FlowRunGroups) {
        page_params(&mut q, aq.page.unwrap_or_default());
    }
    if matches!(a, A::EnvActivities | A::FlowTargets | A::FlowRunGroups) {
        opt(&mut q, "sort_by", aq.sort_by.as_deref());
        if let Some(o) = aq.sort_order {
            q.push(("sort_order", o.as_str().to_owned()));
        }
    }
    if matches!(a, A::EnvActivities)
        && let Some(b) = aq.return_last_runs
    {
        q.push(("return_last_runs", b.to_string()));
    }
    q
}

/// Decodes a list response: the pagination envelope (`items` or `data`), or a bare array (taken
/// as the only page).
fn decode_page<T: DeserializeOwned>(raw: &Raw) -> Result<Page<T>> {
    if raw.body.trim_start().starts_with('[') {
        let items: Vec<T> = decode(raw)?;
        return Ok(Page::single(items));
    }
    decode(raw)
}

/// Reads activate/disable answers: an operation means it started; 204, an empty body, `null` or
/// a body without `operation_id` mean the flow already was in the requested state.
fn toggle_of(raw: &Raw) -> Result<Toggle> {
    if raw.status == 204 || raw.is_empty() {
        return Ok(Toggle::AlreadyInState);
    }
    let value: Value = decode(raw)?;
    let has_op = value
        .get("operation_id")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    if !has_op {
        if raw.status == 202 && value.is_object() {
            return Err(Error::Decode {
                path: "operation_id".to_owned(),
                message: "a 202 answer carried no operation_id".to_owned(),
            });
        }
        return Ok(Toggle::AlreadyInState);
    }
    let operation: Operation = decode_value(value)?;
    Ok(Toggle::Started {
        operation: Box::new(operation),
    })
}

/// The text of a logs answer: the body as is, or the string inside a JSON string body.
fn logs_text(raw: Raw) -> String {
    let is_json = raw
        .content_type
        .as_deref()
        .is_some_and(|c| c.contains("json"));
    if is_json {
        match serde_json::from_str::<Value>(&raw.body) {
            Ok(Value::String(s)) => return s,
            Ok(Value::Null) => return String::new(),
            _ => {}
        }
    }
    raw.body
}

/// Reads `{"variables": {...}}`; a null map is empty and non-string values keep their JSON text.
fn variables_of(raw: &Raw) -> Result<Variables> {
    let value: Value = decode(raw)?;
    let map = match value.get("variables") {
        Some(Value::Object(m)) => m.clone(),
        Some(Value::Null) => Map::new(),
        Some(other) => {
            return Err(Error::Decode {
                path: "variables".to_owned(),
                message: format!("expected an object, got {other}"),
            });
        }
        None => {
            return Err(Error::Decode {
                path: "variables".to_owned(),
                message: "missing field `variables`".to_owned(),
            });
        }
    };
    Ok(map
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (k, text)
        })
        .collect())
}

/// A decode failure of a create answer: the object may exist upstream, so say so.
fn created_but_unreadable(e: Error, what: &str) -> Error {
    match e {
        Error::Decode { path, message } => Error::Decode {
            path,
            message: format!("{message} (the {what} may have been created: list to check)"),
        },
        other => other,
    }
}

impl HttpBackend {
    fn flow_path(&self, env: &Env, flow: &DataFlowId) -> Result<String> {
        Ok(format!("{}/rivers/{flow}", self.env_path(env)?))
    }

    async fn get_json<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T> {
        let raw = self.execute(&call).await?;
        decode(&raw)
    }

    async fn get_page<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<Page<T>> {
        let raw = self.execute(&call).await?;
        decode_page(&raw)
    }

    async fn toggle(&self, env: &Env, flow: &DataFlowId, action: &'static str) -> Result<Toggle> {
        let path = format!("{}/{action}", self.flow_path(env, flow)?);
        let call =
            Call::new(Method::POST, path, format!("data flow {flow}")).kind(CallKind::ToggleFlow);
        let raw = self.execute(&call).await?;
        toggle_of(&raw)
    }
}

#[async_trait]
impl Backend for HttpBackend {
    fn default_environment(&self) -> Option<EnvironmentId> {
        self.default_environment.clone()
    }

    async fn get_operation(&self, env: &Env, id: &OperationId) -> Result<Operation> {
        let path = format!("{}/operations/{id}", self.env_path(env)?);
        self.get_json(Call::new(Method::GET, path, format!("operation {id}")))
            .await
    }

    async fn list_runs(&self, env: &Env, flow: &DataFlowId, query: &RunQuery) -> Result<Page<Run>> {
        let path = format!("{}/runs", self.flow_path(env, flow)?);
        let mut q = vec![
            ("start_time", query.start_time.to_query()),
            ("end_time", query.end_time.to_query()),
        ];
        opt(&mut q, "target_name", query.target_name.as_deref());
        opt(
            &mut q,
            "run_group_id",
            query.run_group_id.as_ref().map(RunId::as_str),
        );
        opt(&mut q, "sub_river_id", query.sub_river_id.as_deref());
        page_params(&mut q, query.page);
        q.push(("sort_by", query.sort_by.as_str().to_owned()));
        q.push(("sort_order", query.sort_order.as_str().to_owned()));
        self.get_page(Call::new(Method::GET, path, format!("data flow {flow}")).query(q))
            .await
    }

    async fn get_run(&self, env: &Env, flow: &DataFlowId, run: &RunId) -> Result<Run> {
        let path = format!("{}/runs/{run}", self.flow_path(env, flow)?);
        self.get_json(Call::new(
            Method::GET,
            path,
            format!("run {run} of data flow {flow}"),
        ))
        .await
    }

    async fn get_run_logs(&self, env: &Env, flow: &DataFlowId, run: &RunId) -> Result<String> {
        let path = format!("{}/runs/{run}/logs", self.flow_path(env, flow)?);
        let call = Call::new(Method::GET, path, format!("logs of run {run}"));
        let mut raw = self.execute(&call).await?;
        let mut attempt = 0;
        while raw.status == 202 && attempt < LOG_PREPARING_RETRIES {
            let wait = self.retry.backoff(attempt);
            tracing::debug!(%run, attempt, wait_ms = wait.as_millis(), "logs still preparing (202)");
            tokio::time::sleep(wait).await;
            raw = self.execute(&call).await?;
            attempt += 1;
        }
        Ok(logs_text(raw))
    }

    async fn list_data_flows(
        &self,
        env: &Env,
        query: &DataFlowQuery,
    ) -> Result<Page<DataFlowSummary>> {
        let path = format!("{}/rivers", self.env_path(env)?);
        let mut q = Query::new();
        page_params(&mut q, query.page);
        opt(&mut q, "name", query.name.as_deref());
        for s in &query.river_status {
            q.push(("river_status", s.as_str().to_owned()));
        }
        opt(&mut q, "group_name", query.group_name.as_deref());
        for g in &query.group_id {
            q.push(("group_id", g.clone()));
        }
        for t in &query.river_type {
            q.push(("river_type", t.clone()));
        }
        if query.include_deleted {
            q.push(("include_deleted", "true".to_owned()));
        }
        q.push(("sort_by", query.sort_by.as_str().to_owned()));
        q.push(("sort_order", query.sort_order.as_str().to_owned()));
        let what = format!("environment {}", env_label(self, env));
        self.get_page(Call::new(Method::GET, path, what).query(q))
            .await
    }

    async fn get_data_flow(&self, env: &Env, flow: &DataFlowId) -> Result<DataFlow> {
        let path = self.flow_path(env, flow)?;
        self.get_json(
            Call::new(Method::GET, path, format!("data flow {flow}")).kind(CallKind::GetFlow),
        )
        .await
    }

    async fn create_data_flow(&self, env: &Env, body: &Document) -> Result<DataFlow> {
        let path = format!("{}/rivers", self.env_path(env)?);
        let body = Value::Object(body.clone());
        let what = format!("environment {}", env_label(self, env));
        let raw = self
            .execute(&Call::new(Method::POST, path, what).body(&body))
            .await?;
        decode(&raw).map_err(|e| created_but_unreadable(e, "data flow"))
    }

    async fn update_data_flow(
        &self,
        env: &Env,
        flow: &DataFlowId,
        body: &Document,
    ) -> Result<DataFlow> {
        let path = self.flow_path(env, flow)?;
        let body = Value::Object(body.clone());
        self.get_json(
            Call::new(Method::PUT, path, format!("data flow {flow}"))
                .kind(CallKind::UpdateFlow)
                .body(&body),
        )
        .await
    }

    async fn delete_data_flow(&self, env: &Env, flow: &DataFlowId) -> Result<()> {
        let path = self.flow_path(env, flow)?;
        self.execute(
            &Call::new(Method::DELETE, path, format!("data flow {flow}"))
                .kind(CallKind::DeleteFlow),
        )
        .await?;
        Ok(())
    }

    async fn activate_data_flow(&self, env: &Env, flow: &DataFlowId) -> Result<Toggle> {
        self.toggle(env, flow, "activate_river").await
    }

    async fn disable_data_flow(&self, env: &Env, flow: &DataFlowId) -> Result<Toggle> {
        self.toggle(env, flow, "disable_river").await
    }

    async fn run_data_flow(
        &self,
        env: &Env,
        flow: &DataFlowId,
        run_sub_rivers: bool,
    ) -> Result<RunTriggered> {
        let path = format!("{}/run", self.flow_path(env, flow)?);
        let call = Call::new(Method::POST, path, format!("data flow {flow}"))
            .kind(CallKind::RunFlow)
            .query(vec![("run_sub_rivers", run_sub_rivers.to_string())]);
        let raw = self.execute(&call).await?;
        if raw.is_empty() {
            return Ok(RunTriggered {
                runs: Vec::new(),
                river_cross_id: flow.to_string(),
                run_group_id: String::new(),
                extra: Map::new(),
            });
        }
        decode(&raw)
    }

    async fn list_environments(
        &self,
        page: PageQuery,
        include_deleted: bool,
    ) -> Result<Page<Environment>> {
        let path = format!("{}/environments", self.account_path());
        let mut q = Query::new();
        page_params(&mut q, page);
        if include_deleted {
            q.push(("include_deleted", "true".to_owned()));
        }
        self.get_page(Call::new(Method::GET, path, format!("account {}", self.account_id)).query(q))
            .await
    }

    async fn list_connections(&self, env: &Env, page: PageQuery) -> Result<Page<Connection>> {
        let path = format!("{}/connections", self.env_path(env)?);
        let mut q = Query::new();
        page_params(&mut q, page);
        let what = format!("environment {}", env_label(self, env));
        self.get_page(Call::new(Method::GET, path, what).query(q))
            .await
    }

    async fn get_connection(&self, env: &Env, id: &ConnectionId) -> Result<Connection> {
        let path = format!("{}/connections/{id}", self.env_path(env)?);
        self.get_json(Call::new(Method::GET, path, format!("connection {id}")))
            .await
    }

    async fn create_connection(&self, env: &Env, body: &Document) -> Result<Connection> {
        let path = format!("{}/connections", self.env_path(env)?);
        let body = Value::Object(body.clone());
        let what = format!("environment {}", env_label(self, env));
        let raw = self
            .execute(&Call::new(Method::POST, path, what).body(&body))
            .await?;
        decode(&raw).map_err(|e| created_but_unreadable(e, "connection"))
    }

    async fn update_connection(
        &self,
        env: &Env,
        id: &ConnectionId,
        body: &Document,
    ) -> Result<Connection> {
        let path = format!("{}/connections/{id}", self.env_path(env)?);
        let body = Value::Object(body.clone());
        self.get_json(Call::new(Method::PUT, path, format!("connection {id}")).body(&body))
            .await
    }

    async fn delete_connection(&self, env: &Env, id: &ConnectionId) -> Result<()> {
        let path = format!("{}/connections/{id}", self.env_path(env)?);
        self.execute(&Call::new(Method::DELETE, path, format!("connection {id}")))
            .await?;
        Ok(())
    }

    async fn list_variables(&self, env: &Env) -> Result<Variables> {
        let path = format!("{}/variables", self.env_path(env)?);
        let what = format!("environment {}", env_label(self, env));
        let raw = self.execute(&Call::new(Method::GET, path, what)).await?;
        variables_of(&raw)
    }

    async fn upsert_variables(&self, env: &Env, vars: &Variables) -> Result<()> {
        let path = format!("{}/variables", self.env_path(env)?);
        let body = json!({ "variables": vars });
        let what = format!("environment {}", env_label(self, env));
        // 200, 201 and 204 all mean done; the echo, if any, is not needed.
        self.execute(&Call::new(Method::PUT, path, what).body(&body))
            .await?;
        Ok(())
    }

    async fn start_discovery(&self, env: &Env, request: &DiscoveryRequest) -> Result<Operation> {
        let path = format!("{}/pull_requests", self.env_path(env)?);
        let mut inputs = Map::new();
        inputs.insert(
            "connection_id".to_owned(),
            Value::String(request.connection_id.to_string()),
        );
        if let Some(schemas) = &request.schemas {
            inputs.insert("schemas".to_owned(), json!(schemas));
        }
        if let Some(table) = &request.table_name {
            inputs.insert("table_name".to_owned(), Value::String(table.clone()));
        }
        let body = json!({
            "task_type": "source",
            "datasource_id": request.datasource_id,
            "task": "get_db_metadata",
            "pull_request_inputs": inputs,
        });
        let what = format!("connection {}", request.connection_id);
        self.get_json(Call::new(Method::POST, path, what).body(&body))
            .await
    }

    async fn activities_statistics(&self, env: &Env, query: &ActivityQuery) -> Result<Value> {
        let path = format!("{}/activities_statistics", self.env_path(env)?);
        let what = format!("environment {}", env_label(self, env));
        self.get_json(
            Call::new(Method::GET, path, what)
                .query(activity_query(Activity::EnvStatistics, query)),
        )
        .await
    }

    async fn activities(&self, env: &Env, query: &ActivityQuery) -> Result<Page<Value>> {
        let path = format!("{}/activities", self.env_path(env)?);
        let what = format!("environment {}", env_label(self, env));
        self.get_page(
            Call::new(Method::GET, path, what)
                .query(activity_query(Activity::EnvActivities, query)),
        )
        .await
    }

    async fn data_flow_statistics(
        &self,
        env: &Env,
        flow: &DataFlowId,
        query: &ActivityQuery,
    ) -> Result<Value> {
        let path = format!("{}/activities_statistics", self.flow_path(env, flow)?);
        self.get_json(
            Call::new(Method::GET, path, format!("data flow {flow}"))
                .query(activity_query(Activity::FlowStatistics, query)),
        )
        .await
    }

    async fn data_flow_targets(
        &self,
        env: &Env,
        flow: &DataFlowId,
        query: &ActivityQuery,
    ) -> Result<Value> {
        let path = format!("{}/activities_targets", self.flow_path(env, flow)?);
        self.get_json(
            Call::new(Method::GET, path, format!("data flow {flow}"))
                .query(activity_query(Activity::FlowTargets, query)),
        )
        .await
    }

    async fn data_flow_run_groups(
        &self,
        env: &Env,
        flow: &DataFlowId,
        query: &ActivityQuery,
    ) -> Result<Page<Value>> {
        let path = format!("{}/activities_run_groups", self.flow_path(env, flow)?);
        self.get_page(
            Call::new(Method::GET, path, format!("data flow {flow}"))
                .query(activity_query(Activity::FlowRunGroups, query)),
        )
        .await
    }

    async fn data_flow_run_group(
        &self,
        env: &Env,
        flow: &DataFlowId,
        group: &RunId,
    ) -> Result<Value> {
        let path = format!(
            "{}/activities_run_groups/{group}",
            self.flow_path(env, flow)?
        );
        self.get_json(Call::new(
            Method::GET,
            path,
            format!("run group {group} of data flow {flow}"),
        ))
        .await
    }

    async fn data_flow_sub_flows(
        &self,
        env: &Env,
        flow: &DataFlowId,
        query: &ActivityQuery,
    ) -> Result<Value> {
        let path = format!("{}/activities_sub_rivers", self.flow_path(env, flow)?);
        self.get_json(
            Call::new(Method::GET, path, format!("data flow {flow}"))
                .query(activity_query(Activity::FlowSubRivers, query)),
        )
        .await
    }
}

/// The environment id a call targets, for messages (resolved before any request, so known).
fn env_label(backend: &HttpBackend, env: &Env) -> String {
    env.id()
        .or(backend.default_environment.as_ref())
        .map_or_else(|| "(none)".to_owned(), ToString::to_string)
}

#[cfg(test)]
mod tests;
