//! The run history of Boomi Data Integration as a source: what an account's data flows did,
//! read through the domain's [`Service`] (so the sandbox, the mock and the client's retries and
//! 429 handling come with it), reads only, at most [`CONCURRENCY`] requests at once.
//!
//! | resource | read from | written | key | incremental |
//! |---|---|---|---|---|
//! | `environments` | the account's environments | replace | `cross_id` | |
//! | `data_flows` | each environment's data flows | merge | `environment_id`, `river_cross_id` | |
//! | `connections` | each environment's connections (the API never returns their secrets) | replace | `environment_id`, `cross_id` | |
//! | `runs` | each data flow's runs started in the window | merge | `run_id` | `start_date_utc`, look-back |
//! | `run_groups` | each data flow's run groups, with their counts per status | merge | `run_group_id` | `run_date_utc`, look-back |
//! | `activities` | per environment, UTC day and data flow: runs, RPU, statuses | merge | `environment_id`, `day`, `river_cross_id` | `window_start`, look-back |
//! | `activities_statistics` | per environment and UTC day: runs, RPU, statuses | merge | `environment_id`, `day` | `window_start`, look-back |
//!
//! Each resource is a [`HistoryResource`], with its spec and the [`Scope`] its reads need;
//! [`HistorySource::plan`] checks the token's scopes before a load and leaves out what it may not
//! read. Every listing is read with the domain's [`sweep`]: one that does not end within
//! [`MAX_PAGES`] pages is an error, never a silent truncation.
//!
//! A run's status changes after it starts, so the incremental resources read again a look-back
//! span before their last value and merge: a run first loaded `running` ends up `succeeded` or
//! `failed` on a later load, once. A first load starts at `since` (14 days by default, the logs'
//! retention).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bdi_domain::models::{ActivityQuery, DataFlowQuery, PageQuery, RunQuery, Timestamp};
use bdi_domain::paging::sweep;
use bdi_domain::{Env, EnvironmentId, Error, RunId, Scope, Service};
use chrono::{DateTime, TimeDelta, Utc};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio::sync::OnceCell;

use crate::normalize::Scrub;
use crate::schema::WriteDisposition;
use crate::source::{Incremental, Page, Resource, Source, SourceError};

/// The pipeline's default name.
pub const PIPELINE: &str = "data_integration_pipeline";
/// The dataset's default name.
pub const DATASET: &str = "data_integration";
/// The schema name recorded with each load.
pub const SCHEMA_NAME: &str = "data_integration";

/// Requests in flight at once, at most: the platform's limits are per account.
pub const CONCURRENCY: usize = 4;
/// The runs endpoint caps its window (the size is unknown; the contract says keep to 30 days).
const RUNS_WINDOW_DAYS: i64 = 30;
/// Items per page asked of paged listings.
const PAGE_SIZE: u32 = 200;
/// Pages read of one listing, at most: a listing that has not ended by then is an error
/// ([`Error::PagingCap`]), neither a hang nor a silent truncation.
pub const MAX_PAGES: u32 = 2_000;

/// Field names that would hold credentials: never written, whatever the API returns.
pub const SECRET_FIELDS: &[&str] = &[
    "password",
    "secret",
    "token",
    "access_token",
    "refresh_token",
    "api_key",
    "apiKey",
    "private_key",
    "client_secret",
    "secret_key",
    "aws_secret_access_key",
    "connection_string",
];

/// A resource of the history: what it reads, how it is written, and the scope its reads need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryResource {
    /// The account's environments.
    Environments,
    /// Each environment's data flows.
    DataFlows,
    /// Each environment's connections (the API never returns their secrets).
    Connections,
    /// Each data flow's runs started in the window.
    Runs,
    /// Each data flow's run groups, with their counts per status.
    RunGroups,
    /// Per environment, UTC day and data flow: runs, RPU, statuses.
    Activities,
    /// Per environment and UTC day: runs, RPU, statuses.
    ActivitiesStatistics,
}

