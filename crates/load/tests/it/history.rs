//! The run history source against the sandbox over loopback HTTP, loaded into DuckDB: every
//! resource lands, a run first loaded while it runs is merged to its end on a later load (once),
//! the numbers agree with the Activities API, and a token without a scope loads the rest and
//! says what it skipped.

use std::sync::Arc;
use std::time::Duration;

use bdi_api_client::{EmbeddedSandbox, HttpBackend};
use bdi_domain::{DataFlowId, Env, Service};
use bdi_load::destination::duckdb::DuckDb;
use bdi_load::history::{self, HistoryOptions, HistoryResource, HistorySource, PlanError};
use bdi_load::query::QueryLimits;
use bdi_load::{LoadOptions, load};
use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};

const LOOKBACK: Duration = Duration::from_secs(2 * 86_400);
const ORDERS: &str = "65c1d2e3f4a5b6c7d8e9f001";

fn service(sandbox: &EmbeddedSandbox) -> Service {
    Service::new(Arc::new(
        HttpBackend::new(sandbox.client_config().unwrap()).unwrap(),
    ))
}

fn source(service: &Service) -> HistorySource {
    let now = Utc::now() + TimeDelta::seconds(5);
    HistorySource::new(
        service.clone(),
        HistoryOptions {
            since: now - TimeDelta::days(14),
            now,
            environments: Vec::new(),
        },
    )
}

fn options(resources: &[HistoryResource]) -> LoadOptions {
    LoadOptions {
        pipeline: history::PIPELINE.to_owned(),
        dataset: history::DATASET.to_owned(),
        resources: resources.iter().map(|r| r.spec(LOOKBACK)).collect(),
        full_refresh: false,
    }
}

