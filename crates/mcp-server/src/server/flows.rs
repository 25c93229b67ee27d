//! The data flow tools: create, read, change, select tables, delete, activate, disable and run.

use super::*;

#[tool_router(router = flows_router, vis = "pub(super)")]
impl BdiMcp {
    #[tool(description = d::CREATE_DATA_FLOW, annotations(title = "Create data flow", read_only_hint = false, destructive_hint = false, idempotent_hint = false))]
    async fn create_data_flow(
        &self,
        Parameters(a): Parameters<CreateFlowArgs>,
    ) -> Result<Json<Doc>, String> {
        let env = env_of(a.environment_id)?;
        let spec = NewDataFlow {
            name: a.name,
            source_name: a.source_name,
            source_connection_id: ConnectionId::parse(&a.source_connection_id).map_err(|_| {
                crate::errors::tool_error(&Error::invalid(
                    "source_connection_id",
                    format!(
                        "{} is not a connection id: use a connection_id from list_connections",
                        quote(&a.source_connection_id)
                    ),
                ))
            })?,
            target_name: a.target_name,
            target_connection_id: ConnectionId::parse(&a.target_connection_id).map_err(|_| {
                crate::errors::tool_error(&Error::invalid(
                    "target_connection_id",
                    format!(
                        "{} is not a connection id: use a connection_id from list_connections",
                        quote(&a.target_connection_id)
                    ),
                ))
            })?,
            loading_method: a.loading_method,
            target_settings: a.target_settings,
            description: a.description,
        };
        let flow = self
            .svc()?
            .create_source_to_target(&env, spec)
            .await
            .or_tool_error()?;
        Ok(Json(flow.to_document()))
    }

    #[tool(description = d::LIST_DATA_FLOWS, annotations(title = "List data flows", read_only_hint = true))]
    async fn list_data_flows(
        &self,
        Parameters(a): Parameters<ListFlowsArgs>,
    ) -> Result<Json<Listing<FlowItem>>, String> {
        let env = env_of(a.environment_id)?;
        let per_page = page_size("items_per_page", a.items_per_page, 20, 500)?;
        let mut query = DataFlowQuery {
            page: PageQuery::new(page_number(a.page)?, per_page),
            name: a.name,
            ..Default::default()
        };
        if let Some(s) = a.status {
            query
                .river_status
                .push(match s.trim().to_ascii_lowercase().as_str() {
                    "active" => FlowStatus::Active,
                    "disabled" | "inactive" => FlowStatus::Disabled,
                    _ => {
                        return Err(crate::errors::tool_error(&Error::invalid(
                            "status",
                            format!("{} is not a status: use active or disabled", quote(&s)),
                        )));
                    }
                });
        }
        let page = self
            .svc()?
            .backend()
            .list_data_flows(&env, &query)
            .await
            .or_tool_error()?;
        Ok(Json(Listing::from_page(page, per_page, FlowItem::from)))
    }