impl HistoryResource {
    /// Every resource, in load order.
    pub const ALL: [Self; 7] = [
        Self::Environments,
        Self::DataFlows,
        Self::Connections,
        Self::Runs,
        Self::RunGroups,
        Self::Activities,
        Self::ActivitiesStatistics,
    ];

    /// Its name: the table it is written to.
    pub fn name(self) -> &'static str {
        match self {
            Self::Environments => "environments",
            Self::DataFlows => "data_flows",
            Self::Connections => "connections",
            Self::Runs => "runs",
            Self::RunGroups => "run_groups",
            Self::Activities => "activities",
            Self::ActivitiesStatistics => "activities_statistics",
        }
    }

    /// The resource named `name` exactly, if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The resources a caller names (blank names ignored), in load order, each once; every
    /// resource when `names` is empty.
    ///
    /// # Errors
    ///
    /// [`UnknownResources`] with every name that is not a resource, or none at all when `names`
    /// holds only blanks.
    pub fn select<S: AsRef<str>>(names: &[S]) -> Result<Vec<Self>, UnknownResources> {
        let given: Vec<&str> = names
            .iter()
            .map(|n| n.as_ref().trim())
            .filter(|n| !n.is_empty())
            .collect();
        let unknown: Vec<String> = given
            .iter()
            .filter(|n| Self::parse(n).is_none())
            .map(|n| (*n).to_owned())
            .collect();
        if !unknown.is_empty() || (given.is_empty() && !names.is_empty()) {
            return Err(UnknownResources { names: unknown });
        }
        Ok(Self::ALL
            .into_iter()
            .filter(|r| given.is_empty() || given.contains(&r.name()))
            .collect())
    }

    /// The scope its reads need (`docs/upstream-api.md` 2.1 and 4.0).
    pub fn scope(self) -> Scope {
        match self {
            Self::Environments => Scope::EnvironmentList,
            Self::DataFlows => Scope::DataFlowList,
            Self::Connections => Scope::ConnectionList,
            Self::Runs | Self::RunGroups | Self::Activities | Self::ActivitiesStatistics => {
                Scope::ActivityList
            }
        }
    }

    /// Whether it is read per data flow, so that it cannot be read without the data flows.
    pub fn per_data_flow(self) -> bool {
        matches!(self, Self::Runs | Self::RunGroups)
    }

    /// Its spec for the loader: write disposition, primary key and cursor; `lookback` is how far
    /// before their last value the incremental resources read again.
    pub fn spec(self, lookback: Duration) -> Resource {
        let incremental = |cursor: &str, id: &str| {
            Some(Incremental {
                cursor_field: cursor.to_owned(),
                id_field: id.to_owned(),
                lookback: Some(lookback),
            })
        };
        let (write_disposition, key, incremental): (_, &[&str], _) = match self {
            Self::Environments => (WriteDisposition::Replace, &["cross_id"], None),
            Self::DataFlows => (
                WriteDisposition::Merge,
                &["environment_id", "river_cross_id"],
                None,
            ),
            Self::Connections => (
                WriteDisposition::Replace,
                &["environment_id", "cross_id"],
                None,
            ),
            Self::Runs => (
                WriteDisposition::Merge,
                &["run_id"],
                incremental("start_date_utc", "run_id"),
            ),
            Self::RunGroups => (
                WriteDisposition::Merge,
                &["run_group_id"],
                incremental("run_date_utc", "run_group_id"),
            ),
            Self::Activities => (
                WriteDisposition::Merge,
                &["environment_id", "day", "river_cross_id"],
                incremental("window_start", "day"),
            ),
            Self::ActivitiesStatistics => (
                WriteDisposition::Merge,
                &["environment_id", "day"],
                incremental("window_start", "day"),
            ),
        };
        Resource {
            name: self.name().to_owned(),
            write_disposition,
            primary_key: key.iter().map(|k| (*k).to_owned()).collect(),
            incremental,
        }
    }

    /// Every resource's name, in load order, separated by `, `.
    pub fn names() -> String {
        Self::ALL.map(Self::name).join(", ")
    }
}

impl std::fmt::Display for HistoryResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Names that are not history resources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownResources {
    /// The names, as given (trimmed); empty when only blanks were given.
    pub names: Vec<String>,
}