fn query(path: &std::path::Path, sql: &str) -> Vec<Vec<Value>> {
    DuckDb::open_read_only(path)
        .unwrap()
        .query(history::DATASET, sql, &QueryLimits::TERMINAL)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_loaded_while_it_runs_is_merged_to_its_end_once() {
    let sandbox = EmbeddedSandbox::start().await.unwrap();
    let service = service(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.duckdb");

    let report = load(
        Arc::new(source(&service)),
        Box::new(DuckDb::open(&path).unwrap()),
        options(&HistoryResource::ALL),
        None,
    )
    .await
    .unwrap();
    for r in HistoryResource::ALL {
        let loaded = report
            .resources
            .iter()
            .find(|x| x.name == r.name())
            .unwrap();
        assert!(loaded.rows > 0, "{r} loaded nothing: {report:?}");
    }
    let seeded = query(&path, "select count(*), count(distinct run_id) from runs");
    assert_eq!(seeded[0][0], seeded[0][1], "one row per run");

    // A new run, loaded while it is pending.
    sandbox.sandbox().control().set_steps(2);
    let flow = DataFlowId::parse(ORDERS).unwrap();
    let backend = service.backend();
    let triggered = backend
        .run_data_flow(&Env::Default, &flow, false)
        .await
        .unwrap();
    let run_id = triggered.runs[0].run_id.clone();
    load(
        Arc::new(source(&service)),
        Box::new(DuckDb::open(&path).unwrap()),
        options(&[HistoryResource::Runs]),
        None,
    )
    .await
    .unwrap();
    let sql = format!("select status, count(*) over () from runs where run_id = '{run_id}'");
    let first = query(&path, &sql);
    assert_eq!(first.len(), 1);
    assert_ne!(first[0][0], json!("succeeded"), "{first:?}");

    // It ends; the next load, inside the look-back, merges its end: still one row.
    for _ in 0..3 {
        let _ = backend
            .get_run(
                &Env::Default,
                &flow,
                &bdi_domain::RunId::parse(&run_id).unwrap(),
            )
            .await
            .unwrap();
    }
    load(
        Arc::new(source(&service)),
        Box::new(DuckDb::open(&path).unwrap()),
        options(&[HistoryResource::Runs]),
        None,
    )
    .await
    .unwrap();
    let after = query(&path, &sql);
    assert_eq!(after.len(), 1, "merged by run_id, never twice: {after:?}");
    assert_eq!(after[0][0], json!("succeeded"));
    let all = query(&path, "select count(*), count(distinct run_id) from runs");
    assert_eq!(all[0][0], all[0][1]);
    assert_eq!(
        all[0][0].as_i64().unwrap(),
        seeded[0][0].as_i64().unwrap() + 3,
        "the new run group's three tables, nothing more"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_numbers_agree_with_the_activities_api() {
    let sandbox = EmbeddedSandbox::start().await.unwrap();
    let service = service(&sandbox);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.duckdb");
    let source = source(&service);
    load(
        Arc::new(source),
        Box::new(DuckDb::open(&path).unwrap()),
        options(&HistoryResource::ALL),
        None,
    )
    .await
    .unwrap();
    // The environment-wide statistics of the whole window, from the API...
    let now = Utc::now() + TimeDelta::seconds(5);
    let start = (now - TimeDelta::days(14))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let stats = service
        .backend()
        .activities_statistics(
            &Env::Default,
            &bdi_domain::models::ActivityQuery {
                start_time: Some(bdi_domain::models::Timestamp(start)),
                end_time: Some(bdi_domain::models::Timestamp(now)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // ... are the sum of the days loaded, and match the runs table.
    let default_env = service.backend().default_environment().unwrap().to_string();
    let days = query(
        &path,
        &format!(
            "select sum(total_runs), sum(failed), round(sum(units), 2) from activities_statistics where environment_id = '{default_env}'"
        ),
    );
    assert_eq!(days[0][0], stats["total_runs"], "{stats}");
    assert_eq!(days[0][1], stats["failed"], "{stats}");
    assert_eq!(days[0][2].as_f64(), stats["units"].as_f64(), "{stats}");
    let runs = query(
        &path,
        &format!(
            "select count(*), count(*) filter (where status = 'failed') from runs where environment_id = '{default_env}'"
        ),
    );
    assert_eq!(runs[0][0], stats["total_runs"]);
    assert_eq!(runs[0][1], stats["failed"]);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_scope_skips_its_resources_and_names_the_scope() {
    use HistoryResource::*;
    use bdi_domain::Scope;

    let sandbox = EmbeddedSandbox::start().await.unwrap();
    let service = service(&sandbox);
    sandbox
        .sandbox()
        .control()
        .fail_next("GET", "/connections", 403, 1);
    let source = source(&service);
    let plan = source.plan(&HistoryResource::ALL).await.unwrap();
    assert_eq!(plan.skipped.len(), 1, "{plan:?}");
    assert_eq!(plan.skipped[0].resource, Connections);
    assert_eq!(plan.skipped[0].scope, Scope::ConnectionList);
    assert_eq!(
        plan.resources,
        [
            Environments,
            DataFlows,
            Runs,
            RunGroups,
            Activities,
            ActivitiesStatistics
        ]
    );
    let specs: Vec<String> = plan.specs(LOOKBACK).into_iter().map(|r| r.name).collect();
    assert_eq!(
        specs,
        [
            "environments",
            "data_flows",
            "runs",
            "run_groups",
            "activities",
            "activities_statistics"
        ]
    );

    sandbox
        .sandbox()
        .control()
        .fail_next("GET", "/activities_statistics", 403, 1);
    let plan = source.plan(&HistoryResource::ALL).await.unwrap();
    let skipped: Vec<HistoryResource> = plan.skipped.iter().map(|s| s.resource).collect();
    assert_eq!(skipped, [Runs, RunGroups, Activities, ActivitiesStatistics]);
    assert!(plan.skipped.iter().all(|s| s.scope == Scope::ActivityList));
    assert_eq!(plan.resources, [Environments, DataFlows, Connections]);

    // Without the data flows, the runs and run groups cannot be read either.
    sandbox
        .sandbox()
        .control()
        .fail_next("GET", "/rivers", 403, 1);
    let plan = source.plan(&[Runs, Activities]).await.unwrap();
    assert_eq!(plan.resources, [Activities]);
    assert_eq!(plan.skipped.len(), 1, "{plan:?}");
    assert_eq!(
        (plan.skipped[0].resource, plan.skipped[0].scope),
        (Runs, Scope::DataFlowList)
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_may_read_none_of_them_is_refused_with_the_scopes_it_needs() {
    use bdi_domain::Scope;

    let sandbox = EmbeddedSandbox::start().await.unwrap();
    let service = service(&sandbox);
    let control = sandbox.sandbox().control();
    control.fail_next("GET", "/connections", 403, 1);
    control.fail_next("GET", "/activities_statistics", 403, 1);
    let wanted = [
        HistoryResource::Connections,
        HistoryResource::Runs,
        HistoryResource::Activities,
    ];
    let err = source(&service).plan(&wanted).await.unwrap_err();
    let PlanError::NothingReadable { skipped } = &err else {
        panic!("{err:?}");
    };
    let left_out: Vec<HistoryResource> = skipped.iter().map(|s| s.resource).collect();
    assert_eq!(left_out, wanted);
    assert_eq!(
        err.scopes_needed(),
        [Scope::ConnectionList, Scope::ActivityList]
    );
    assert_eq!(
        err.to_string(),
        "the token may read none of the history's resources: it needs the scopes connection:list, activity:list"
    );

    // Another failure of a check is the failure, not a skipped resource.
    control.fail_next("GET", "/connections", 401, 1);
    let err = source(&service)
        .plan(&[HistoryResource::Connections])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            PlanError::Check(bdi_domain::Error::Unauthorized { .. })
        ),
        "{err:?}"
    );
    assert!(err.scopes_needed().is_empty());
    sandbox.shutdown().await;
}

#[test]
fn names_select_resources_in_load_order_and_unknown_names_are_quoted() {
    use HistoryResource::*;

    assert_eq!(
        HistoryResource::select::<&str>(&[]).unwrap(),
        HistoryResource::ALL
    );
    assert_eq!(
        HistoryResource::select(&[" runs", "environments ", "runs", ""]).unwrap(),
        [Environments, Runs]
    );
    for r in HistoryResource::ALL {
        assert_eq!(HistoryResource::parse(r.name()), Some(r));
        assert_eq!(r.spec(LOOKBACK).name, r.name());
        assert_eq!(serde_json::to_value(r).unwrap(), json!(r.name()));
    }
    let long = "x".repeat(500);
    let err = HistoryResource::select(&["runs", "jobs", &long]).unwrap_err();
    assert_eq!(err.names, ["jobs".to_owned(), long.clone()]);
    let quoted = err.quoted();
    assert_eq!(quoted[0], "`jobs`");
    assert!(quoted[1].ends_with("(500 characters)"), "{}", quoted[1]);
    assert!(quoted[1].len() < 300, "cut: {}", quoted[1]);
    assert!(
        err.to_string()
            .starts_with("unknown resource(s): `jobs`, `xxx"),
        "{err}"
    );
    // Only blanks name nothing: an error, not every resource.
    let err = HistoryResource::select(&[" ", ""]).unwrap_err();
    assert!(err.names.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_never_has_more_than_four_requests_in_flight() {
    let sandbox = EmbeddedSandbox::start().await.unwrap();
    let service = service(&sandbox);
    let control = sandbox.sandbox().control();
    // Slow answers, so that requests overlap whenever the loader lets them.
    control.set_latency(Duration::from_millis(20));
    control.reset();
    control.set_latency(Duration::from_millis(20));
    let dir = tempfile::tempdir().unwrap();
    load(
        Arc::new(source(&service)),
        Box::new(DuckDb::open(&dir.path().join("h.duckdb")).unwrap()),
        options(&HistoryResource::ALL),
        None,
    )
    .await
    .unwrap();
    let most = control.max_in_flight();
    assert!(most <= history::CONCURRENCY, "{most} requests at once");
    assert!(
        most > 1,
        "positive control: the load does read concurrently ({most})"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_listing_that_never_ends_is_an_error_at_the_cap_not_a_truncated_load() {
    use std::sync::atomic::{AtomicU32, Ordering};

    use bdi_domain::models::Page;
    use bdi_domain::{EnvironmentId, Error, MockBackend};
    use bdi_load::Source;
    use futures::StreamExt;

    // Every page of the activities is full and says another follows, without a total.
    let calls = Arc::new(AtomicU32::new(0));
    let counted = Arc::clone(&calls);
    let mut mock = MockBackend::new();
    mock.expect_activities().returning(move |_, q| {
        counted.fetch_add(1, Ordering::Relaxed);
        let asked = q.page.expect("a paged query");
        let mut page = Page::single(vec![json!({"river_cross_id": ORDERS, "total_runs": 1})]);
        page.page = asked.page;
        page.total_items = 0;
        page.next_page = Some(format!("?page={}", asked.page + 1));
        Ok(page)
    });
    // One environment, one day.
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z")
        .unwrap()
        .to_utc();
    let source = HistorySource::new(
        Service::new(Arc::new(mock)),
        HistoryOptions {
            since: now - TimeDelta::hours(1),
            now,
            environments: vec![EnvironmentId::parse("65a1b2c3d4e5f60718293a4b").unwrap()],
        },
    );
    let resource = HistoryResource::Activities.spec(LOOKBACK);
    let pages: Vec<_> = source.pages(&resource, None).collect().await;
    let errors: Vec<&bdi_load::SourceError> =
        pages.iter().filter_map(|p| p.as_ref().err()).collect();
    assert_eq!(pages.len(), 1, "no page of a listing cut short is loaded");
    assert!(
        matches!(
            errors[..],
            [bdi_load::SourceError::DataIntegration(Error::PagingCap { pages })]
                if *pages == history::MAX_PAGES
        ),
        "{errors:?}"
    );
    assert_eq!(calls.load(Ordering::Relaxed), history::MAX_PAGES);
}
