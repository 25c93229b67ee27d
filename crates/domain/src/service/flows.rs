//! The data flows: create (from a body or flat parameters), update, patch (deep merge), select
//! source tables (discovery and matching, with a cached catalog), delete, activate and disable.

use super::*;

impl Service {
    /// Creates a data flow from a full write body, prepared first (forbidden fields and nulls
    /// stripped).
    pub async fn create_data_flow(&self, env: &Env, body: Document) -> Result<DataFlow> {
        let mut body = body;
        prepare_data_flow_write(&mut body);
        self.backend.create_data_flow(env, &body).await
    }

    /// Creates a source-to-target data flow from flat parameters (`docs/upstream-api.md` 4.5.1), then saves it
    /// once with the same body so that activation works on it (trap 13). If that save fails, the
    /// created flow is returned as is: it exists, and saving it once later (an empty patch) is
    /// the remedy [`explain_operation`] gives when its activation fails.
    pub async fn create_source_to_target(&self, env: &Env, spec: NewDataFlow) -> Result<DataFlow> {
        let body = source_to_target_body(&spec)?;
        let created = self.backend.create_data_flow(env, &body).await?;
        let Ok(id) = DataFlowId::parse(&created.cross_id) else {
            tracing::warn!(id = %created.cross_id, "created data flow has an unexpected id; not saving it again");
            return Ok(created);
        };
        let guard = self.locks.lock(&flow_key(&id)).await?;
        guard.check().await?;
        match self.backend.update_data_flow(env, &id, &body).await {
            Ok(saved) => Ok(saved),
            Err(e) => {
                tracing::warn!(data_flow = %id, error = %e, "the save after create failed; activation may need one save first");
                Ok(created)
            }
        }
    }

    /// Replaces a data flow with `body` (a full document), refusing a change of `type` or
    /// `properties.source.run_type`.
    pub async fn update_data_flow(
        &self,
        env: &Env,
        id: &DataFlowId,
        body: Document,
    ) -> Result<DataFlow> {
        let guard = self.locks.lock(&flow_key(id)).await?;
        let current = self.backend.get_data_flow(env, id).await?;
        let next = Value::Object(body);
        check_immutable(&Value::Object(current.to_document()), &next)?;
        let Value::Object(mut body) = next else {
            return Err(Error::invalid("body", "the body must be a JSON object"));
        };
        prepare_data_flow_write(&mut body);
        guard.check().await?;
        self.backend.update_data_flow(env, id, &body).await
    }

    /// Deep-merges `patch` into the current document (lists replace, null removes) and saves it.
    /// An empty patch saves the flow unchanged.
    pub async fn patch_data_flow(
        &self,
        env: &Env,
        id: &DataFlowId,
        patch: &Value,
    ) -> Result<DataFlow> {
        if !patch.is_object() {
            return Err(Error::invalid(
                "patch",
                "the patch must be a JSON object of the fields to change, e.g. {\"name\": \"New Name\"}",
            ));
        }
        let guard = self.locks.lock(&flow_key(id)).await?;
        let current = Value::Object(self.backend.get_data_flow(env, id).await?.to_document());
        let mut next = current.clone();
        merge_patch(&mut next, patch);
        check_immutable(&current, &next)?;
        let Value::Object(mut body) = next else {
            return Err(Error::invalid("patch", "the patch must be a JSON object"));
        };
        prepare_data_flow_write(&mut body);
        guard.check().await?;
        self.backend.update_data_flow(env, id, &body).await
    }

    /// Selects exactly `table_names` as the flow's source tables (`docs/upstream-api.md` 7.3),
    /// from `connection`, or from the data flow's own source connection when it is `None`.
    /// Nothing is written unless every name matches a table of the connection.
    pub async fn set_source_tables(
        &self,
        env: &Env,
        id: &DataFlowId,
        connection: Option<&ConnectionId>,
        table_names: &[String],
    ) -> Result<TablesSet> {
        if table_names.is_empty() {
            return Err(Error::invalid(
                "table_names",
                "give every table to sync, e.g. [\"customers\", \"orders\"]: the list replaces the whole selection",
            ));
        }
        let flow = self.backend.get_data_flow(env, id).await?;
        let configured = flow
            .properties
            .pointer("/source/connection_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let own;
        let connection = match (connection, configured) {
            (Some(given), _) => given,
            (None, Some(c)) => {
                own = ConnectionId::parse(c)?;
                &own
            }
            (None, None) => {
                return Err(Error::invalid(
                    "connection",
                    format!(
                        "data flow {id} has no source connection: give the connection to read its tables from"
                    ),
                ));
            }
        };
        if let Some(c) = configured
            && !c.eq_ignore_ascii_case(connection.as_str())
        {
            return Err(Error::invalid(
                "source_connection_id",
                format!(
                    "data flow {id} reads from connection {c}, not {connection}: pass {c}, or change the data flow's properties.source.connection_id first"
                ),
            ));
        }
        let datasource = match flow.source_name().filter(|s| !s.is_empty()) {
            Some(s) => s.to_owned(),
            None => self
                .backend
                .get_connection(env, connection)
                .await?
                .type_slug()
                .ok_or_else(|| {
                    Error::invalid(
                        "data_flow_id",
                        format!("data flow {id} names no source type (properties.source.name); set it first"),
                    )
                })?,
        };
        let (catalog, cached) = self.catalog(env, connection, &datasource, false).await?;
        let matched = match match_tables(&catalog, table_names) {
            Ok(m) => m,
            Err(e) if cached && e.has_unknown() => {
                // The catalog may predate a new table: discover once more before refusing.
                let (fresh, _) = self.catalog(env, connection, &datasource, true).await?;
                match_tables(&fresh, table_names)?
            }
            Err(e) => return Err(e.into()),
        };

        let guard = self.locks.lock(&flow_key(id)).await?;
        let mut doc = self.backend.get_data_flow(env, id).await?.to_document();
        let props = doc
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if !props.is_object() {
            *props = Value::Object(Map::new());
        }
        if let Value::Object(props) = props {
            let schemas = build_schemas(props.get("schemas").unwrap_or(&Value::Null), &matched);
            props.insert("schemas".to_owned(), schemas);
            let source = props
                .entry("source")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(source) = source {
                let absent = source
                    .get("connection_id")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty);
                if absent {
                    source.insert(
                        "connection_id".to_owned(),
                        Value::String(connection.to_string()),
                    );
                }
            }
        }
        prepare_data_flow_write(&mut doc);
        guard.check().await?;
        let flow = self.backend.update_data_flow(env, id, &doc).await?;
        Ok(TablesSet {
            flow,
            tables: matched,
        })
    }