impl std::fmt::Display for UnknownResources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.names.is_empty() {
            write!(f, "no resource named")?;
        } else {
            write!(f, "unknown resource(s): {}", self.quoted().join(", "))?;
        }
        write!(f, ": the resources are {}", HistoryResource::names())
    }
}

impl std::error::Error for UnknownResources {}

impl UnknownResources {
    /// The names as error messages quote them: between backticks, cut when long.
    pub fn quoted(&self) -> Vec<String> {
        self.names
            .iter()
            .map(|n| bdi_domain::error::quote(n))
            .collect()
    }
}

/// A duration as people write it: `30d`, `12h`, `90m`, `2w` (a bare number is days).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().ok()?;
    let seconds = match unit.trim() {
        "" | "d" | "day" | "days" => 86_400,
        "h" | "hour" | "hours" => 3_600,
        "m" | "min" | "minutes" => 60,
        "w" | "week" | "weeks" => 7 * 86_400,
        _ => return None,
    };
    n.checked_mul(seconds).map(Duration::from_secs)
}

/// A start that cannot be read, with how to write one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SinceError(pub String);

/// Where a first load starts: a duration back from `now` (`30d`) or a date or time (UTC).
pub fn parse_since(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, SinceError> {
    if let Some(d) = parse_duration(s) {
        let d = TimeDelta::from_std(d)
            .ok()
            .and_then(|d| now.checked_sub_signed(d))
            .ok_or_else(|| SinceError(format!("{s:?} is too long ago")))?;
        return Ok(d);
    }
    let t = Timestamp::parse(s).map_err(|_| {
        SinceError(format!(
            "{} is neither a duration nor a date: write 30d, 12h, 2w, or 2026-11-01",
            bdi_domain::error::quote(s)
        ))
    })?;
    if t.0 >= now {
        return Err(SinceError(format!(
            "{} is in the future: give a time before now",
            t.to_query()
        )));
    }
    Ok(t.0)
}

/// A resource a load left out because the token may not read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The resource.
    pub resource: HistoryResource,
    /// The scope it needs.
    pub scope: Scope,
    /// What the platform said.
    pub message: String,
}

/// What a load of the history reads, once the token's scopes are checked
/// ([`HistorySource::plan`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The resources to load, in load order.
    pub resources: Vec<HistoryResource>,
    /// Those left out because the token may not read them.
    pub skipped: Vec<Skipped>,
}

impl Plan {
    /// The loader's specs of the resources to load; `lookback` as in [`HistoryResource::spec`].
    pub fn specs(&self, lookback: Duration) -> Vec<Resource> {
        self.resources.iter().map(|r| r.spec(lookback)).collect()
    }
}

/// Why a load of the history cannot go ahead.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A check of the token's scopes failed for another reason than a missing scope.
    #[error(transparent)]
    Check(#[from] Error),
    /// The token may read none of the resources asked for.
    #[error(
        "the token may read none of the history's resources: it needs the scopes {}",
        self.scopes_needed().iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
    )]
    NothingReadable {
        /// Every resource asked for, with the scope it needs.
        skipped: Vec<Skipped>,
    },
}

impl PlanError {
    /// The scopes the token lacks, each once, in the order the resources need them; empty for
    /// [`PlanError::Check`].
    pub fn scopes_needed(&self) -> Vec<Scope> {
        let mut scopes = Vec::new();
        if let Self::NothingReadable { skipped } = self {
            for s in skipped {
                if !scopes.contains(&s.scope) {
                    scopes.push(s.scope);
                }
            }
        }
        scopes
    }
}

/// How the history is read.
#[derive(Clone, Debug)]
pub struct HistoryOptions {
    /// Where a first load starts.
    pub since: DateTime<Utc>,
    /// The end of every window: now (a parameter, so tests fix it).
    pub now: DateTime<Utc>,
    /// The environments to read; empty reads every environment of the account (or the
    /// configured one when the token may not list them).
    pub environments: Vec<EnvironmentId>,
}

