//! The dashboard over real datasets: the sandbox's Flow and run history loaded into DuckDB (and
//! the history into PostgreSQL, `BDI_TEST_POSTGRES_URL`), served by the router and read back as
//! a browser would: every chart's marks carry exactly the numbers its SQL returns, on both
//! engines; the overview shows the tables, loads and state and never a password; the SQL box
//! refuses a write and leaves the data as it was; other hosts and other methods are refused.
//! (`cargo xtask browser` drives the same pages in a real headless Chromium.)

#![allow(
    clippy::unwrap_used,
    unreachable_pub,
    reason = "test harness: panics are the failure report"
)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use bdi_api_client::{BoomiFlowClient, EmbeddedSandbox, HttpBackend};
use bdi_dashboard::charts::{Shape, charts};
use bdi_dashboard::{Dashboard, Kind};
use bdi_domain::Service;
use bdi_load::boomi_flow::{BoomiFlowSource, DEFAULT_RESOURCES, resource};
use bdi_load::history::{self, HistoryOptions, HistorySource};
use bdi_load::location::Location;
use bdi_load::query::QueryLimits;
use bdi_load::{LoadOptions, load};
use chrono::{TimeDelta, Utc};
use serde_json::Value;
use tower::ServiceExt;

mod hostile;

const ADDR: &str = "127.0.0.1:4321";
const HOST: &str = "127.0.0.1:4321";

/// Loads the sandbox's Boomi Flow data (`resources`) into `location`.
async fn load_flow(location: &Location, resources: &[&str]) {
    load_flow_into(location, "boomi_flow_data", resources).await;
}

/// Loads the sandbox's Boomi Flow data (`resources`) into `dataset` at `location`.
async fn load_flow_into(location: &Location, dataset: &str, resources: &[&str]) {
    let sandbox = EmbeddedSandbox::start().await.unwrap();
    let client = BoomiFlowClient::new(sandbox.boomi_flow_config().unwrap()).unwrap();
    let location2 = location.clone();
    let dest = tokio::task::spawn_blocking(move || location2.open())
        .await
        .unwrap()
        .unwrap();
    load(
        Arc::new(BoomiFlowSource::new(client)),
        dest,
        LoadOptions {
            pipeline: "boomi_flow_pipeline".to_owned(),
            dataset: dataset.to_owned(),
            resources: resources.iter().map(|r| resource(r).unwrap()).collect(),
            full_refresh: true,
        },
        None,
    )
    .await
    .unwrap();
    sandbox.shutdown().await;
}

/// Loads the sandbox's run history into `dataset` at `location`.
async fn load_history(location: &Location, dataset: &str) {
    let sandbox = EmbeddedSandbox::start().await.unwrap();
    let service = Service::new(Arc::new(
        HttpBackend::new(sandbox.client_config().unwrap()).unwrap(),
    ));
    let now = Utc::now() + TimeDelta::seconds(5);
    let source = HistorySource::new(
        service,
        HistoryOptions {
            since: now - TimeDelta::days(14),
            now,
            environments: Vec::new(),
        },
    );
    let location2 = location.clone();
    let dest = tokio::task::spawn_blocking(move || location2.open())
        .await
        .unwrap()
        .unwrap();
    load(
        Arc::new(source),
        dest,
        LoadOptions {
            pipeline: history::PIPELINE.to_owned(),
            dataset: dataset.to_owned(),
            resources: history::HistoryResource::ALL
                .iter()
                .map(|r| r.spec(Duration::from_secs(2 * 86_400)))
                .collect(),
            full_refresh: true,
        },
        None,
    )
    .await
    .unwrap();
    sandbox.shutdown().await;
}

fn dashboard(location: &Location, dataset: &str, kind: Kind) -> Dashboard {
    Dashboard {
        location: location.clone(),
        dataset: dataset.to_owned(),
        pipeline: match kind {
            Kind::BoomiFlow => "boomi_flow_pipeline".to_owned(),
            Kind::History => history::PIPELINE.to_owned(),
        },
        kind,
    }
}

