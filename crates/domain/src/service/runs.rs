//! Runs: trigger under the run limits, with run-trigger safety (an ambiguous failure is
//! reconciled by listing runs, never retried), and the waits.

use super::*;

impl Service {
    /// Triggers a run: a slot of the run limiter first (reserved atomically, or refused at once
    /// with the time to wait), then one POST that is never repeated.
    ///
    /// - With `wait_for_throttle`, a refused caller queues for the flow's next free slot instead,
    ///   within the wait's deadline; the time spent there comes off the wait for the run.
    /// - An upstream 429 gives the slot back, holds the flow back for its `Retry-After` and comes
    ///   back as [`Error::RateLimited`] at once; any other answer that proves no run started (4xx)
    ///   gives the slot back too.
    /// - An ambiguous failure (transport error, 5xx) keeps the slot and is reconciled with
    ///   list_runs; if no new run shows up, the error says the run may or may not have started.
    pub async fn run(&self, env: &Env, id: &DataFlowId, opts: RunOptions) -> Result<RunOutcome> {
        let user = self.config.user_key.as_str();
        let started = Instant::now();
        let budget = opts
            .wait
            .as_ref()
            .and_then(|w| w.policy.as_ref())
            .unwrap_or(&self.config.poll)
            .deadline;
        let reservation = if opts.wait_for_throttle {
            let cancel = opts
                .wait
                .as_ref()
                .map(|w| w.cancel.clone())
                .unwrap_or_default();
            self.gate
                .acquire_waiting(id, user, &cancel, started + budget)
                .await?
        } else {
            self.gate.acquire(id, user).await?
        };
        let limiter = self.gate.limiter();

        let trigger_time = Utc::now();
        let (triggered, reconciled) = match self
            .backend
            .run_data_flow(env, id, opts.run_sub_rivers)
            .await
        {
            Ok(t) => (t, false),
            Err(Error::RateLimited {
                retry_after,
                message,
                ..
            }) => {
                let delay = retry_after.unwrap_or(self.config.limits.default_penalty);
                limiter.release(&reservation).await;
                limiter.penalize(id, user, delay).await;
                return Err(Error::RateLimited {
                    retry_after: Some(delay),
                    limit: Limit::Upstream,
                    message,
                });
            }
            Err(e) if is_ambiguous(&e) => {
                tracing::warn!(data_flow = %id, error = %e, "run trigger failed ambiguously; reconciling with the data flow's runs");
                match self.reconcile_run(env, id, trigger_time).await {
                    Some(t) => (t, true),
                    None => return Err(ambiguous_run_error(e, id, trigger_time)),
                }
            }
            Err(e) => {
                // Refused for a reason of its own (4xx): no run started.
                limiter.release(&reservation).await;
                return Err(e);
            }
        };

        let run_id = first_run_id(&triggered);
        let wait = opts.wait.map(|mut w| {
            if opts.wait_for_throttle {
                let left = budget.saturating_sub(started.elapsed());
                let policy = w.policy.take().unwrap_or_else(|| self.config.poll.clone());
                w.policy = Some(policy.with_deadline(left));
            }
            w
        });
        let waited = match &wait {
            Some(w) => self
                .follow_run(env, id, &triggered, w)
                .await
                .map_err(|e| after_trigger(e, &triggered))?,
            None => None,
        };
        let run = waited.as_ref().and_then(|w| w.latest().cloned());
        Ok(RunOutcome {
            triggered,
            run_id,
            run,
            waited,
            reconciled,
        })
    }

    /// Polls a run (by run id or run group id) until its status is terminal.
    pub async fn wait_for_run(
        &self,
        env: &Env,
        flow: &DataFlowId,
        run: &RunId,
        wait: WaitOptions,
    ) -> Result<Waited<Run>> {
        self.poll_run(env, flow, run.clone(), None, &wait).await
    }

    /// Waits for a triggered run. One run: `runs[0].run_id`, falling back to the group id on
    /// 404. Several runs (one per table): the run group id, as the vendor's get_run does, so the
    /// wait ends when every table's run has ended (and reports a failure of any of them), falling
    /// back to the first run id on 404.
    async fn follow_run(
        &self,
        env: &Env,
        flow: &DataFlowId,
        triggered: &RunTriggered,
        wait: &WaitOptions,
    ) -> Result<Option<Waited<Run>>> {
        let group = RunId::parse(&triggered.run_group_id).ok();
        let first = triggered
            .runs
            .first()
            .and_then(|r| RunId::parse(&r.run_id).ok());
        let (start, fallback) = if triggered.runs.len() > 1 && group.is_some() {
            (group, first)
        } else {
            (first.or_else(|| group.clone()), group)
        };
        match start {
            Some(start) => Ok(Some(self.poll_run(env, flow, start, fallback, wait).await?)),
            None => Ok(None),
        }
    }