/// One environment being read.
#[derive(Clone, Debug)]
struct EnvRef {
    env: Env,
    id: String,
}

/// A data flow of an environment.
#[derive(Clone, Debug)]
struct FlowRef {
    env: EnvRef,
    id: bdi_domain::DataFlowId,
}

/// Every environment's data flows, as listed.
type Flows = Arc<Vec<(EnvRef, Vec<Value>)>>;
/// A UTC day, `[start, end)`.
type Day = (DateTime<Utc>, DateTime<Utc>);

/// The run history of the account behind a [`Service`].
pub struct HistorySource {
    service: Service,
    options: HistoryOptions,
    environments: OnceCell<Arc<Vec<EnvRef>>>,
    flows: OnceCell<Flows>,
    /// Every request of a load takes one: at most [`CONCURRENCY`] in flight, however the
    /// resources nest (data flows, then their run groups).
    permits: tokio::sync::Semaphore,
}

impl std::fmt::Debug for HistorySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HistorySource")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn raw(mut v: Value, extra: &[(&str, Value)]) -> Result<Box<RawValue>, Error> {
    if let Value::Object(m) = &mut v {
        for (k, x) in extra {
            m.insert((*k).to_owned(), x.clone());
        }
    }
    RawValue::from_string(v.to_string()).map_err(|e| Error::Decode {
        path: "$".to_owned(),
        message: e.to_string(),
    })
}

fn to_json<T: Serialize>(item: &T) -> Result<Value, Error> {
    serde_json::to_value(item).map_err(|e| Error::Decode {
        path: "$".to_owned(),
        message: e.to_string(),
    })
}

fn ts(t: DateTime<Utc>) -> Timestamp {
    Timestamp(t)
}

fn day_start(t: DateTime<Utc>) -> DateTime<Utc> {
    t.date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(t, |n| n.and_utc())
}

