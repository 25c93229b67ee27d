//! The activity tools: what ran, what failed and what it cost, by environment, data flow and run group.

use super::*;

#[tool_router(router = activity_router, vis = "pub(super)")]
impl BdiMcp {
    #[tool(description = d::GET_ACTIVITY_SUMMARY, annotations(title = "Activity summary", read_only_hint = true))]
    async fn get_activity_summary(
        &self,
        Parameters(a): Parameters<ActivitySummaryArgs>,
    ) -> Result<Json<ActivityResult>, String> {
        let env = env_of(a.environment_id)?;
        let (start, end) = window(&a.start_time, &a.end_time)?;
        let query = ActivityQuery {
            start_time: Some(start),
            end_time: Some(end),
            search: a.search,
            ..Default::default()
        };
        let backend = self.svc()?.backend();
        let statistics = backend
            .activities_statistics(&env, &query)
            .await
            .or_tool_error()?;
        let breakdown = if a.include_data_flows {
            let q = ActivityQuery {
                page: Some(PageQuery::new(1, 50)),
                ..query
            };
            let page = backend.activities(&env, &q).await.or_tool_error()?;
            Some(
                serde_json::json!({ "items": page.items, "total_items": page.total_items, "has_next": page.has_next(50) }),
            )
        } else {
            None
        };
        Ok(Json(ActivityResult {
            statistics,
            breakdown,
        }))
    }

    #[tool(description = d::GET_DATA_FLOW_ACTIVITY, annotations(title = "Data flow activity", read_only_hint = true))]
    async fn get_data_flow_activity(
        &self,
        Parameters(a): Parameters<FlowActivityArgs>,
    ) -> Result<Json<ActivityResult>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let (start, end) = window(&a.start_time, &a.end_time)?;
        let status = run_status(a.status)?;
        let query = ActivityQuery {
            start_time: Some(start),
            end_time: Some(end),
            status: status.into_iter().collect(),
            ..Default::default()
        };
        let backend = self.svc()?.backend();
        let statistics = backend
            .data_flow_statistics(&env, &flow, &query)
            .await
            .or_tool_error()?;
        let targets = backend
            .data_flow_targets(&env, &flow, &query)
            .await
            .or_tool_error()?;
        Ok(Json(ActivityResult {
            statistics,
            breakdown: Some(targets),
        }))
    }

    #[tool(description = d::LIST_RUN_GROUPS, annotations(title = "List run groups", read_only_hint = true))]
    async fn list_run_groups(
        &self,
        Parameters(a): Parameters<FlowActivityArgs>,
    ) -> Result<Json<Listing<Value>>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let (start, end) = window(&a.start_time, &a.end_time)?;
        let status = run_status(a.status)?;
        let page = PageQuery::new(page_number(a.page)?, 50);
        let query = ActivityQuery {
            start_time: Some(start),
            end_time: Some(end),
            status: status.into_iter().collect(),
            page: Some(page),
            ..Default::default()
        };
        let groups = self
            .svc()?
            .backend()
            .data_flow_run_groups(&env, &flow, &query)
            .await
            .or_tool_error()?;
        Ok(Json(Listing::from_page(groups, 50, |v| v)))
    }

    #[tool(description = d::GET_RUN_GROUP, annotations(title = "Get run group", read_only_hint = true))]
    async fn get_run_group(
        &self,
        Parameters(a): Parameters<RunGroupArgs>,
    ) -> Result<Json<Doc>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let group = RunId::parse(&a.run_group_id).or_tool_error()?;
        let v = self
            .svc()?
            .backend()
            .data_flow_run_group(&env, &flow, &group)
            .await
            .or_tool_error()?;
        Ok(Json(match v {
            Value::Object(m) => m,
            other => [("run_group".to_owned(), other)].into_iter().collect(),
        }))
    }
}
