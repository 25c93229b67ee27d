//! `bdi flows ...` against the mock: listing, showing, creating, changing, deleting.

use bdi_domain::models::FlowStatus;
use bdi_domain::{Error, MockBackend, StateConflict};

use crate::support::*;

#[tokio::test]
async fn list_as_a_table() {
    let mut mock = MockBackend::new();
    mock.expect_list_data_flows().returning(|_, q| {
        assert_eq!(q.name.as_deref(), Some("orders"));
        assert_eq!(q.river_status, vec![FlowStatus::Active]);
        assert_eq!((q.page.page, q.page.items_per_page), (1, 100));
        Ok(summaries())
    });
    insta::assert_snapshot!(bdi(&["flows", "list", "--name", "orders", "--status", "active"], mock).await, @r"
    exit_code: 0
    ----- stdout -----
    ID                        NAME                 TYPE              STATUS    SOURCE    GROUP    UPDATED
    65a1b2c3d4e5f60718293a4b  orders to snowflake  source_to_target  active    postgres  Default  2026-05-02 10:00
    65a1b2c3d4e5f60718293a4c  nightly logic        logic             disabled            Ops      2026-04-30 08:15
    ----- stderr -----
    ");
}

#[tokio::test]
async fn list_as_json_is_an_array_of_the_items() {
    let mut mock = MockBackend::new();
    mock.expect_list_data_flows()
        .returning(|_, _| Ok(summaries()));
    insta::assert_snapshot!(bdi(&["flows", "list", "-o", "json"], mock).await);
}

#[tokio::test]
async fn list_says_when_more_pages_follow_and_when_nothing_is_found() {
    let mut mock = MockBackend::new();
    mock.expect_list_data_flows().returning(|_, _| {
        let mut p = summaries();
        p.total_items = 5;
        p.next_page = Some("page=2".into());
        Ok(p)
    });
    let out = bdi(&["flows", "list", "--per-page", "2"], mock).await;
    assert!(
        out.ends_with("page 1 shows 2 of 5 data flows; the next page: --page 2"),
        "{out}"
    );
    let mut mock = MockBackend::new();
    mock.expect_list_data_flows()
        .returning(|_, _| Ok(bdi_domain::models::Page::single(vec![])));
    insta::assert_snapshot!(bdi(&["flows", "list"], mock).await, @r"
    exit_code: 0
    ----- stdout -----

    ----- stderr -----
    no data flows found
    ");
}

#[tokio::test]
async fn get_shows_a_readable_summary() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow().returning(|_, _| Ok(flow()));
    insta::assert_snapshot!(bdi(&["flows", "get", FLOW], mock).await, @r"
    exit_code: 0
    ----- stdout -----
    id:              65a1b2c3d4e5f60718293a4b
    name:            orders to snowflake
    type:            source_to_target
    status:          disabled
    description:     nightly orders
    source:          postgres (connection 64b0c1d2e3f405162738495a)
    target:          snowflake (connection 64b0c1d2e3f405162738495b)
    target schema:   ANALYTICS.PUBLIC
    loading method:  merge
    tables:          2 selected: public.orders, public.customers
    schedule:        0 2 * * * (enabled)
    group:           Default
    ----- stderr -----
    ");
}

#[tokio::test]
async fn get_as_yaml_is_the_full_document() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow().returning(|_, _| Ok(flow()));
    let out = bdi(&["flows", "get", FLOW, "-o", "yaml"], mock).await;
    assert!(
        out.contains("cross_id: 65a1b2c3d4e5f60718293a4b\n"),
        "{out}"
    );
    assert!(out.contains("  created_by: ana@example.com\n"), "{out}");
}

#[tokio::test]
async fn a_legacy_flow_says_why_it_cannot_be_read() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow().returning(|_, _| {
        Err(Error::State {
            conflict: StateConflict::LegacyFlow,
            message: "river was created in the legacy UI".into(),
        })
    });
    insta::assert_snapshot!(bdi(&["flows", "get", FLOW], mock).await, @r"
    exit_code: 3
    ----- stdout -----

    ----- stderr -----
    error: river was created in the legacy UI

    hint: this data flow was created in the legacy console and cannot be read through the API; `bdi flows list -o json` shows is_api_v2
    ");
}

#[tokio::test]
async fn create_needs_its_flags_or_a_file() {
    let out = bdi(&["flows", "create", "--name", "x"], MockBackend::new()).await;
    assert!(out.starts_with("exit_code: 2\n"), "{out}");
    assert!(out.contains("--source <SOURCE>"), "{out}");
    let args = [
        "flows",
        "create",
        "--name",
        "x",
        "--source",
        "postgres",
        "--source-connection",
        CONN_SRC,
        "--target",
        "snowflake",
        "--target-connection",
        CONN_TGT,
        "--target-settings",
        "[1]",
    ];
    insta::assert_snapshot!(bdi(&args, MockBackend::new()).await, @r#"
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: invalid --target-settings: expected a JSON object

    hint: for example --target-settings '{"database_name":"DB","schema_name":"PUBLIC"}'
    "#);
}

#[tokio::test]
async fn patch_needs_a_json_object() {
    insta::assert_snapshot!(bdi(&["flows", "patch", FLOW, "name: x"], MockBackend::new()).await, @r#"
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: the patch is not valid JSON: expected ident at line 1 column 2

    hint: give a JSON object, e.g. '{"metadata":{"description":"nightly"}}'
    "#);
}

fn echo_update(mock: &mut MockBackend) {
    mock.expect_update_data_flow().returning(|_, _, body| {
        let mut doc = body.clone();
        doc.insert("cross_id".into(), FLOW.into());
        Ok(serde_json::from_value(serde_json::Value::Object(doc))
            .expect("an echoed document decodes"))
    });
}

#[tokio::test]
async fn create_from_flags_then_says_what_is_next() {
    let mut mock = MockBackend::new();
    mock.expect_create_data_flow()
        .times(1)
        .returning(|_, body| {
            assert_eq!(body["name"], "orders");
            assert_eq!(body["properties"]["source"]["connection_id"], CONN_SRC);
            assert_eq!(body["properties"]["target"]["schema_name"], "PUBLIC");
            let mut doc = body.clone();
            doc.insert("cross_id".into(), FLOW.into());
            Ok(serde_json::from_value(serde_json::Value::Object(doc)).unwrap())
        });
    echo_update(&mut mock);
    let args = [
        "flows",
        "create",
        "--name",
        "orders",
        "--source",
        "postgres",
        "--source-connection",
        CONN_SRC,
        "--target",
        "snowflake",
        "--target-connection",
        CONN_TGT,
        "--target-settings",
        r#"{"database_name":"DB","schema_name":"PUBLIC"}"#,
    ];
    let out = bdi(&args, mock).await;
    assert!(out.starts_with("exit_code: 0\n"), "{out}");
    assert!(
        out.contains("id:              65a1b2c3d4e5f60718293a4b"),
        "{out}"
    );
    assert!(
        out.ends_with("created data flow 65a1b2c3d4e5f60718293a4b; next: select its tables with `bdi flows tables set 65a1b2c3d4e5f60718293a4b TABLE...`, then `bdi flows activate 65a1b2c3d4e5f60718293a4b --wait`"),
        "{out}"
    );
}

#[tokio::test]
async fn update_and_patch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flow.json");
    let mut doc = flow_doc();
    doc["name"] = "renamed".into();
    std::fs::write(&path, doc.to_string()).unwrap();
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow().returning(|_, _| Ok(flow()));
    echo_update(&mut mock);
    let out = bdi(
        &[
            "flows",
            "update",
            FLOW,
            "-f",
            path.to_str().unwrap(),
            "-o",
            "json",
        ],
        mock,
    )
    .await;
    assert!(
        out.starts_with("exit_code: 0\n") && out.contains(r#""name": "renamed""#),
        "{out}"
    );
    assert!(
        out.ends_with("updated data flow 65a1b2c3d4e5f60718293a4b"),
        "{out}"
    );

    let mut mock = MockBackend::new();
    mock.expect_get_data_flow().returning(|_, _| Ok(flow()));
    echo_update(&mut mock);
    let out = bdi(
        &[
            "flows",
            "patch",
            FLOW,
            r#"{"metadata":{"description":"hourly"}}"#,
        ],
        mock,
    )
    .await;
    assert!(
        out.contains("description:     hourly")
            && out.ends_with("patched data flow 65a1b2c3d4e5f60718293a4b"),
        "{out}"
    );
}

#[tokio::test]
async fn delete_refuses_an_active_flow_and_says_to_disable_it() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow()
        .returning(|_, _| Ok(active_flow()));
    mock.expect_delete_data_flow().never();
    insta::assert_snapshot!(bdi(&["flows", "delete", FLOW], mock).await, @r"
    exit_code: 3
    ----- stdout -----

    ----- stderr -----
    error: data flow 65a1b2c3d4e5f60718293a4b (orders to snowflake) is active and cannot be deleted: disable it first, wait for the operation, then delete it

    hint: disable the data flow first with `bdi flows disable 65a1b2c3d4e5f60718293a4b --wait`, then try again
    ");
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow().returning(|_, _| Ok(flow()));
    mock.expect_delete_data_flow()
        .times(1)
        .returning(|_, _| Ok(()));
    insta::assert_snapshot!(bdi(&["flows", "delete", FLOW], mock).await, @r"
    exit_code: 0
    ----- stdout -----

    ----- stderr -----
    deleted data flow 65a1b2c3d4e5f60718293a4b
    ");
}

#[tokio::test]
async fn disable_without_wait_points_at_the_operation() {
    let mut mock = MockBackend::new();
    mock.expect_disable_data_flow().times(1).returning(|_, _| {
        Ok(bdi_domain::models::Toggle::Started {
            operation: Box::new(operation("W", None)),
        })
    });
    let out = bdi(&["flows", "disable", FLOW], mock).await;
    assert!(out.starts_with("exit_code: 0\n"), "{out}");
    assert!(out.ends_with("disable started (operation 66aa00bb11cc22dd33ee44ff); follow it with `bdi operations get 66aa00bb11cc22dd33ee44ff` or use --wait"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn tables_set_matches_names_against_the_catalog() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow().returning(|_, _| Ok(flow()));
    mock.expect_start_discovery().times(1).returning(|_, req| {
        assert_eq!(
            req.connection_id.as_str(),
            CONN_SRC,
            "the flow's own source connection"
        );
        let mut op = operation("D", None);
        op.result = Some(
            serde_json::json!({"public": ["orders", "customers", "events"], "audit": ["events"]}),
        );
        Ok(op)
    });
    mock.expect_update_data_flow()
        .times(1)
        .returning(|_, _, body| {
            let tables = &body["properties"]["schemas"];
            assert!(tables.to_string().contains("\"events\""), "{tables}");
            Ok(flow())
        });
    insta::assert_snapshot!(bdi(&["flows", "tables", "set", FLOW, "orders", "public.events"], mock).await, @r"
    exit_code: 0
    ----- stdout -----
    SCHEMA  TABLE
    public  orders
    public  events
    ----- stderr -----
    selected 2 tables; next: activate it with `bdi flows activate 65a1b2c3d4e5f60718293a4b --wait`, then `bdi flows run 65a1b2c3d4e5f60718293a4b --wait`
    ");
}

#[tokio::test(start_paused = true)]
async fn tables_set_refuses_an_ambiguous_name() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow().returning(|_, _| Ok(flow()));
    mock.expect_start_discovery().returning(|_, _| {
        let mut op = operation("D", None);
        op.result = Some(serde_json::json!({"public": ["events"], "audit": ["events"]}));
        Ok(op)
    });
    mock.expect_update_data_flow().never();
    let out = bdi(&["flows", "tables", "set", FLOW, "events"], mock).await;
    assert!(out.starts_with("exit_code: 2\n"), "{out}");
    assert!(out.contains("`events` matches several tables"), "{out}");
}