    #[tool(description = d::UPDATE_DATA_FLOW, annotations(title = "Replace data flow", read_only_hint = false, destructive_hint = false, idempotent_hint = true))]
    async fn update_data_flow(
        &self,
        Parameters(a): Parameters<UpdateFlowArgs>,
    ) -> Result<Json<Doc>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        refuse_elided("body", &a.body)?;
        let flow = self
            .svc()?
            .update_data_flow(&env, &flow, a.body)
            .await
            .or_tool_error()?;
        Ok(Json(flow.to_document()))
    }

    #[tool(description = d::SET_SOURCE_TABLES, annotations(title = "Set source tables", read_only_hint = false, destructive_hint = false, idempotent_hint = true))]
    async fn set_data_flow_source_tables(
        &self,
        Parameters(a): Parameters<SetTablesArgs>,
    ) -> Result<Json<TablesResult>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let conn = ConnectionId::parse(&a.source_connection_id).or_tool_error()?;
        let set = self
            .svc()?
            .set_source_tables(&env, &flow, Some(&conn), &a.table_names)
            .await
            .or_tool_error()?;
        let tables: Vec<String> = set
            .tables
            .iter()
            .map(|t| format!("{}.{}", t.schema, t.table))
            .collect();
        let next_step = if set.flow.is_active() {
            "run it with run_data_flow".to_owned()
        } else {
            "activate it with activate_data_flow(wait=true), then run_data_flow".to_owned()
        };
        Ok(Json(TablesResult {
            data_flow_id: flow.to_string(),
            count: tables.len(),
            tables,
            next_step,
        }))
    }

    #[tool(description = d::PATCH_DATA_FLOW, annotations(title = "Patch data flow", read_only_hint = false, destructive_hint = false, idempotent_hint = true))]
    async fn patch_data_flow(
        &self,
        Parameters(a): Parameters<PatchFlowArgs>,
    ) -> Result<Json<Doc>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        refuse_elided("patch", &a.patch)?;
        let flow = self
            .svc()?
            .patch_data_flow(&env, &flow, &Value::Object(a.patch))
            .await
            .or_tool_error()?;
        Ok(Json(flow.to_document()))
    }

    #[tool(description = d::DELETE_DATA_FLOW, annotations(title = "Delete data flow", read_only_hint = false, destructive_hint = true, idempotent_hint = true))]
    async fn delete_data_flow(
        &self,
        Parameters(a): Parameters<FlowArgs>,
    ) -> Result<Json<Deleted>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        self.svc()?
            .delete_data_flow(&env, &flow)
            .await
            .or_tool_error()?;
        Ok(Json(Deleted {
            deleted: true,
            data_flow_id: Some(flow.to_string()),
            connection_id: None,
        }))
    }

    #[tool(description = d::GET_DATA_FLOW, annotations(title = "Get data flow", read_only_hint = true))]
    async fn get_data_flow(
        &self,
        Parameters(a): Parameters<FlowArgs>,
    ) -> Result<Json<Doc>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let flow = self
            .svc()?
            .backend()
            .get_data_flow(&env, &flow)
            .await
            .or_tool_error()?;
        Ok(Json(flow.to_document()))
    }

    #[tool(description = d::ACTIVATE_DATA_FLOW, annotations(title = "Activate data flow", read_only_hint = false, destructive_hint = false, idempotent_hint = true))]
    async fn activate_data_flow(
        &self,
        Parameters(a): Parameters<WaitFlowArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<ToggleResult>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let svc = self.svc()?;
        let bridge = ProgressBridge::new(&ctx);
        let wait = a
            .wait
            .then(|| self.wait_options(&ctx, &bridge, a.wait_timeout_seconds));
        let outcome = svc.activate(&env, &flow, wait).await;
        bridge.finish().await;
        Ok(Json(toggle_result(&flow, outcome.or_tool_error()?, true)))
    }

    #[tool(description = d::DISABLE_DATA_FLOW, annotations(title = "Disable data flow", read_only_hint = false, destructive_hint = false, idempotent_hint = true))]
    async fn disable_data_flow(
        &self,
        Parameters(a): Parameters<FlowArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<ToggleResult>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let svc = self.svc()?;
        // Disabling is asynchronous upstream; waiting for it (bounded) means a following
        // delete_data_flow or update does not race the operation.
        let bridge = ProgressBridge::new(&ctx);
        let wait = self.wait_options(&ctx, &bridge, None);
        let outcome = svc.disable(&env, &flow, Some(wait)).await;
        bridge.finish().await;
        Ok(Json(toggle_result(&flow, outcome.or_tool_error()?, false)))
    }

    #[tool(description = d::RUN_DATA_FLOW, annotations(title = "Run data flow", read_only_hint = false, destructive_hint = false, idempotent_hint = false))]
    async fn run_data_flow(
        &self,
        Parameters(a): Parameters<WaitFlowArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<RunTriggerResult>, String> {
        let env = env_of(a.environment_id)?;
        let flow = flow_id(&a.data_flow_id)?;
        let svc = self.svc()?;
        let bridge = ProgressBridge::new(&ctx);
        let wait = a
            .wait
            .then(|| self.wait_options(&ctx, &bridge, a.wait_timeout_seconds));
        let opts = RunOptions {
            run_sub_rivers: false,
            wait,
            wait_for_throttle: false,
        };
        let outcome = svc.run(&env, &flow, opts).await;
        bridge.finish().await;
        let outcome = outcome.or_tool_error()?;
        let group = outcome.triggered.run_group_id.clone();
        let run_id = outcome.run_id.clone();
        let messages: Vec<String> = outcome
            .triggered
            .runs
            .iter()
            .filter_map(|r| r.message.clone())
            .collect();
        let check = format!(
            "get_run(data_flow_id=\"{flow}\", run_id=\"{}\")",
            run_id.as_deref().unwrap_or(group.as_str())
        );
        let state = outcome.state();
        let message = match &state.stage {
            RunStage::Started => format!(
                "run started; it continues upstream. Check it later with {check} (do not poll in a tight loop)"
            ),
            RunStage::Succeeded => format!("run {}", state.status),
            RunStage::Failed => format!(
                "run {}{}; read the log with get_run_logs(data_flow_id=\"{flow}\", run_id=\"{}\", errors_only=true)",
                state.status,
                state
                    .run
                    .as_ref()
                    .and_then(|r| r.error_description.as_deref())
                    .filter(|s| !s.is_empty())
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default(),
                state.run.as_ref().map_or("", |r| r.run_id.as_str())
            ),
            RunStage::TimedOut(elapsed) => format!(
                "still running after {} s; the run continues upstream. Check it with {check}",
                elapsed.as_secs()
            ),
            RunStage::Cancelled => {
                format!("wait cancelled; the run continues upstream. Check it with {check}")
            }
        };
        let finished = state.is_finished();
        let status = state.status.as_str().to_owned();
        let run = state.run.map(RunItem::from);
        let message = if outcome.reconciled {
            format!(
                "{message} (the trigger's answer was lost; the run was found by listing recent runs, and was not started twice)"
            )
        } else {
            message
        };
        Ok(Json(RunTriggerResult {
            data_flow_id: flow.to_string(),
            run_group_id: group,
            run_id,
            status,
            finished,
            run,
            messages,
            message,
        }))
    }
}

/// Refuses a document that holds the text a cut result put in place of an elided field: it
/// would be written as that text.
fn refuse_elided(field: &str, doc: &serde_json::Map<String, Value>) -> Result<(), String> {
    match crate::bounded::elided_field_in(doc) {
        None => Ok(()),
        Some(path) => Err(crate::errors::tool_error(&Error::invalid(
            field,
            format!(
                "{path} holds the text that stood in for a field elided from a large result, not the field: change fields with patch_data_flow, leaving the elided ones out"
            ),
        ))),
    }
}