    /// The connection's catalog, from the cache unless `refresh`; the flag says it was cached.
    async fn catalog(
        &self,
        env: &Env,
        connection: &ConnectionId,
        datasource: &str,
        refresh: bool,
    ) -> Result<(Arc<Catalog>, bool)> {
        let key = (env.clone(), connection.clone());
        if !refresh && let Some(c) = self.catalogs.get(&key, self.config.catalog_ttl) {
            return Ok((c, true));
        }
        let request = DiscoveryRequest {
            datasource_id: datasource.to_owned(),
            connection_id: connection.clone(),
            schemas: None,
            table_name: None,
        };
        let started = self.backend.start_discovery(env, &request).await?;
        let what = format!("metadata discovery of connection {connection}");
        let op = match self
            .follow_operation(env, &started, &WaitOptions::default())
            .await?
        {
            Waited::Finished(op) => op,
            Waited::TimedOut { elapsed, .. } => {
                return Err(Error::Timeout(format!(
                    "{what} did not finish within {} s (operation {}); nothing was changed: try again later",
                    elapsed.as_secs(),
                    started.operation_id
                )));
            }
            Waited::Cancelled { .. } => {
                return Err(Error::Cancelled(format!("{what}; nothing was changed")));
            }
        };
        if op.status == OperationStatus::Error {
            return Err(Error::OperationFailed {
                operation_id: op.operation_id.clone(),
                message: op
                    .error_message
                    .clone()
                    .unwrap_or_else(|| format!("{what} failed without a message")),
            });
        }
        let catalog = Arc::new(Catalog::from_discovery(
            op.result.as_ref().unwrap_or(&Value::Null),
        )?);
        self.catalogs
            .put(key, catalog.clone(), self.config.catalog_ttl);
        Ok((catalog, false))
    }

    /// Deletes a data flow. An active flow (other than a logic flow) is refused before any
    /// delete: it must be disabled first. Nothing is ever force-deleted.
    pub async fn delete_data_flow(&self, env: &Env, id: &DataFlowId) -> Result<()> {
        let flow = self.backend.get_data_flow(env, id).await?;
        if flow.status() == Some("active") && flow.flow_type != "logic" {
            return Err(Error::State {
                conflict: StateConflict::ActiveFlow,
                message: format!(
                    "data flow {id} ({}) is active and cannot be deleted: disable it first, wait for the operation, then delete it",
                    flow.name
                ),
            });
        }
        self.backend.delete_data_flow(env, id).await
    }

    /// Activates a data flow, optionally waiting for the operation. An operation ending in `E`
    /// is an outcome, not an error: see [`Activation::advice`].
    pub async fn activate(
        &self,
        env: &Env,
        id: &DataFlowId,
        wait: Option<WaitOptions>,
    ) -> Result<Activation> {
        let toggle = self.backend.activate_data_flow(env, id).await?;
        self.after_toggle(env, toggle, wait).await
    }

    /// Disables a data flow, optionally waiting for the operation.
    pub async fn disable(
        &self,
        env: &Env,
        id: &DataFlowId,
        wait: Option<WaitOptions>,
    ) -> Result<Activation> {
        let toggle = self.backend.disable_data_flow(env, id).await?;
        self.after_toggle(env, toggle, wait).await
    }

    async fn after_toggle(
        &self,
        env: &Env,
        toggle: Toggle,
        wait: Option<WaitOptions>,
    ) -> Result<Activation> {
        let waited = match (&toggle, wait) {
            (Toggle::Started { operation }, Some(w)) => {
                Some(self.follow_operation(env, operation, &w).await?)
            }
            _ => None,
        };
        Ok(Activation { toggle, waited })
    }

