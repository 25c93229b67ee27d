//! The environment tools: environments, connections and variables.

use super::*;

#[tool_router(router = connections_router, vis = "pub(super)")]
impl BdiMcp {
    #[tool(description = d::LIST_ENVIRONMENTS, annotations(title = "List environments", read_only_hint = true))]
    async fn list_environments(
        &self,
        Parameters(a): Parameters<ListEnvironmentsArgs>,
    ) -> Result<Json<Listing<EnvironmentItem>>, String> {
        let items: Vec<EnvironmentItem> = self
            .svc()?
            .list_all_environments(a.include_deleted)
            .await
            .or_tool_error()?
            .into_iter()
            .map(EnvironmentItem::from)
            .collect();
        let total = items.len() as u64;
        Ok(Json(Listing {
            items,
            total_items: total,
            page: 1,
            has_next: false,
        }))
    }

    #[tool(description = d::LIST_CONNECTIONS, annotations(title = "List connections", read_only_hint = true))]
    async fn list_connections(
        &self,
        Parameters(a): Parameters<EnvArgs>,
    ) -> Result<Json<ConnectionListing>, String> {
        let env = env_of(a.environment_id)?;
        let sweep = self
            .svc()?
            .list_all_connections(&env, 100)
            .await
            .or_tool_error()?;
        Ok(Json(ConnectionListing {
            items: sweep.items.into_iter().map(ConnectionItem::from).collect(),
            total_items: sweep.total_items,
            page: 1,
            has_next: false,
            incomplete_pages: sweep.incomplete_pages,
        }))
    }

    #[tool(description = d::CREATE_CONNECTION, annotations(title = "Create connection", read_only_hint = false, destructive_hint = false, idempotent_hint = false))]
    async fn create_connection(
        &self,
        Parameters(a): Parameters<CreateConnectionArgs>,
    ) -> Result<Json<Doc>, String> {
        let env = env_of(a.environment_id)?;
        let kind = a
            .body
            .get("connection_type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if let Some(refusal) = oauth_refusal(&kind) {
            return Err(refusal);
        }
        let conn = self
            .svc()?
            .backend()
            .create_connection(&env, &a.body)
            .await
            .or_tool_error()?;
        Ok(Json(document(&conn)))
    }

    #[tool(description = d::UPDATE_CONNECTION, annotations(title = "Update connection", read_only_hint = false, destructive_hint = false, idempotent_hint = true))]
    async fn update_connection(
        &self,
        Parameters(a): Parameters<UpdateConnectionArgs>,
    ) -> Result<Json<Doc>, String> {
        let env = env_of(a.environment_id)?;
        let id = ConnectionId::parse(&a.connection_id).or_tool_error()?;
        let conn = self
            .svc()?
            .update_connection(&env, &id, &Value::Object(a.body), a.allow_credential_reset)
            .await
            .or_tool_error()?;
        Ok(Json(document(&conn)))
    }

    #[tool(description = d::DELETE_CONNECTION, annotations(title = "Delete connection", read_only_hint = false, destructive_hint = true, idempotent_hint = true))]
    async fn delete_connection(
        &self,
        Parameters(a): Parameters<ConnectionArgs>,
    ) -> Result<Json<Deleted>, String> {
        let env = env_of(a.environment_id)?;
        let id = ConnectionId::parse(&a.connection_id).or_tool_error()?;
        self.svc()?
            .backend()
            .delete_connection(&env, &id)
            .await
            .or_tool_error()?;
        Ok(Json(Deleted {
            deleted: true,
            data_flow_id: None,
            connection_id: Some(id.to_string()),
        }))
    }

    #[tool(description = d::LIST_VARIABLES, annotations(title = "List variables", read_only_hint = true))]
    async fn list_variables(
        &self,
        Parameters(a): Parameters<EnvArgs>,
    ) -> Result<Json<VariablesResult>, String> {
        let env = env_of(a.environment_id)?;
        let vars = self
            .svc()?
            .backend()
            .list_variables(&env)
            .await
            .or_tool_error()?;
        Ok(Json(VariablesResult {
            count: vars.len(),
            variables: vars,
        }))
    }

    #[tool(description = d::UPSERT_VARIABLES, annotations(title = "Set variables", read_only_hint = false, destructive_hint = false, idempotent_hint = true))]
    async fn upsert_variables(
        &self,
        Parameters(a): Parameters<UpsertVariablesArgs>,
    ) -> Result<Json<UpsertResult>, String> {
        let env = env_of(a.environment_id)?;
        let vars = a.variables.into_iter().map(|v| (v.name, v.value)).collect();
        let count = self
            .svc()?
            .upsert_variables(&env, vars)
            .await
            .or_tool_error()?;
        Ok(Json(UpsertResult {
            updated: true,
            count,
        }))
    }
}
