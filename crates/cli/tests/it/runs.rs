//! `bdi runs list|get|logs` against the mock.

use bdi_domain::MockBackend;
use bdi_domain::models::Page;

use crate::support::*;

#[tokio::test]
async fn list_shows_a_table_and_filters_by_status() {
    let mut mock = MockBackend::new();
    mock.expect_list_runs().times(1).returning(|_, _, q| {
        assert_eq!((q.page.page, q.page.items_per_page), (1, 50));
        assert_eq!(q.start_time.to_query(), "2026-05-24T00:00:00");
        Ok(Page::single(vec![
            run("succeeded", None),
            from(run_json("failed", Some("table orders: access denied"))),
        ]))
    });
    let args = [
        "runs",
        "list",
        FLOW,
        "--start",
        "2026-05-24T00:00:00",
        "--end",
        "2026-05-25T00:00:00",
    ];
    insta::assert_snapshot!(bdi(&args, mock).await, @r"
    exit_code: 0
    ----- stdout -----
    RUN                               STATUS     TARGET  STARTED              DURATION  RPU  ERROR
    5658a1c9ea724ee59f048cbb5a6f734a  succeeded  ORDERS  2026-05-25 02:00:00  90s       0.5
    5658a1c9ea724ee59f048cbb5a6f734a  failed     ORDERS  2026-05-25 02:00:00  90s       0.5  table orders: access denied
    ----- stderr -----
    ");
}

#[tokio::test]
async fn list_filters_by_status_and_prints_json() {
    let mut mock = MockBackend::new();
    mock.expect_list_runs().returning(|_, _, _| {
        Ok(Page::single(vec![
            run("succeeded", None),
            run("failed", Some("boom")),
        ]))
    });
    let out = bdi(
        &[
            "runs", "list", FLOW, "--since", "7d", "--status", "failed", "-o", "json",
        ],
        mock,
    )
    .await;
    let json: serde_json::Value = serde_json::from_str(
        out.split("----- stdout -----\n")
            .nth(1)
            .unwrap()
            .split("\n----- stderr")
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["status"], "failed");
}

#[tokio::test]
async fn bad_windows_are_usage_errors() {
    insta::assert_snapshot!(bdi(&["runs", "list", FLOW, "--since", "soon"], MockBackend::new()).await, @r"
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: invalid --since `soon`: use a number and a unit, e.g. 30m, 12h, 7d
    ");
    let out = bdi(
        &[
            "runs",
            "list",
            FLOW,
            "--start",
            "2026-05-25T00:00:00",
            "--end",
            "2026-05-24T00:00:00",
        ],
        MockBackend::new(),
    )
    .await;
    assert!(
        out.contains("error: invalid --end: --end (`2026-05-24T00:00:00`) must be after --start (`2026-05-25T00:00:00`)"),
        "{out}"
    );
    assert!(out.contains("exit_code: 2"), "a usage error: {out}");
    let out = bdi(
        &["runs", "list", FLOW, "--status", "exploded"],
        MockBackend::new(),
    )
    .await;
    assert!(
        out.contains(
            "error: invalid --status: `exploded` is not a run status: use one of pending, running"
        ),
        "{out}"
    );
}

#[tokio::test]
async fn get_shows_the_run_and_where_to_look_when_it_failed() {
    let mut mock = MockBackend::new();
    mock.expect_get_run()
        .returning(|_, _, _| Ok(run("failed", Some("table orders: access denied"))));
    insta::assert_snapshot!(bdi(&["runs", "get", FLOW, RUN], mock).await, @r"
    exit_code: 0
    ----- stdout -----
    run:        5658a1c9ea724ee59f048cbb5a6f734a
    run group:  0f4e8b1c2d3a4b5c6d7e8f9a0b1c2d3e
    data flow:  65a1b2c3d4e5f60718293a4b
    status:     failed
    source:     postgres
    target:     ORDERS
    started:    2026-05-25 02:00:00
    ended:      2026-05-25 02:01:30
    duration:   90.0 s
    rpu:        0.5
    error:      table orders: access denied
    ----- stderr -----
    read the failure with `bdi runs logs 65a1b2c3d4e5f60718293a4b 5658a1c9ea724ee59f048cbb5a6f734a --errors-only`
    ");
}

#[tokio::test]
async fn get_of_an_unknown_run_says_where_ids_come_from() {
    let mut mock = MockBackend::new();
    mock.expect_get_run().returning(|_, _, _| {
        Err(bdi_domain::Error::NotFound {
            what: format!("run {RUN}"),
            message: "Run not found".into(),
        })
    });
    insta::assert_snapshot!(bdi(&["runs", "get", FLOW, RUN], mock).await, @r"
    exit_code: 3
    ----- stdout -----

    ----- stderr -----
    error: run 5658a1c9ea724ee59f048cbb5a6f734a not found: Run not found

    hint: check the id: `bdi flows list`, `bdi connections list` and `bdi runs list FLOW` show valid ids
    ");
}

#[tokio::test]
async fn logs_print_csv_and_select_problems() {
    let log = "timestamp,level,message\n2026-05-25 02:00:00,INFO,start\n2026-05-25 02:00:01,ERROR,table orders: access denied\n2026-05-25 02:00:02,INFO,end\n";
    let mut mock = MockBackend::new();
    mock.expect_get_run_logs()
        .times(1)
        .returning(move |_, _, _| Ok(log.to_owned()));
    insta::assert_snapshot!(bdi(&["runs", "logs", FLOW, RUN], mock).await, @r"
    exit_code: 0
    ----- stdout -----
    timestamp,level,message
    2026-05-25 02:00:00,INFO,start
    2026-05-25 02:00:01,ERROR,table orders: access denied
    2026-05-25 02:00:02,INFO,end
    ----- stderr -----
    ");
}

#[tokio::test]
async fn logs_errors_only_and_empty_logs() {
    let log =
        "timestamp,level,message\n1,INFO,start\n2,ERROR,table orders: access denied\n3,INFO,end\n";
    let mut mock = MockBackend::new();
    mock.expect_get_run_logs()
        .returning(move |_, _, _| Ok(log.to_owned()));
    insta::assert_snapshot!(bdi(&["runs", "logs", FLOW, RUN, "--errors-only"], mock).await, @r"
    exit_code: 0
    ----- stdout -----
    timestamp,level,message
    2,ERROR,table orders: access denied
    ----- stderr -----
    showing 1 of 3 lines
    ");
    let mut mock = MockBackend::new();
    mock.expect_get_run_logs()
        .returning(|_, _, _| Ok(String::new()));
    insta::assert_snapshot!(bdi(&["runs", "logs", FLOW, RUN], mock).await, @r"
    exit_code: 0
    ----- stdout -----

    ----- stderr -----
    the log is empty: the source may keep no logs, or the run is older than the retention (about 2 weeks)
    ");
}
