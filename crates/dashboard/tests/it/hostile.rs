//! The hostile-query corpus (`bdi_load::testing::hostile`) through the SQL box's CSV, on DuckDB
//! and on PostgreSQL as a read-only role: each case gets its expected outcome and the dashboard
//! answers the next query; as a superuser every query is refused; and the pages answer while
//! the SQL box runs heavy queries.

use bdi_load::testing::{self, Case, Engine, Expect, STILL_ANSWERS};

use super::*;

async fn csv(router: &axum::Router, sql: &str) -> Page {
    send(
        router.clone(),
        Method::GET,
        &format!("/sql.csv?q={}", encode(sql)),
        &[("host", HOST)],
    )
    .await
}

async fn holds_to_the_corpus(location: Location, dataset: &str, engine: Engine) {
    let router = dashboard(&location, dataset, Kind::History).router(ADDR.parse().unwrap());
    let cases = testing::hostile(engine);
    assert!(cases.len() > 20);
    for Case { sql, expect } in cases {
        let page = csv(&router, &sql).await;
        match expect {
            Expect::Rows => assert_eq!(page.status, StatusCode::OK, "{sql:?}: {}", page.body),
            Expect::Refused => assert!(
                page.status == StatusCode::BAD_REQUEST && page.body.starts_with("refused: "),
                "{sql:?}: {} {}",
                page.status,
                page.body
            ),
            Expect::NotRows => assert_ne!(page.status, StatusCode::OK, "{sql:?}: {}", page.body),
            Expect::Any => {}
        }
        let after = csv(&router, STILL_ANSWERS.0).await;
        assert_eq!(
            after.body,
            format!("n\n{}\n", STILL_ANSWERS.1),
            "after {sql:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sql_box_holds_to_the_hostile_corpus_on_duckdb() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.duckdb");
    testing::duckdb_dataset(&path, "d");
    holds_to_the_corpus(Location::DuckDb(path), "d", Engine::DuckDb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sql_box_holds_to_the_hostile_corpus_on_postgres_and_refuses_a_superuser() {
    let admin = postgres_url();
    let dataset = "bdi_hostile_dashboard";
    let reader = tokio::task::spawn_blocking(move || testing::postgres_dataset(&admin, dataset))
        .await
        .unwrap();
    holds_to_the_corpus(Location::Postgres(reader), dataset, Engine::Postgres).await;

    // As the server's superuser, nothing runs, and the refusal says how to fix it.
    let router = dashboard(&Location::Postgres(postgres_url()), dataset, Kind::History)
        .router(ADDR.parse().unwrap());
    let page = csv(&router, STILL_ANSWERS.0).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(
        page.body.contains("is a superuser") && page.body.contains("CREATE ROLE"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("password"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_answer_while_the_sql_box_runs_heavy_queries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.duckdb");
    testing::duckdb_dataset(&path, "d");
    let router =
        dashboard(&Location::DuckDb(path), "d", Kind::History).router(ADDR.parse().unwrap());
    // Three queries that each run to the SQL box's time limit (two run, one waits for a slot).
    let heavy: Vec<_> = (0..3)
        .map(|_| {
            let router = router.clone();
            tokio::spawn(async move {
                let sql = "SELECT count(*) FROM range(1000000000000) a WHERE a.range % 7 = 3";
                send(
                    router,
                    Method::GET,
                    &format!("/sql?q={}", encode(sql)),
                    &[("host", HOST)],
                )
                .await
            })
        })
        .collect();
    tokio::task::yield_now().await;
    for uri in ["/", "/tables/runs"] {
        let page = send(router.clone(), Method::GET, uri, &[("host", HOST)]).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}: {}", page.body);
    }
    assert!(
        heavy.iter().any(|h| !h.is_finished()),
        "the pages were answered while the heavy queries ran"
    );
    for h in heavy {
        let page = h.await.unwrap();
        assert!(page.body.contains("role=\"alert\""), "{}", page.body);
    }
}
