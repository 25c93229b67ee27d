//! The history tools: the account's run history as a dataset an agent queries with SQL, so one
//! query answers what would take dozens of API calls (`crate::history` holds the dataset).

use std::collections::BTreeMap;

use bdi_load::history::{HistoryOptions, parse_since};

use super::*;
use crate::history::Synced;

/// The look-back of a sync: runs that started this long before the last one loaded are read
/// again, so those that were still running get their end.
const LOOKBACK: Duration = Duration::from_secs(2 * 86_400);

#[tool_router(router = history_router, vis = "pub(super)")]
impl BdiMcp {
    #[tool(description = d::SYNC_HISTORY, annotations(title = "Sync run history", read_only_hint = false, destructive_hint = false, idempotent_hint = true))]
    async fn sync_history(
        &self,
        Parameters(a): Parameters<SyncHistoryArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<SyncHistoryResult>, String> {
        let svc = self.svc()?;
        let now = chrono::Utc::now();
        let since = parse_since(a.since.as_deref().unwrap_or("14d"), now)
            .map_err(|e| crate::errors::tool_error(&Error::invalid("since", e.to_string())))?;
        let environments = match env_of(a.environment_id)? {
            Env::Id(id) => vec![id],
            Env::Default => Vec::new(),
        };
        let bridge = ProgressBridge::new(&ctx);
        // The budget of every wait; the options hold a clone of the progress callback, which
        // must not outlive the call (finishing the bridge waits for every clone to go).
        let budget = self
            .wait_options(&ctx, &bridge, a.wait_timeout_seconds)
            .policy
            .map_or(self.options.wait_without_progress, |p| p.deadline);
        let history = &self.options.history;
        let outcome = history
            .sync(
                svc,
                HistoryOptions {
                    since,
                    now,
                    environments,
                },
                LOOKBACK,
                bridge.callback.clone(),
                ctx.ct.clone(),
                budget,
            )
            .await;
        bridge.finish().await;
        let destination = history.describe();
        let skipped_of = |s: &[bdi_load::history::Skipped]| -> BTreeMap<String, String> {
            s.iter()
                .map(|s| (s.resource.to_string(), s.scope.to_string()))
                .collect()
        };
        Ok(Json(match outcome? {
            Synced::Done { report, skipped } => {
                let mut message = format!(
                    "synced {} rows in {:.1} s; ask with query_history",
                    report.total_rows(),
                    report.seconds
                );
                if !skipped.is_empty() {
                    message.push_str(&format!(
                        "; skipped for missing scopes: {}",
                        skipped
                            .iter()
                            .map(|s| format!("{} ({})", s.resource, s.scope))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                SyncHistoryResult {
                    done: true,
                    message,
                    destination,
                    load_id: Some(report.load_id.clone()),
                    seconds: Some(report.seconds),
                    resources: report
                        .resources
                        .iter()
                        .map(|r| (r.name.clone(), r.rows))
                        .collect(),
                    skipped: skipped_of(&skipped),
                }
            }
            Synced::StillRunning { waited, skipped } => SyncHistoryResult {
                done: false,
                message: format!(
                    "the sync is still loading after {} s and goes on in the server; call describe_history in a minute to see its load (queries wait for it)",
                    waited.as_secs()
                ),
                destination,
                load_id: None,
                seconds: None,
                resources: BTreeMap::new(),
                skipped: skipped_of(&skipped),
            },
        }))
    }

    #[tool(description = d::QUERY_HISTORY, annotations(title = "Query run history", read_only_hint = true, open_world_hint = false))]
    async fn query_history(
        &self,
        Parameters(a): Parameters<QueryHistoryArgs>,
    ) -> Result<Json<QueryHistoryResult>, String> {
        let r = self.options.history.query(&a.sql).await?;
        Ok(Json(QueryHistoryResult {
            row_count: r.rows.len(),
            columns: r.columns,
            rows: r.rows,
            truncated: r.truncated.map(|reason| Truncated {
                reason,
                next: "narrow the query: WHERE, GROUP BY, fewer columns, or LIMIT and OFFSET"
                    .to_owned(),
                ..Truncated::default()
            }),
        }))
    }

    #[tool(description = d::DESCRIBE_HISTORY, annotations(title = "Describe run history", read_only_hint = true, open_world_hint = false))]
    async fn describe_history(
        &self,
        Parameters(_): Parameters<DescribeHistoryArgs>,
    ) -> Result<Json<crate::history::Described>, String> {
        self.options.history.describe_dataset().await.map(Json)
    }
}
