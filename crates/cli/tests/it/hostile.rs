//! `bdi load query` held to the hostile-query corpus (`bdi_load::testing::hostile`), on DuckDB and
//! on PostgreSQL as a read-only role: each case gets its expected outcome (a refusal is a usage
//! error that is not "the query failed"), a query that kills the engine ends with a message, not
//! with the process, and a superuser URL is refused with how to make a reader role.

use bdi_load::testing::{self, Case, Engine, Expect, STILL_ANSWERS};
use tokio_util::sync::CancellationToken;

use crate::support::bdi_with;

async fn query(sql: &str, destination: &str, dataset: &str) -> String {
    bdi_with(
        &[
            "load",
            "query",
            sql,
            "--destination",
            destination,
            "--dataset",
            dataset,
            "-o",
            "csv",
        ],
        None,
        &[],
        "",
        CancellationToken::new(),
    )
    .await
}

fn exit_code(outcome: &str) -> &str {
    outcome
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("exit_code: "))
        .unwrap_or("?")
}

async fn holds_to_the_corpus(destination: &str, dataset: &str, engine: Engine) {
    for Case { sql, expect } in testing::hostile(engine) {
        let out = query(&sql, destination, dataset).await;
        let code = exit_code(&out);
        match expect {
            Expect::Rows => assert_eq!(code, "0", "{sql:?}: {out}"),
            Expect::Refused => assert!(
                code == "2" && !out.contains("the query failed"),
                "{sql:?}: {out}"
            ),
            Expect::NotRows => assert_ne!(code, "0", "{sql:?}: {out}"),
            Expect::Any => assert!(code == "0" || code == "2", "{sql:?}: {out}"),
        }
        let after = query(STILL_ANSWERS.0, destination, dataset).await;
        assert!(
            after.contains(&format!("n\n{}", STILL_ANSWERS.1)),
            "after {sql:?}: {after}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_query_holds_to_the_hostile_corpus_on_duckdb() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.duckdb");
    testing::duckdb_dataset(&path, "d");
    holds_to_the_corpus(&format!("duckdb:{}", path.display()), "d", Engine::DuckDb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_query_holds_to_the_hostile_corpus_on_postgres_and_refuses_a_superuser() {
    let admin = crate::load::postgres_url();
    let dataset = "bdi_hostile_cli";
    let admin2 = admin.clone();
    let reader = tokio::task::spawn_blocking(move || testing::postgres_dataset(&admin2, dataset))
        .await
        .unwrap();
    holds_to_the_corpus(&reader, dataset, Engine::Postgres).await;

    let out = query(STILL_ANSWERS.0, &admin, dataset).await;
    assert_eq!(exit_code(&out), "2", "{out}");
    assert!(
        out.contains("is a superuser") && out.contains("CREATE ROLE"),
        "{out}"
    );
}
