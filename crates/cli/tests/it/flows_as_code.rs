//! `bdi flows export` and `bdi flows apply`: clean documents, diffs, create-or-update.

use std::io::Write;

use bdi_domain::MockBackend;
use bdi_domain::models::{DataFlow, Page};
use serde_json::{Value, json};

use crate::support::*;

fn doc_file(text: &str, ext: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new()
        .suffix(ext)
        .tempfile()
        .expect("a temporary file");
    f.write_all(text.as_bytes())
        .expect("the temporary file is writable");
    f
}

fn exported() -> String {
    let clean = bdi_cli::flowdoc::clean(&flow().to_document());
    serde_norway::to_string(&Value::Object(clean)).expect("a document encodes")
}

#[tokio::test]
async fn export_writes_a_clean_yaml_document() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow().returning(|_, _| Ok(flow()));
    insta::assert_snapshot!(bdi(&["flows", "export", FLOW], mock).await);
}

#[tokio::test]
async fn export_as_json_to_a_file() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow().returning(|_, _| Ok(flow()));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.json");
    let out = bdi(
        &["flows", "export", FLOW, "--to", path.to_str().unwrap()],
        mock,
    )
    .await;
    assert!(
        out.contains("wrote data flow 65a1b2c3d4e5f60718293a4b (orders to snowflake) to"),
        "{out}"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(doc["name"], "orders to snowflake");
    assert!(doc.get("cross_id").is_none() && doc["metadata"].get("created_by").is_none());
}

fn by_name(mock: &mut MockBackend, found: bool) {
    mock.expect_list_data_flows().returning(move |_, q| {
        assert_eq!(q.name.as_deref(), Some("orders to snowflake"));
        Ok(if found {
            summaries()
        } else {
            Page::single(vec![])
        })
    });
}

#[tokio::test]
async fn apply_of_an_unchanged_document_changes_nothing() {
    let mut mock = MockBackend::new();
    by_name(&mut mock, true);
    mock.expect_get_data_flow().returning(|_, _| Ok(flow()));
    let file = doc_file(&exported(), ".yaml");
    let out = bdi(
        &["flows", "apply", "-f", file.path().to_str().unwrap()],
        mock,
    )
    .await;
    let out = out.replace(file.path().to_str().unwrap(), "[FILE]");
    insta::assert_snapshot!(out, @r"
    exit_code: 0
    ----- stdout -----

    ----- stderr -----
    data flow 65a1b2c3d4e5f60718293a4b (`orders to snowflake`) already matches [FILE]
    ");
}

fn edited() -> String {
    exported()
        .replace("description: nightly orders", "description: hourly orders")
        .replace("cron_expression: 0 2 * * *", "cron_expression: 0 * * * *")
}

#[tokio::test]
async fn apply_dry_run_shows_the_diff_and_changes_nothing() {
    let mut mock = MockBackend::new();
    by_name(&mut mock, true);
    mock.expect_get_data_flow().returning(|_, _| Ok(flow()));
    mock.expect_update_data_flow().never();
    let file = doc_file(&edited(), ".yaml");
    let out = bdi(
        &[
            "flows",
            "apply",
            "-f",
            file.path().to_str().unwrap(),
            "--dry-run",
        ],
        mock,
    )
    .await;
    insta::assert_snapshot!(out, @r#"
    exit_code: 0
    ----- stdout -----
    ~ metadata.description: "nightly orders" -> "hourly orders"
    ~ schedulers[0].cron_expression: "0 2 * * *" -> "0 * * * *"
    ----- stderr -----
    would update data flow 65a1b2c3d4e5f60718293a4b (`orders to snowflake`): 2 changes; nothing was changed (--dry-run)
    "#);
}

#[tokio::test]
async fn apply_updates_to_match_the_document() {
    let mut mock = MockBackend::new();
    by_name(&mut mock, true);
    mock.expect_get_data_flow().returning(|_, _| Ok(flow()));
    mock.expect_update_data_flow()
        .times(1)
        .returning(|_, id, body| {
            assert_eq!(id.as_str(), FLOW);
            assert_eq!(body["metadata"]["description"], "hourly orders");
            assert!(body.get("cross_id").is_none());
            let mut doc = flow().to_document();
            doc.insert(
                "metadata".into(),
                json!({"description": "hourly orders", "river_status": "disabled"}),
            );
            Ok(serde_json::from_value::<DataFlow>(Value::Object(doc)).unwrap())
        });
    let file = doc_file(&edited(), ".yml");
    let out = bdi(
        &[
            "flows",
            "apply",
            "-f",
            file.path().to_str().unwrap(),
            "-o",
            "json",
        ],
        mock,
    )
    .await;
    insta::assert_snapshot!(out);
}

#[tokio::test]
async fn apply_creates_when_no_flow_has_the_name() {
    let mut mock = MockBackend::new();
    by_name(&mut mock, false);
    mock.expect_create_data_flow()
        .times(1)
        .returning(|_, body| {
            assert_eq!(body["name"], "orders to snowflake");
            assert!(body.get("account_id").is_none());
            Ok(flow())
        });
    mock.expect_get_data_flow().returning(|_, _| Ok(flow()));
    mock.expect_update_data_flow()
        .returning(|_, _, _| Ok(flow()));
    let file = doc_file(&exported(), ".yaml");
    let out = bdi(
        &["flows", "apply", "-f", file.path().to_str().unwrap()],
        mock,
    )
    .await;
    assert!(out.starts_with("exit_code: 0\n"), "{out}");
    assert!(out.contains("+ name: \"orders to snowflake\""), "{out}");
    assert!(
        out.contains("created data flow 65a1b2c3d4e5f60718293a4b (`orders to snowflake`)"),
        "{out}"
    );
}

#[tokio::test]
async fn apply_refuses_an_ambiguous_name_and_a_bad_file() {
    let mut mock = MockBackend::new();
    mock.expect_list_data_flows().returning(|_, _| {
        let mut p = summaries();
        p.items[1].name = "orders to snowflake".into();
        Ok(p)
    });
    let file = doc_file(&exported(), ".yaml");
    insta::assert_snapshot!(bdi(&["flows", "apply", "-f", file.path().to_str().unwrap()], mock).await, @r"
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: 2 data flows are named `orders to snowflake`: 65a1b2c3d4e5f60718293a4b, 65a1b2c3d4e5f60718293a4c

    hint: add `cross_id: ID` to the document to say which one to update
    ");
    let bad = doc_file("- just\n- a list\n", ".yaml");
    let out = bdi(
        &["flows", "apply", "-f", bad.path().to_str().unwrap()],
        MockBackend::new(),
    )
    .await;
    assert!(
        out.starts_with("exit_code: 2\n") && out.contains("must hold an object, not a list"),
        "{out}"
    );
    let out = bdi(
        &["flows", "apply", "-f", "/nonexistent/flow.yaml"],
        MockBackend::new(),
    )
    .await;
    assert!(
        out.starts_with("exit_code: 2\n")
            && out.contains("error: could not read /nonexistent/flow.yaml"),
        "{out}"
    );
}
