//! The run and operation tools: runs, one run, its logs, and asynchronous operations.

use super::*;

#[tool_router(router = runs_router, vis = "pub(super)")]
impl BdiMcp {
    #[tool(description = d::GET_OPERATION, annotations(title = "Get operation", read_only_hint = true))]
    async fn get_operation(
        &self,
        Parameters(a): Parameters<OperationArgs>,
    ) -> Result<Json<OperationResult>, String> {
        let env = env_of(a.environment_id)?;
        let id = OperationId::parse(&a.operation_id).or_tool_error()?;
        let op = self
            .svc()?
            .backend()
            .get_operation(&env, &id)
            .await
            .or_tool_error()?;
        Ok(Json(op.into()))
    }

    #[tool(description = d::LIST_RUNS, annotations(title = "List runs", read_only_hint = true))]
    async fn list_runs(
        &self,
        Parameters(a): Parameters<ListRunsArgs>,
    ) -> Result<Json<Listing<RunItem>>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let (start, end) = window(&a.start_time, &a.end_time)?;
        let per_page = page_size("items_per_page", a.items_per_page, 20, 200)?;
        let status = run_status(a.status)?;
        let mut query = RunQuery::window(start, end);
        query.page = PageQuery::new(page_number(a.page)?, per_page);
        query.target_name = a.target_name;
        query.run_group_id = a
            .run_group_id
            .as_deref()
            .map(RunId::parse)
            .transpose()
            .or_tool_error()?;
        let page = self
            .svc()?
            .backend()
            .list_runs(&env, &flow, &query)
            .await
            .or_tool_error()?;
        let mut listing = Listing::from_page(page, per_page, RunItem::from);
        if let Some(s) = status {
            listing.items.retain(|r| r.status == s);
        }
        Ok(Json(listing))
    }

    #[tool(description = d::GET_RUN, annotations(title = "Get run", read_only_hint = true))]
    async fn get_run(&self, Parameters(a): Parameters<RunArgs>) -> Result<Json<RunResult>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let run = RunId::parse(&a.run_id).or_tool_error()?;
        let run = self
            .svc()?
            .backend()
            .get_run(&env, &flow, &run)
            .await
            .or_tool_error()?;
        let finished = run.status.is_terminal();
        let next_step = next_step_for_run(&run, &flow);
        Ok(Json(RunResult {
            run: run.into(),
            finished,
            next_step,
        }))
    }

    #[tool(description = d::GET_RUN_LOGS, annotations(title = "Get run logs", read_only_hint = true))]
    async fn get_run_logs(
        &self,
        Parameters(a): Parameters<RunLogsArgs>,
    ) -> Result<Json<LogsResult>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let run = RunId::parse(&a.run_id).or_tool_error()?;
        let text = self
            .svc()?
            .backend()
            .get_run_logs(&env, &flow, &run)
            .await
            .or_tool_error()?;
        let tail = a.tail_lines.unwrap_or(self.options.log_tail);
        let sel = bdi_domain::logs::select(&text, tail, a.errors_only);
        let note = (sel.total == 0).then(|| {
            "the log is empty: the source may keep no logs, or the run is older than the retention (about 2 weeks)".to_owned()
        });
        let truncated = (sel.kept < sel.total).then(|| {
            let reason = match (a.errors_only, tail) {
                (true, n) if n == 0 || sel.kept < n => {
                    "errors_only=true keeps only warnings and errors".to_owned()
                }
                (true, n) => format!("errors_only=true keeps only warnings and errors, tail_lines={n} the last {n} of them"),
                (false, n) => format!("tail_lines={n} keeps the last {n} lines"),
            };
            let next = if a.errors_only {
                "errors_only=false returns every line"
            } else {
                "a larger tail_lines returns more (0: all, up to what fits in one result)"
            };
            Truncated {
                omitted_lines: Some(sel.total - sel.kept),
                reason,
                next: next.to_owned(),
                ..Truncated::default()
            }
        });
        Ok(Json(LogsResult {
            run_id: run.to_string(),
            total_lines: sel.total,
            returned_lines: sel.kept,
            truncated,
            csv: sel.csv,
            note,
        }))
    }
}