    /// Waits for an operation that was just returned, unless it is already terminal.
    async fn follow_operation(
        &self,
        env: &Env,
        op: &Operation,
        wait: &WaitOptions,
    ) -> Result<Waited<Operation>> {
        if op.status.is_terminal() {
            return Ok(Waited::Finished(op.clone()));
        }
        let id = OperationId::parse(&op.operation_id).map_err(|_| Error::Decode {
            path: "operation_id".to_owned(),
            message: format!("{} is not an operation id", quote(&op.operation_id)),
        })?;
        self.wait_for_operation(env, &id, wait.clone()).await
    }

    /// Polls an operation until `D` or `E`.
    pub async fn wait_for_operation(
        &self,
        env: &Env,
        op: &OperationId,
        wait: WaitOptions,
    ) -> Result<Waited<Operation>> {
        let policy = wait.policy.as_ref().unwrap_or(&self.config.poll);
        poll(
            policy,
            &wait.cancel,
            wait.progress.as_ref(),
            || self.backend.get_operation(env, op),
            |o: &Operation| o.status.is_terminal(),
            |o: &Operation| o.status.describe().to_owned(),
        )
        .await
    }
}

/// The flat parameters of the MCP `create_data_flow` tool.
#[derive(Clone, Debug, PartialEq)]
pub struct NewDataFlow {
    /// Display name.
    pub name: String,
    /// Source connector type (`properties.source.name`).
    pub source_name: String,
    /// Source connection.
    pub source_connection_id: ConnectionId,
    /// Target connector type (`properties.target.name`).
    pub target_name: String,
    /// Target connection.
    pub target_connection_id: ConnectionId,
    /// `append` (default), `merge`, `overwrite`, or `replace` (= `overwrite`).
    pub loading_method: Option<String>,
    /// Merged into `properties.target` (database_name, schema_name, table_name, ...).
    pub target_settings: Option<Map<String, Value>>,
    /// `metadata.description`.
    pub description: Option<String>,
}

/// Builds the write body of [`Service::create_source_to_target`] (`docs/upstream-api.md` 4.5.1).
pub fn source_to_target_body(spec: &NewDataFlow) -> Result<Document> {
    let name = spec.name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", "the data flow needs a name"));
    }
    let source = spec.source_name.trim();
    if source.is_empty() {
        return Err(Error::invalid(
            "source_name",
            "give the source connector type, as the connections list shows it (e.g. mysql)",
        ));
    }
    let lowered = source.to_ascii_lowercase().replace(' ', "_");
    if lowered == "blueprint" || lowered == "blueprint_custom" {
        return Err(Error::invalid(
            "source_name",
            "blueprint / blueprint_custom (recipe) sources are not supported here: create those flows in the Boomi Data Integration console",
        ));
    }
    let target_name = spec.target_name.trim();
    if target_name.is_empty() {
        return Err(Error::invalid(
            "target_name",
            "give the target connector type, as the connections list shows it (e.g. snowflake)",
        ));
    }
    let mut target = Value::Object(Map::new());
    if let Some(settings) = &spec.target_settings {
        merge_patch(&mut target, &Value::Object(settings.clone()));
    }
    let from_settings = target
        .get("loading_method")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let loading = match (&spec.loading_method, from_settings) {
        (Some(m), _) => normalize_loading_method(m)?,
        (None, Some(m)) => normalize_loading_method(&m)?,
        (None, None) => "append",
    };
    if let Value::Object(t) = &mut target {
        t.insert("name".to_owned(), json!(target_name));
        t.insert(
            "connection_id".to_owned(),
            json!(spec.target_connection_id.as_str()),
        );
        t.insert("loading_method".to_owned(), json!(loading));
    }
    let mut metadata = Map::new();
    if let Some(d) = spec
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        metadata.insert("description".to_owned(), json!(d));
    }
    let body = json!({
        "name": name,
        "type": "source_to_target",
        "kind": "main_river",
        "metadata": metadata,
        "settings": {},
        "properties": {
            "properties_type": "source_to_target",
            "source": {
                "name": source,
                "connection_id": spec.source_connection_id.as_str(),
                "run_type": "multi_tables",
            },
            "target": target,
            "schemas": [],
        },
    });
    let Value::Object(mut body) = body else {
        return Err(Error::invalid("body", "the body must be a JSON object"));
    };
    prepare_data_flow_write(&mut body);
    Ok(body)
}

/// `append`, `merge`, `overwrite`, or `replace` (which becomes `overwrite`), any case.
pub fn normalize_loading_method(m: &str) -> Result<&'static str> {
    match m.trim().to_ascii_lowercase().as_str() {
        "append" => Ok("append"),
        "merge" => Ok("merge"),
        "overwrite" | "replace" => Ok("overwrite"),
        _ => Err(Error::invalid(
            "loading_method",
            format!(
                "{} is not a loading method: use one of {}",
                quote(m),
                LOADING_METHODS.join(", ")
            ),
        )),
    }
}