    async fn poll_run(
        &self,
        env: &Env,
        flow: &DataFlowId,
        start: RunId,
        fallback: Option<RunId>,
        wait: &WaitOptions,
    ) -> Result<Waited<Run>> {
        let policy = wait.policy.as_ref().unwrap_or(&self.config.poll);
        let current = Arc::new(Mutex::new(start));
        poll(
            policy,
            &wait.cancel,
            wait.progress.as_ref(),
            || {
                let current = current.clone();
                let fallback = fallback.clone();
                async move {
                    let id = current
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .clone();
                    match self.backend.get_run(env, flow, &id).await {
                        Err(Error::NotFound { .. })
                            if fallback.as_ref().is_some_and(|g| *g != id) =>
                        {
                            let group = fallback.expect("checked above");
                            *current
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner) = group.clone();
                            self.backend.get_run(env, flow, &group).await
                        }
                        other => other,
                    }
                }
            },
            |r: &Run| r.status.is_terminal(),
            |r: &Run| r.status.as_str().to_owned(),
        )
        .await
    }

    /// Looks for a run group that started at or after `trigger` (minus clock skew).
    async fn reconcile_run(
        &self,
        env: &Env,
        flow: &DataFlowId,
        trigger: DateTime<Utc>,
    ) -> Option<RunTriggered> {
        let skew = chrono::Duration::from_std(RECONCILE_SKEW).unwrap_or_default();
        let lookback = chrono::Duration::from_std(RECONCILE_LOOKBACK).unwrap_or_default();
        for pause in RECONCILE_PAUSES {
            tokio::time::sleep(pause).await;
            let mut query = RunQuery::window(
                Timestamp(trigger - lookback),
                Timestamp(Utc::now() + chrono::Duration::minutes(1)),
            );
            query.page = PageQuery::new(1, 100);
            query.sort_by = RunSortBy::StartTime;
            query.sort_order = SortOrder::Desc;
            match self.backend.list_runs(env, flow, &query).await {
                Ok(page) => {
                    if let Some(t) = newest_group_since(flow, page.items, trigger - skew) {
                        return Some(t);
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %e, "listing the runs failed while reconciling a run trigger");
                }
            }
        }
        None
    }
}

/// Failures after which a run may or may not have started.
pub(super) fn is_ambiguous(e: &Error) -> bool {
    match e {
        Error::Transport(_) | Error::Timeout(_) => true,
        Error::Upstream { status, .. } => *status >= 500,
        _ => false,
    }
}

fn ambiguous_run_error(e: Error, flow: &DataFlowId, trigger: DateTime<Utc>) -> Error {
    Error::RunUncertain {
        data_flow: flow.to_string(),
        since: Timestamp(trigger - chrono::Duration::minutes(1)).to_query(),
        cause: Box::new(e),
    }
}

/// A wait that failed after a successful trigger must not invite a second trigger.
fn after_trigger(e: Error, t: &RunTriggered) -> Error {
    match e {
        Error::NotFound { what, message } => Error::NotFound {
            what: format!(
                "{what} (the run was triggered, run group {}: do not trigger it again; follow it in the data flow's runs)",
                t.run_group_id
            ),
            message,
        },
        other => other,
    }
}

pub(super) fn first_run_id(t: &RunTriggered) -> Option<String> {
    t.runs
        .first()
        .map(|r| r.run_id.clone())
        .filter(|s| !s.is_empty())
        .or_else(|| Some(t.run_group_id.clone()).filter(|s| !s.is_empty()))
}

/// The earliest run group whose runs started at or after `since` (runs without a start time
/// count when still in progress), as a trigger answer.
pub(super) fn newest_group_since(
    flow: &DataFlowId,
    runs: Vec<Run>,
    since: DateTime<Utc>,
) -> Option<RunTriggered> {
    let mut groups: Vec<(String, DateTime<Utc>, Vec<Run>)> = Vec::new();
    for run in runs {
        if run.run_group_id.is_empty() {
            continue;
        }
        let started = match run.start_date_utc {
            Some(t) if t.0 >= since => t.0,
            Some(_) => continue,
            None if !run.status.is_terminal() => since,
            None => continue,
        };
        match groups.iter_mut().find(|(g, _, _)| *g == run.run_group_id) {
            Some((_, at, members)) => {
                *at = (*at).min(started);
                members.push(run);
            }
            None => groups.push((run.run_group_id.clone(), started, vec![run])),
        }
    }
    let (group, _, members) = groups.into_iter().min_by_key(|(_, at, _)| *at)?;
    Some(RunTriggered {
        runs: members
            .into_iter()
            .map(|r| TriggeredRun {
                run_id: r.run_id,
                status: r.status,
                message: None,
                sub_river_id: r.sub_river_id,
                extra: Map::new(),
            })
            .collect(),
        river_cross_id: flow.to_string(),
        run_group_id: group,
        extra: Map::new(),
    })
}