/// A response's status, headers and body.
struct Page {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

/// `method uri` with `headers`, answered by `router`.
async fn send(router: axum::Router, method: Method, uri: &str, headers: &[(&str, &str)]) -> Page {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let response = router
        .oneshot(builder.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Page {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

async fn request(d: &Dashboard, method: Method, uri: &str, host: &str) -> Page {
    let router = d.clone().router(ADDR.parse::<SocketAddr>().unwrap());
    send(router, method, uri, &[("host", host)]).await
}

async fn get(d: &Dashboard, uri: &str) -> Page {
    request(d, Method::GET, uri, HOST).await
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Undoes maud's escaping of attribute values.
fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in the tag `tag`.
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

/// The marks of chart `id` in a page: (x or label, series, value), as their data attributes say.
fn marks(page: &str, id: &str) -> BTreeSet<(String, String, String)> {
    let open = format!("data-chart=\"{id}\"");
    let start = page.find(&open).unwrap_or_else(|| panic!("no chart {id}"));
    let end = page[start..].find("</svg>").unwrap() + start;
    page[start..end]
        .split("<rect ")
        .skip(1)
        .map(|tag| {
            let tag = format!(" {}", &tag[..tag.find('>').unwrap()]);
            (
                attr(&tag, "data-x")
                    .or_else(|| attr(&tag, "data-label"))
                    .unwrap(),
                attr(&tag, "data-series").unwrap(),
                attr(&tag, "data-value").unwrap(),
            )
        })
        .collect()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The marks chart `id` must have: its SQL run directly on the dataset.
async fn expected(d: &Dashboard, id: &str) -> BTreeSet<(String, String, String)> {
    let chart = charts(d.kind).iter().find(|c| c.id == id).unwrap();
    let (location, dataset) = (d.location.clone(), d.dataset.clone());
    let result = tokio::task::spawn_blocking(move || {
        location
            .open_read_only()
            .unwrap()
            .query(&dataset, chart.sql, &QueryLimits::TERMINAL)
            .unwrap_or_else(|e| panic!("{}: {e}", chart.id))
    })
    .await
    .unwrap();
    assert!(
        !result.rows.is_empty(),
        "{id}: the sandbox's data gives rows"
    );
    match chart.shape {
        Shape::Stacked { .. } => result
            .rows
            .iter()
            .map(|r| (text(&r[0]), text(&r[1]), text(&r[2])))
            .collect(),
        Shape::Bars { series, .. } => result
            .rows
            .iter()
            .flat_map(|r| {
                series.iter().map(|s| {
                    let i = result.columns.iter().position(|c| c == s).unwrap();
                    (text(&r[0]), (*s).to_owned(), text(&r[i]))
                })
            })
            .collect(),
    }
}

/// Every chart of `d` on the charts page has the marks of its SQL.
async fn charts_match_their_sql(d: &Dashboard) -> Vec<BTreeSet<(String, String, String)>> {
    let page = get(d, "/charts").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.body.contains("role=\"alert\""), "{}", page.body);
    let mut all = Vec::new();
    for chart in charts(d.kind) {
        let want = expected(d, chart.id).await;
        let got = marks(&page.body, chart.id);
        assert_eq!(got, want, "chart {}", chart.id);
        // The SQL shown is the SQL run, and the SQL box link carries it.
        assert!(
            page.body
                .contains(&maud::html! { (chart.sql) }.into_string())
        );
        assert!(page.body.contains(&format!("/sql?q={}", encode(chart.sql))));
        all.push(got);
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_charts_on_duckdb_carry_the_numbers_of_their_sql() {
    let dir = tempfile::tempdir().unwrap();
    let location = Location::DuckDb(dir.path().join("history.duckdb"));
    load_history(&location, history::DATASET).await;
    let d = dashboard(&location, history::DATASET, Kind::History);
    let drawn = charts_match_their_sql(&d).await;
    // The sandbox's history: a failed run among succeeded ones, so the failure rate is not 0.
    assert!(
        drawn[0].iter().any(|(_, s, _)| s == "failed"),
        "{:?}",
        drawn[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_charts_on_duckdb_carry_the_numbers_of_their_sql() {
    let dir = tempfile::tempdir().unwrap();
    let location = Location::DuckDb(dir.path().join("flow.duckdb"));
    load_flow(&location, DEFAULT_RESOURCES).await;
    let d = dashboard(&location, "boomi_flow_data", Kind::BoomiFlow);
    let drawn = charts_match_their_sql(&d).await;
    let events: u64 = drawn[0]
        .iter()
        .map(|(_, _, v)| v.parse::<u64>().unwrap())
        .sum();
    assert!(events > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_shows_tables_loads_and_state() {
    let dir = tempfile::tempdir().unwrap();
    let location = Location::DuckDb(dir.path().join("flow.duckdb"));
    load_flow(&location, &["flows", "states", "audit_search"]).await;
    let d = dashboard(&location, "boomi_flow_data", Kind::BoomiFlow);
    let info = d.check().await.unwrap();
    let page = get(&d, "/").await;
    assert_eq!(page.status, StatusCode::OK);
    for t in &info.tables {
        assert!(
            page.body.contains(&format!(
                "<a href=\"/tables/{}\">{}</a></td><td class=\"num\">{}</td>",
                t.name, t.name, t.rows
            )),
            "{} with {} rows: {}",
            t.name,
            t.rows,
            page.body
        );
    }
    // Columns with their types, the load with the rows it wrote, and the cursors.
    assert!(
        page.body.contains(
            "<code>occurred_at</code> <span class=\"type\">TIMESTAMP WITH TIME ZONE</span>"
        )
    );
    let load = &info.loads[0];
    assert!(page.body.contains(&load.load_id));
    let audit = info
        .tables
        .iter()
        .find(|t| t.name == "audit_search")
        .unwrap();
    assert!(
        page.body.contains(&format!("audit_search {}", audit.rows)),
        "rows per load: {}",
        page.body
    );
    // One load wrote every row, child tables' included (counted through their root rows).
    let total: i64 = info.tables.iter().map(|t| t.rows).sum();
    assert!(info.tables.iter().any(|t| t.name.starts_with("flows__")));
    assert!(
        page.body.contains(&format!(
            "<td class=\"num\">{total}</td><td class=\"wrap\">"
        )),
        "{total} rows in the load: {}",
        page.body
    );
    assert!(page.body.contains("<code>occurredAt</code>"));
    let last = info.state.resources["audit_search"]
        .last_value
        .clone()
        .unwrap();
    assert!(page.body.contains(&last));

    // A table's page: its columns and its first rows.
    let table = get(&d, "/tables/flows").await;
    assert_eq!(table.status, StatusCode::OK);
    assert!(table.body.contains("<code>developer_name</code>"));
    assert!(table.body.contains("<th scope=\"col\">developer_name</th>"));
    for missing in ["/tables/nope", "/tables/flows%22%3B", "/nowhere"] {
        let p = get(&d, missing).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{missing}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sql_box_refuses_writes_and_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let location = Location::DuckDb(dir.path().join("flow.duckdb"));
    load_flow(&location, &["flows", "audit_search"]).await;
    let d = dashboard(&location, "boomi_flow_data", Kind::BoomiFlow);
    let before = d.check().await.unwrap().tables;

    for write in [
        "DELETE FROM audit_search",
        "SELECT 1; DROP TABLE flows",
        "WITH x AS (SELECT 1) DELETE FROM flows",
        "COPY flows TO '/tmp/x.csv'",
    ] {
        let page = get(&d, &format!("/sql?q={}", encode(write))).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Refused: "), "{write}: {}", page.body);
        assert!(!page.body.contains("<table class=\"result\">"), "{write}");
        let csv = get(&d, &format!("/sql.csv?q={}", encode(write))).await;
        assert_eq!(csv.status, StatusCode::BAD_REQUEST, "{write}");
        assert!(csv.body.starts_with("refused: "), "{}", csv.body);
    }
    assert_eq!(d.check().await.unwrap().tables, before, "nothing changed");

    // A query: its rows as a table, and the same as CSV.
    let sql = "SELECT type, count(*) AS n FROM audit_search GROUP BY type ORDER BY type";
    let page = get(&d, &format!("/sql?q={}", encode(sql))).await;
    assert!(
        page.body
            .contains("<th scope=\"col\">type</th><th scope=\"col\">n</th>")
    );
    assert!(page.body.contains("Download CSV"));
    let csv = get(&d, &format!("/sql.csv?q={}", encode(sql))).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert!(
        csv.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "type,n");
    let total: u64 = lines[1..]
        .iter()
        .map(|l| l.rsplit(',').next().unwrap().parse::<u64>().unwrap())
        .sum();
    let audit = before.iter().find(|t| t.name == "audit_search").unwrap();
    assert_eq!(total, u64::try_from(audit.rows).unwrap());

    // The download is for a spreadsheet: a text that would run as a formula there is written as
    // text (a leading '), a column name too; numbers stay numbers.
    let hostile = "SELECT '=HYPERLINK(''http://evil.example'')' AS \"@f\", -5 AS n, '-5' AS t";
    let csv = get(&d, &format!("/sql.csv?q={}", encode(hostile))).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert_eq!(
        csv.body,
        "'@f,n,t\n'=HYPERLINK('http://evil.example'),-5,-5\n"
    );

    // A failing query shows the engine's message; an empty one shows the form.
    let bad = get(&d, &format!("/sql?q={}", encode("SELECT nope FROM flows"))).await;
    assert!(bad.body.contains("The query failed: "), "{}", bad.body);
    assert!(bad.body.contains("nope"));
    let empty = get(&d, "/sql").await;
    assert!(empty.body.contains("<textarea"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_hosts_and_methods_are_refused_and_pages_carry_a_strict_policy() {
    let dir = tempfile::tempdir().unwrap();
    let location = Location::DuckDb(dir.path().join("flow.duckdb"));
    load_flow(&location, &["flows"]).await;
    let d = dashboard(&location, "boomi_flow_data", Kind::BoomiFlow);

    // DNS rebinding: a page of evil.example whose name now points at 127.0.0.1.
    for host in ["evil.example:4321", "127.0.0.1:9999", ""] {
        let p = request(&d, Method::GET, "/", host).await;
        assert_eq!(p.status, StatusCode::MISDIRECTED_REQUEST, "{host}");
    }
    for host in ["localhost:4321", "[::1]:4321", "LOCALHOST:4321"] {
        let p = request(&d, Method::GET, "/", host).await;
        assert_eq!(p.status, StatusCode::OK, "{host}");
    }
    // A query another site's page sends is not run; the same from this dashboard's pages is.
    let router = d.clone().router(ADDR.parse::<SocketAddr>().unwrap());
    for (site, status) in [
        ("cross-site", StatusCode::FORBIDDEN),
        ("same-site", StatusCode::FORBIDDEN),
        ("same-origin", StatusCode::OK),
        ("none", StatusCode::OK),
    ] {
        for uri in ["/sql?q=SELECT%201", "/sql.csv?q=SELECT%201"] {
            let headers = [("host", HOST), ("sec-fetch-site", site)];
            let response = send(router.clone(), Method::GET, uri, &headers).await;
            assert_eq!(response.status, status, "{uri} from {site}");
        }
    }
    // A link from elsewhere to the dashboard itself opens it.
    let headers = [("host", HOST), ("sec-fetch-site", "cross-site")];
    let response = send(router.clone(), Method::GET, "/charts", &headers).await;
    assert_eq!(response.status, StatusCode::OK);
    for method in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
        let p = request(&d, method.clone(), "/sql?q=SELECT%201", HOST).await;
        assert_eq!(p.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }
    let p = get(&d, "/").await;
    let csp = p.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"));
    assert_eq!(p.headers["x-frame-options"], "DENY");
    // No script anywhere: the pages work without JavaScript.
    assert!(!p.body.to_lowercase().contains("<script"));
    let css = get(&d, "/assets/style.css").await;
    assert_eq!(css.headers["content-type"], "text/css; charset=utf-8");
    assert_eq!(get(&d, "/favicon.ico").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chart_whose_table_was_not_loaded_says_what_to_load() {
    let dir = tempfile::tempdir().unwrap();
    let location = Location::DuckDb(dir.path().join("flow.duckdb"));
    load_flow(&location, &["flows", "states"]).await;
    let d = dashboard(&location, "boomi_flow_data", Kind::BoomiFlow);
    let page = get(&d, "/charts").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(
            "The dataset has no table audit_search: load it with <code>bdi load flow</code>."
        ),
        "{}",
        page.body
    );
    assert_eq!(
        marks(&page.body, "states_by_flow"),
        expected(&d, "states_by_flow").await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_empty_dataset_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let missing = Location::DuckDb(dir.path().join("none.duckdb"));
    let e = dashboard(&missing, "boomi_flow_data", Kind::BoomiFlow)
        .check()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("does not exist") && e.contains("bdi load"),
        "{e}"
    );

    let location = Location::DuckDb(dir.path().join("flow.duckdb"));
    load_flow(&location, &["flows"]).await;
    let e = dashboard(&location, "data_integration", Kind::History)
        .check()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("has no tables") && e.contains("bdi load history"),
        "{e}"
    );
}

/// The test server's URL; its absence fails the test (a skipped test would pass unseen).
fn postgres_url() -> String {
    std::env::var("BDI_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "BDI_TEST_POSTGRES_URL is not set: this test needs a PostgreSQL server; run it with \
             `cargo xtask with-postgres -- cargo nextest run --workspace -E 'package(bdi-dashboard)'` \
             (cargo xtask ci starts one too)"
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_charts_on_postgres_carry_the_numbers_of_their_sql_and_no_password() {
    let url = postgres_url();
    let location = Location::parse(&url).unwrap();
    let dataset = "t_dashboard_history";
    load_history(&location, dataset).await;
    let d = dashboard(&location, dataset, Kind::History);
    charts_match_their_sql(&d).await;

    // The same SQL gives the same charts on DuckDB (the sandbox's history is the same data,
    // bar the run ids and times of day, which no chart shows).
    let dir = tempfile::tempdir().unwrap();
    let duck = Location::DuckDb(dir.path().join("history.duckdb"));
    load_history(&duck, history::DATASET).await;
    let on_duck = dashboard(&duck, history::DATASET, Kind::History);
    for chart in charts(Kind::History) {
        assert_eq!(
            expected(&d, chart.id).await,
            expected(&on_duck, chart.id).await,
            "{} differs between PostgreSQL and DuckDB",
            chart.id
        );
    }

    let password = url::Url::parse(&url)
        .unwrap()
        .password()
        .map(str::to_owned)
        .expect("the test server's URL has a password");
    for path in [
        "/",
        "/charts",
        "/sql?q=SELECT%201",
        "/tables/runs",
        "/nowhere",
    ] {
        let page = get(&d, path).await;
        assert!(!page.body.contains(&password), "{path} shows the password");
        assert!(page.body.contains(&location.describe()), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_pages_at_once_all_answer_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let location = Location::DuckDb(dir.path().join("history.duckdb"));
    load_history(&location, history::DATASET).await;
    let d = dashboard(&location, history::DATASET, Kind::History);
    let router = d.clone().router(ADDR.parse::<SocketAddr>().unwrap());
    // Four times as many pages as readers, at once, on one router.
    let pages = (0..4 * bdi_dashboard::READERS).map(|i| {
        let router = router.clone();
        let uri = if i % 2 == 0 { "/charts" } else { "/" };
        tokio::spawn(async move {
            let page = send(router, Method::GET, uri, &[("host", HOST)]).await;
            (uri, page.status, page.body)
        })
    });
    let answers = futures_join(pages).await;
    let one = get(&d, "/charts").await.body;
    let overview = get(&d, "/").await.body;
    for (uri, status, body) in answers {
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        let want = if uri == "/charts" { &one } else { &overview };
        assert_eq!(&body, want, "{uri} answers the same at once as alone");
    }
}

/// Awaits every task.
async fn futures_join<T: Send + 'static>(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for t in tasks.collect::<Vec<_>>() {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_charts_on_postgres_carry_the_numbers_of_their_sql_as_on_duckdb() {
    let location = Location::parse(&postgres_url()).unwrap();
    let dataset = "t_dashboard_flow";
    load_flow_into(&location, dataset, DEFAULT_RESOURCES).await;
    let d = dashboard(&location, dataset, Kind::BoomiFlow);
    charts_match_their_sql(&d).await;

    let dir = tempfile::tempdir().unwrap();
    let duck = Location::DuckDb(dir.path().join("flow.duckdb"));
    load_flow(&duck, DEFAULT_RESOURCES).await;
    let on_duck = dashboard(&duck, "boomi_flow_data", Kind::BoomiFlow);
    for chart in charts(Kind::BoomiFlow) {
        assert_eq!(
            expected(&d, chart.id).await,
            expected(&on_duck, chart.id).await,
            "{} differs between PostgreSQL and DuckDB",
            chart.id
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_data_flows_and_flows_are_charted_as_the_largest_and_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.duckdb");
    // 12 data flows with runs over 3 days (flow i uses i units a day), and 25 flows with states.
    let mut sql = String::from(
        "CREATE SCHEMA data_integration;
         CREATE TABLE data_integration.data_flows (environment_id VARCHAR, river_cross_id VARCHAR, name VARCHAR);
         CREATE TABLE data_integration.runs (environment_id VARCHAR, river_cross_id VARCHAR, units DOUBLE, start_date_utc TIMESTAMPTZ);
         CREATE SCHEMA boomi_flow_data;
         CREATE TABLE boomi_flow_data.states (current_flow_developer_name VARCHAR, current_flow_id__id VARCHAR, is_done BOOLEAN, is_expired BOOLEAN);",
    );
    for i in 1..=12 {
        sql.push_str(&format!(
            "INSERT INTO data_integration.data_flows VALUES ('e', 'f{i}', 'flow {i:02}');"
        ));
        for day in 1..=3 {
            sql.push_str(&format!(
                "INSERT INTO data_integration.runs VALUES ('e', 'f{i}', {i}, TIMESTAMPTZ '2026-11-0{day} 10:00:00+00');"
            ));
        }
    }
    for i in 1..=25 {
        for _ in 0..i {
            sql.push_str(&format!(
                "INSERT INTO boomi_flow_data.states VALUES ('flow {i:02}', 'id{i}', true, false);"
            ));
        }
    }
    let db = bdi_load::destination::duckdb::DuckDb::open(&path).unwrap();
    db.connection().execute_batch(&sql).unwrap();
    drop(db);

    let run = |dataset: &str, id: &str| {
        let kind = if dataset == "boomi_flow_data" {
            Kind::BoomiFlow
        } else {
            Kind::History
        };
        let chart = charts(kind).iter().find(|c| c.id == id).unwrap();
        bdi_load::destination::duckdb::DuckDb::open_read_only(&path)
            .unwrap()
            .query(dataset, chart.sql, &QueryLimits::TERMINAL)
            .unwrap()
            .rows
    };
    let rpu = run("data_integration", "rpu_per_flow_day");
    let series: BTreeSet<String> = rpu.iter().map(|r| text(&r[1])).collect();
    assert_eq!(
        series.len(),
        10,
        "nine data flows and the others: {series:?}"
    );
    assert!(
        series.contains("flow 12") && series.contains("flow 04") && !series.contains("flow 03")
    );
    for day in ["2026-11-01", "2026-11-02", "2026-11-03"] {
        let of_day = |name: &str| {
            rpu.iter()
                .find(|r| text(&r[0]) == day && text(&r[1]) == name)
                .map(|r| r[2].as_f64().unwrap())
        };
        // Flows 1 to 3 together: 1 + 2 + 3 units.
        assert_eq!(of_day("(other data flows)"), Some(6.0), "{day}");
        let total: f64 = rpu
            .iter()
            .filter(|r| text(&r[0]) == day)
            .map(|r| r[2].as_f64().unwrap())
            .sum();
        assert!(
            (total - 78.0).abs() < 1e-9,
            "{day}: every unit is charted ({total})"
        );
    }

    let states = run("boomi_flow_data", "states_by_flow");
    let flows: BTreeSet<String> = states.iter().map(|r| text(&r[0])).collect();
    assert_eq!(flows.len(), 20);
    assert!(flows.contains("flow 25") && flows.contains("flow 06") && !flows.contains("flow 05"));
}

/// Makes this test binary a worker for the SQL surfaces' queries (`bdi_load::sql_worker`): a
/// query run in a test starts this binary again to run this one test, which answers it and exits.
/// Run on its own, it returns at once.
#[test]
fn bdi_sql_worker() {
    bdi_load::sql_worker::serve_if_asked();
}