fn fmt_z(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl HistorySource {
    /// The history behind `service`, read as `options` say.
    pub fn new(service: Service, mut options: HistoryOptions) -> Self {
        // The API takes whole seconds: round the end up, so that a run started this second is
        // inside the window.
        let whole = options.now.timestamp();
        let frac = options.now.timestamp_subsec_nanos();
        if frac > 0
            && let Some(up) = DateTime::<Utc>::from_timestamp(whole + 1, 0)
        {
            options.now = up;
        }
        Self {
            service,
            options,
            environments: OnceCell::new(),
            flows: OnceCell::new(),
            permits: tokio::sync::Semaphore::new(CONCURRENCY),
        }
    }

    /// Runs one request (or one sweep that pages one request at a time) under a permit.
    async fn limited<T>(&self, request: impl std::future::Future<Output = T>) -> T {
        // The semaphore is never closed, so acquiring only waits.
        let _permit = self.permits.acquire().await.ok();
        request.await
    }

    /// Where a window starts: the cursor's start (already moved back by the look-back), else
    /// `since`.
    fn start(&self, start: Option<&str>) -> DateTime<Utc> {
        start
            .and_then(|s| Timestamp::parse(s).ok())
            .map_or(self.options.since, |t| t.0)
            .min(self.options.now)
    }

    async fn environments(&self) -> Result<Arc<Vec<EnvRef>>, Error> {
        self.environments
            .get_or_try_init(|| async {
                if !self.options.environments.is_empty() {
                    return Ok(Arc::new(
                        self.options
                            .environments
                            .iter()
                            .map(|id| EnvRef {
                                env: Env::Id(id.clone()),
                                id: id.to_string(),
                            })
                            .collect(),
                    ));
                }
                match self.limited(self.service.list_all_environments(false)).await {
                    Ok(all) => Ok(Arc::new(
                        all.into_iter()
                            .filter_map(|e| {
                                let id = EnvironmentId::parse(&e.cross_id).ok()?;
                                Some(EnvRef {
                                    id: id.to_string(),
                                    env: Env::Id(id),
                                })
                            })
                            .collect(),
                    )),
                    Err(Error::Forbidden { .. }) => {
                        let id = self.service.backend().default_environment().ok_or_else(|| {
                            Error::invalid(
                                "environment",
                                "the token may not list environments (scope environment:list) and no environment is configured: configure one (DATA_INTEGRATION_ENVIRONMENT_ID), or give the token the scope environment:list",
                            )
                        })?;
                        Ok(Arc::new(vec![EnvRef {
                            id: id.to_string(),
                            env: Env::Id(id),
                        }]))
                    }
                    Err(e) => Err(e),
                }
            })
            .await
            .cloned()
    }

    /// Every data flow of every environment, listed once per load (runs and run groups use it).
    async fn flows(&self) -> Result<Flows, Error> {
        self.flows
            .get_or_try_init(|| async {
                let envs = self.environments().await?;
                let mut out = Vec::new();
                for env in envs.iter() {
                    let flows = sweep(PAGE_SIZE, MAX_PAGES, |page| async move {
                        let query = DataFlowQuery {
                            page,
                            ..DataFlowQuery::default()
                        };
                        self.limited(self.service.backend().list_data_flows(&env.env, &query))
                            .await
                    })
                    .await?;
                    let items = flows.iter().map(to_json).collect::<Result<_, _>>()?;
                    out.push((env.clone(), items));
                }
                Ok(Arc::new(out))
            })
            .await
            .cloned()
    }

    async fn flow_refs(&self) -> Result<Vec<FlowRef>, Error> {
        let flows = self.flows().await?;
        Ok(flows
            .iter()
            .flat_map(|(env, items)| {
                items.iter().filter_map(move |f| {
                    let id = f.get("river_cross_id")?.as_str()?;
                    Some(FlowRef {
                        env: env.clone(),
                        id: bdi_domain::DataFlowId::parse(id).ok()?,
                    })
                })
            })
            .collect())
    }

    /// Plans a load of `wanted`: checks, with one small read per scope, which of them the token
    /// may read, and leaves out those it may not (their tables keep what they hold), each with
    /// the scope it needs. Runs and run groups are read per data flow, so without the data flows
    /// they are left out too.
    ///
    /// # Errors
    ///
    /// [`PlanError::NothingReadable`] when none of `wanted` is left, with the scopes it needs;
    /// [`PlanError::Check`] when a check fails otherwise (the network, the platform).
    pub async fn plan(&self, wanted: &[HistoryResource]) -> Result<Plan, PlanError> {
        let skipped = self.check_access(wanted).await?;
        let resources: Vec<HistoryResource> = wanted
            .iter()
            .copied()
            .filter(|r| !skipped.iter().any(|s| s.resource == *r))
            .collect();
        if resources.is_empty() && !wanted.is_empty() {
            return Err(PlanError::NothingReadable { skipped });
        }
        Ok(Plan { resources, skipped })
    }

    /// The resources of `wanted` the token may not read, each with the scope it needs.
    async fn check_access(&self, wanted: &[HistoryResource]) -> Result<Vec<Skipped>, Error> {
        let mut skipped = Vec::new();
        let envs = self.environments().await?;
        let Some(first) = envs.first() else {
            return Ok(skipped);
        };
        let day = ts(self.options.now - TimeDelta::days(1));
        let now = ts(self.options.now);
        let mut checks: BTreeMap<Scope, Result<(), Error>> = BTreeMap::new();
        let mut failure = None;
        // The resources read to check a scope: the first one that needs it; and the data flows
        // for the resources read per data flow.
        let mut probes: Vec<HistoryResource> = Vec::new();
        for &resource in wanted {
            let needs = [
                Some(resource),
                resource
                    .per_data_flow()
                    .then_some(HistoryResource::DataFlows),
            ];
            for probe in needs.into_iter().flatten() {
                if !probes.iter().any(|p| p.scope() == probe.scope()) {
                    probes.push(probe);
                }
            }
        }
        for resource in probes {
            let scope = resource.scope();
            let backend = self.service.backend();
            let result = match resource {
                HistoryResource::Environments => {
                    if self.options.environments.is_empty() {
                        backend
                            .list_environments(PageQuery::new(1, 1), false)
                            .await
                            .map(drop)
                    } else {
                        Ok(())
                    }
                }
                HistoryResource::DataFlows => backend
                    .list_data_flows(
                        &first.env,
                        &DataFlowQuery {
                            page: PageQuery::new(1, 1),
                            ..DataFlowQuery::default()
                        },
                    )
                    .await
                    .map(drop),
                HistoryResource::Connections => backend
                    .list_connections(&first.env, PageQuery::new(1, 1))
                    .await
                    .map(drop),
                HistoryResource::Runs
                | HistoryResource::RunGroups
                | HistoryResource::Activities
                | HistoryResource::ActivitiesStatistics => backend
                    .activities_statistics(
                        &first.env,
                        &ActivityQuery {
                            start_time: Some(day),
                            end_time: Some(now),
                            ..ActivityQuery::default()
                        },
                    )
                    .await
                    .map(drop),
            };
            match result {
                Err(e @ Error::Forbidden { .. }) => {
                    checks.insert(scope, Err(e));
                }
                Err(e) => {
                    failure.get_or_insert(e);
                }
                Ok(()) => {
                    checks.insert(scope, Ok(()));
                }
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        // Runs and run groups are read per data flow: without the data flows they cannot be.
        let flows_forbidden = matches!(
            checks.get(&Scope::DataFlowList),
            Some(Err(Error::Forbidden { .. }))
        );
        for &resource in wanted {
            let scope = resource.scope();
            match checks.get(&scope) {
                Some(Err(Error::Forbidden { message })) => skipped.push(Skipped {
                    resource,
                    scope,
                    message: message.clone(),
                }),
                _ if flows_forbidden && resource.per_data_flow() => {
                    skipped.push(Skipped {
                        resource,
                        scope: Scope::DataFlowList,
                        message: "runs are read per data flow, and the data flows cannot be listed"
                            .to_owned(),
                    });
                }
                _ => {}
            }
        }
        Ok(skipped)
    }

    fn environments_pages(&self) -> BoxStream<'_, Result<Page, Error>> {
        stream::once(async move {
            let all = self
                .limited(self.service.list_all_environments(false))
                .await?;
            let wanted = &self.options.environments;
            let items = all
                .iter()
                .filter(|e| wanted.is_empty() || wanted.iter().any(|w| w.to_string() == e.cross_id))
                .map(|e| raw(to_json(e)?, &[]))
                .collect::<Result<_, _>>()?;
            Ok(Page {
                items,
                notes: Vec::new(),
            })
        })
        .boxed()
    }

    fn data_flows_pages(&self) -> BoxStream<'_, Result<Page, Error>> {
        stream::once(async move {
            let flows = self.flows().await?;
            let mut items = Vec::new();
            for (env, list) in flows.iter() {
                for f in list {
                    items.push(raw(
                        f.clone(),
                        &[("environment_id", Value::from(env.id.clone()))],
                    )?);
                }
            }
            Ok(Page {
                items,
                notes: Vec::new(),
            })
        })
        .boxed()
    }

    fn connections_pages(&self) -> BoxStream<'_, Result<Page, Error>> {
        stream::once(async move { self.environments().await })
            .flat_map(move |envs| match envs {
                Err(e) => stream::once(async move { Err(e) }).boxed(),
                Ok(envs) => stream::iter((0..envs.len()).map(move |i| envs[i].clone()))
                    .then(move |env| async move {
                        let sweep = self
                            .limited(self.service.list_all_connections(&env.env, 500))
                            .await?;
                        if !sweep.incomplete_pages.is_empty() {
                            return Err(Error::Transport(format!(
                                "the connections of environment {} could not all be read (pages {:?} failed): try again",
                                env.id, sweep.incomplete_pages
                            )));
                        }
                        let items = sweep
                            .items
                            .iter()
                            .map(|c| {
                                raw(to_json(c)?, &[("environment_id", Value::from(env.id.clone()))])
                            })
                            .collect::<Result<_, _>>()?;
                        Ok(Page { items, notes: Vec::new() })
                    })
                    .boxed(),
            })
            .boxed()
    }

    /// The runs of one data flow started in `[start, now]`, in windows of at most 30 days.
    async fn runs_of(&self, flow: FlowRef, start: DateTime<Utc>) -> Result<Page, Error> {
        let mut items = Vec::new();
        let mut from = start;
        while from < self.options.now {
            let to = (from + TimeDelta::days(RUNS_WINDOW_DAYS)).min(self.options.now);
            let flow = &flow;
            let runs = sweep(PAGE_SIZE, MAX_PAGES, |page| async move {
                let query = RunQuery {
                    page,
                    ..RunQuery::window(ts(from), ts(to))
                };
                self.limited(
                    self.service
                        .backend()
                        .list_runs(&flow.env.env, &flow.id, &query),
                )
                .await
            })
            .await?;
            for run in &runs {
                items.push(raw(
                    to_json(run)?,
                    &[("environment_id", Value::from(flow.env.id.clone()))],
                )?);
            }
            from = to;
        }
        Ok(Page {
            items,
            notes: Vec::new(),
        })
    }

    /// The run groups of one data flow in `[start, now]`, each with its counts per status.
    async fn run_groups_of(&self, flow: FlowRef, start: DateTime<Utc>) -> Result<Page, Error> {
        let backend = self.service.backend();
        let listed = &flow;
        let groups = sweep(PAGE_SIZE, MAX_PAGES, |page| async move {
            let query = ActivityQuery {
                start_time: Some(ts(start)),
                end_time: Some(ts(self.options.now)),
                page: Some(page),
                ..ActivityQuery::default()
            };
            self.limited(backend.data_flow_run_groups(&listed.env.env, &listed.id, &query))
                .await
        })
        .await?;
        let details: Vec<Result<Value, Error>> = stream::iter(groups)
            .map(|group| {
                let flow = &flow;
                async move {
                    let id = group
                        .get("run_group_id")
                        .and_then(Value::as_str)
                        .and_then(|id| RunId::parse(id).ok());
                    let Some(id) = id else {
                        return Ok(group);
                    };
                    let detail = self
                        .limited(backend.data_flow_run_group(&flow.env.env, &flow.id, &id))
                        .await?;
                    let mut merged = group;
                    if let (Value::Object(m), Value::Object(d)) = (&mut merged, detail) {
                        for (k, v) in d {
                            m.entry(k).or_insert(v);
                        }
                    }
                    Ok(merged)
                }
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        let mut items = Vec::new();
        for g in details {
            items.push(raw(
                g?,
                &[
                    ("environment_id", Value::from(flow.env.id.clone())),
                    ("river_cross_id", Value::from(flow.id.to_string())),
                ],
            )?);
        }
        Ok(Page {
            items,
            notes: Vec::new(),
        })
    }

    fn per_flow_pages<'a, F, Fut>(
        &'a self,
        start: Option<String>,
        read: F,
    ) -> BoxStream<'a, Result<Page, Error>>
    where
        F: Fn(FlowRef, DateTime<Utc>) -> Fut + Send + Sync + Copy + 'a,
        Fut: std::future::Future<Output = Result<Page, Error>> + Send + 'a,
    {
        let start = self.start(start.as_deref());
        stream::once(async move { self.flow_refs().await })
            .flat_map(move |flows| match flows {
                Err(e) => stream::once(async move { Err(e) }).boxed(),
                Ok(flows) => stream::iter(flows)
                    .map(move |f| read(f, start))
                    .buffered(CONCURRENCY)
                    .boxed(),
            })
            .boxed()
    }

    /// The UTC days from the one holding `start` to today's, each `[day, day + 1)`, the last
    /// cut at now.
    fn days(&self, start: DateTime<Utc>) -> Vec<Day> {
        let mut out = Vec::new();
        let mut day = day_start(start);
        while day < self.options.now {
            let next = day + TimeDelta::days(1);
            out.push((day, next.min(self.options.now)));
            day = next;
        }
        out
    }

    fn daily_pages<'a, F, Fut>(
        &'a self,
        start: Option<String>,
        read: F,
    ) -> BoxStream<'a, Result<Page, Error>>
    where
        F: Fn(EnvRef, DateTime<Utc>, DateTime<Utc>) -> Fut + Send + Sync + Copy + 'a,
        Fut: std::future::Future<Output = Result<Page, Error>> + Send + 'a,
    {
        let days = self.days(self.start(start.as_deref()));
        stream::once(async move { self.environments().await })
            .flat_map(move |envs| match envs {
                Err(e) => stream::once(async move { Err(e) }).boxed(),
                Ok(envs) => {
                    let pairs: Vec<(EnvRef, Day)> = envs
                        .iter()
                        .flat_map(|e| days.iter().map(move |d| (e.clone(), *d)))
                        .collect();
                    stream::iter(pairs)
                        .map(move |(env, (from, to))| read(env, from, to))
                        .buffered(CONCURRENCY)
                        .boxed()
                }
            })
            .boxed()
    }

    fn day_fields(
        env: &EnvRef,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> [(&'static str, Value); 4] {
        [
            ("environment_id", Value::from(env.id.clone())),
            ("day", Value::from(from.date_naive().to_string())),
            ("window_start", Value::from(fmt_z(from))),
            ("window_end", Value::from(fmt_z(to))),
        ]
    }

    async fn statistics_of(
        &self,
        env: EnvRef,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Page, Error> {
        let query = ActivityQuery {
            start_time: Some(ts(from)),
            end_time: Some(ts(to)),
            ..ActivityQuery::default()
        };
        let v = self
            .limited(
                self.service
                    .backend()
                    .activities_statistics(&env.env, &query),
            )
            .await?;
        let v = match v {
            Value::Object(m) => Value::Object(m),
            other => Value::Object(Map::from_iter([("value".to_owned(), other)])),
        };
        Ok(Page {
            items: vec![raw(v, &Self::day_fields(&env, from, to))?],
            notes: Vec::new(),
        })
    }

    async fn activities_of(
        &self,
        env: EnvRef,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Page, Error> {
        let env = &env;
        let listed = sweep(PAGE_SIZE, MAX_PAGES, |page| async move {
            let query = ActivityQuery {
                start_time: Some(ts(from)),
                end_time: Some(ts(to)),
                page: Some(page),
                ..ActivityQuery::default()
            };
            self.limited(self.service.backend().activities(&env.env, &query))
                .await
        })
        .await?;
        let fields = Self::day_fields(env, from, to);
        let items = listed
            .into_iter()
            .map(|item| raw(item, &fields))
            .collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            notes: Vec::new(),
        })
    }
}

impl Source for HistorySource {
    fn schema_name(&self) -> &str {
        SCHEMA_NAME
    }

    fn scrub(&self) -> Scrub {
        Scrub {
            fields: SECRET_FIELDS.iter().map(|s| (*s).to_owned()).collect(),
            ..Scrub::default()
        }
    }

    fn pages<'a>(
        &'a self,
        resource: &'a Resource,
        start: Option<String>,
    ) -> BoxStream<'a, Result<Page, SourceError>> {
        let Some(which) = HistoryResource::parse(&resource.name) else {
            let e = SourceError::UnknownResource {
                name: resource.name.clone(),
                known: HistoryResource::names(),
            };
            return stream::once(async move { Err(e) }).boxed();
        };
        let pages = match which {
            HistoryResource::Environments => self.environments_pages(),
            HistoryResource::DataFlows => self.data_flows_pages(),
            HistoryResource::Connections => self.connections_pages(),
            HistoryResource::Runs => self.per_flow_pages(start, move |f, s| self.runs_of(f, s)),
            HistoryResource::RunGroups => {
                self.per_flow_pages(start, move |f, s| self.run_groups_of(f, s))
            }
            HistoryResource::Activities => {
                self.daily_pages(start, move |e, a, b| self.activities_of(e, a, b))
            }
            HistoryResource::ActivitiesStatistics => {
                self.daily_pages(start, move |e, a, b| self.statistics_of(e, a, b))
            }
        };
        pages.map_err(SourceError::from).boxed()
    }
}
