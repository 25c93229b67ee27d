//! Data flow writes: create, create from flat parameters, update, patch, delete, and the
//! per-resource lock under concurrent patches.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bdi_domain::models::DataFlow;
use bdi_domain::{ConnectionId, Env, Error, MockBackend, NewDataFlow, StateConflict};
use serde_json::{Value, json};

use crate::support::*;

fn spec() -> NewDataFlow {
    NewDataFlow {
        name: "orders sync".into(),
        source_name: "mysql".into(),
        source_connection_id: conn_id(),
        target_name: "snowflake".into(),
        target_connection_id: ConnectionId::parse(TARGET_CONN).expect("id"),
        loading_method: None,
        target_settings: None,
        description: None,
    }
}

#[tokio::test(start_paused = true)]
async fn create_data_flow_prepares_the_body() {
    let mut mock = MockBackend::new();
    mock.expect_create_data_flow()
        .withf(|_, body| {
            !body.contains_key("cross_id")
                && !body.contains_key("group_name")
                && !body.contains_key("environment_name")
                && body.contains_key("group_id")
                && body.get("settings") == Some(&json!({}))
                && body
                    .get("metadata")
                    .and_then(|m| m.get("description"))
                    .is_none()
        })
        .times(1)
        .returning(|_, body| Ok(saved(body)));
    let flow = service(mock)
        .create_data_flow(&Env::Default, doc(flow_json()))
        .await
        .expect("created");
    assert_eq!(flow.cross_id, FLOW);
}

#[tokio::test(start_paused = true)]
async fn create_source_to_target_posts_then_saves_the_same_body_once() {
    let posted: Arc<Mutex<Option<Value>>> = Arc::default();
    let seen = posted.clone();
    let mut mock = MockBackend::new();
    mock.expect_create_data_flow()
        .times(1)
        .returning(move |_, body| {
            *seen.lock().expect("lock") = Some(Value::Object(body.clone()));
            Ok(saved(body))
        });
    let expected = posted.clone();
    mock.expect_update_data_flow()
        .withf(move |_, id, body| {
            id.as_str() == FLOW
                && expected.lock().expect("lock").as_ref() == Some(&Value::Object(body.clone()))
        })
        .times(1)
        .returning(|_, _, body| {
            let mut f = saved(body);
            f.name = "after save".into();
            Ok(f)
        });
    let mut s = spec();
    s.loading_method = Some("Replace".into());
    s.target_settings = Some(doc(
        json!({"database_name": "DB", "schema_name": "PUBLIC", "name": "ignored"}),
    ));
    s.description = Some("nightly".into());
    let flow = service(mock)
        .create_source_to_target(&Env::Default, s)
        .await
        .expect("created");
    assert_eq!(flow.name, "after save");
    assert_eq!(
        posted.lock().expect("lock").clone().expect("posted"),
        json!({
            "name": "orders sync", "type": "source_to_target", "kind": "main_river",
            "metadata": {"description": "nightly"}, "settings": {},
            "properties": {
                "properties_type": "source_to_target",
                "source": {"name": "mysql", "connection_id": CONN, "run_type": "multi_tables"},
                "target": {"database_name": "DB", "schema_name": "PUBLIC", "name": "snowflake",
                           "connection_id": TARGET_CONN, "loading_method": "overwrite"},
                "schemas": []
            }
        })
    );
}

#[tokio::test(start_paused = true)]
async fn create_source_to_target_returns_the_created_flow_when_the_save_fails() {
    let mut mock = MockBackend::new();
    mock.expect_create_data_flow()
        .times(1)
        .returning(|_, body| Ok(saved(body)));
    mock.expect_update_data_flow()
        .times(1)
        .returning(|_, _, _| {
            Err(Error::Upstream {
                status: 500,
                body: "boom".into(),
            })
        });
    let flow = service(mock)
        .create_source_to_target(&Env::Default, spec())
        .await
        .expect("created");
    assert_eq!(flow.cross_id, FLOW);
}

#[tokio::test(start_paused = true)]
async fn create_source_to_target_refuses_bad_parameters_before_any_request() {
    type Case = (fn(&mut NewDataFlow), &'static str, &'static str);
    let cases: Vec<Case> = vec![
        (
            |s| s.source_name = "blueprint".into(),
            "source_name",
            "create those flows in the Boomi Data Integration console",
        ),
        (
            |s| s.source_name = "Blueprint_Custom".into(),
            "source_name",
            "recipe",
        ),
        (
            |s| s.loading_method = Some("upsert".into()),
            "loading_method",
            "use one of append, merge, overwrite, replace",
        ),
        (
            |s| {
                s.target_settings =
                    Some(crate::support::doc(json!({"loading_method": "truncate"})));
            },
            "loading_method",
            "`truncate`",
        ),
        (|s| s.name = "  ".into(), "name", "needs a name"),
        (
            |s| s.target_name = String::new(),
            "target_name",
            "target connector type",
        ),
    ];
    for (edit, field, needle) in cases {
        let mut s = spec();
        edit(&mut s);
        let err = service(MockBackend::new())
            .create_source_to_target(&Env::Default, s)
            .await
            .expect_err("refused");
        match err {
            Error::InvalidInput { field: f, message } => {
                assert_eq!(f, field);
                assert!(message.contains(needle), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn update_data_flow_checks_immutability_against_the_current_document() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow()
        .times(1)
        .returning(|_, _| Ok(to_flow(flow_json())));
    mock.expect_update_data_flow().never();
    let mut body = flow_json();
    body["properties"]["source"]["run_type"] = json!("regular");
    let err = service(mock)
        .update_data_flow(&Env::Default, &flow_id(), doc(body))
        .await
        .expect_err("refused");
    let msg = err.to_string();
    assert!(
        msg.contains("properties.source.run_type")
            && msg.contains("delete the data flow and create it again"),
        "{msg}"
    );
}

#[tokio::test(start_paused = true)]
async fn update_data_flow_puts_the_prepared_body() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow()
        .times(1)
        .returning(|_, _| Ok(to_flow(flow_json())));
    mock.expect_update_data_flow()
        .withf(|_, _, body| {
            !body.contains_key("cross_id")
                && !body.contains_key("account_id")
                && body["name"] == "renamed"
        })
        .times(1)
        .returning(|_, _, body| Ok(saved(body)));
    let mut body = flow_json();
    body["name"] = json!("renamed");
    let flow = service(mock)
        .update_data_flow(&Env::Default, &flow_id(), doc(body))
        .await
        .expect("updated");
    assert_eq!(flow.name, "renamed");
}

#[tokio::test(start_paused = true)]
async fn patch_data_flow_deep_merges_and_strips() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow().times(1).returning(|_, _| {
        Ok(flow_with(
            json!({"properties": {"schemas": [{"name": "s", "tables": []}]}}),
        ))
    });
    mock.expect_update_data_flow()
        .withf(|_, _, body| {
            let b = Value::Object(body.clone());
            b["name"] == "New Name"
                && b["properties"]["target"] == json!({"name": "snowflake", "connection_id": TARGET_CONN, "loading_method": "append", "schema_name": "PUBLIC"})
                && b["properties"]["schemas"] == json!([{"name": "s", "tables": []}])
                && b["properties"]["source"].get("connection_name").is_none()
                && b.get("cross_id").is_none()
                && b.get("schedulers") == Some(&json!([]))
                && b["metadata"].get("created_at").is_some()
        })
        .times(1)
        .returning(|_, _, body| Ok(saved(body)));
    let patch = json!({"name": "New Name", "properties": {"target": {"schema_name": "PUBLIC"}}});
    let flow = service(mock)
        .patch_data_flow(&Env::Default, &flow_id(), &patch)
        .await
        .expect("patched");
    assert_eq!(flow.name, "New Name");
}

#[tokio::test(start_paused = true)]
async fn patch_data_flow_refusals_write_nothing() {
    let cases = [
        (json!(["not", "an", "object"]), "patch", 0),
        (json!("name"), "patch", 0),
        (
            json!({"properties": {"source": {"run_type": "regular"}}}),
            "properties.source.run_type",
            1,
        ),
        (json!({"type": "logic"}), "type", 1),
    ];
    for (patch, field, gets) in cases {
        let mut mock = MockBackend::new();
        mock.expect_get_data_flow()
            .times(gets)
            .returning(|_, _| Ok(to_flow(flow_json())));
        mock.expect_update_data_flow().never();
        match service(mock)
            .patch_data_flow(&Env::Default, &flow_id(), &patch)
            .await
        {
            Err(Error::InvalidInput { field: f, .. }) => assert_eq!(f, field, "{patch}"),
            other => panic!("{patch}: {other:?}"),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn delete_data_flow_refuses_active_flows_and_never_forces() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow()
        .times(1)
        .returning(|_, _| Ok(flow_with(json!({"metadata": {"river_status": "active"}}))));
    mock.expect_delete_data_flow().never();
    match service(mock)
        .delete_data_flow(&Env::Default, &flow_id())
        .await
    {
        Err(Error::State {
            conflict: StateConflict::ActiveFlow,
            message,
        }) => {
            assert!(message.contains("disable it first"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn delete_data_flow_deletes_disabled_and_logic_flows() {
    let cases = [
        json!({"metadata": {"river_status": "disabled"}}),
        json!({"metadata": {"river_status": "active"}, "type": "logic"}),
        json!({"metadata": {"river_status": null}}),
    ];
    for patch in cases {
        let mut mock = MockBackend::new();
        let f = flow_with(patch.clone());
        mock.expect_get_data_flow()
            .times(1)
            .returning(move |_, _| Ok(f.clone()));
        mock.expect_delete_data_flow()
            .times(1)
            .returning(|_, _| Ok(()));
        service(mock)
            .delete_data_flow(&Env::Default, &flow_id())
            .await
            .unwrap_or_else(|e| panic!("{patch}: {e}"));
    }
}

#[tokio::test(start_paused = true)]
async fn delete_data_flow_surfaces_upstream_errors_as_they_are() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow()
        .times(1)
        .returning(|_, _| Ok(to_flow(flow_json())));
    mock.expect_delete_data_flow().times(1).returning(|_, _| {
        Err(Error::Validation {
            status: 400,
            message: "river is active".into(),
            detail: vec![],
        })
    });
    let err = service(mock)
        .delete_data_flow(&Env::Default, &flow_id())
        .await
        .expect_err("400");
    assert!(
        matches!(err, Error::Validation { status: 400, ref message, .. } if message == "river is active"),
        "{err:?}"
    );

    let mut mock = MockBackend::new();
    mock.expect_get_data_flow()
        .times(1)
        .returning(|_, _| Err(nf("data flow")));
    mock.expect_delete_data_flow().never();
    let err = service(mock)
        .delete_data_flow(&Env::Default, &flow_id())
        .await
        .expect_err("404");
    assert!(matches!(err, Error::NotFound { .. }));
}

/// A mock whose GET and PUT read and write one stored document; the GET takes a moment so that
/// unserialised read-modify-writes would interleave.
fn storing_mock(store: Arc<Mutex<Value>>) -> MockBackend {
    let mut mock = MockBackend::new();
    let read = store.clone();
    mock.expect_get_data_flow().returning(move |_, _| {
        let v = read.lock().expect("lock").clone();
        std::thread::sleep(Duration::from_millis(2));
        Ok(to_flow(v))
    });
    mock.expect_update_data_flow().returning(move |_, _, body| {
        let f: DataFlow = saved(body);
        *store.lock().expect("lock") = Value::Object(f.to_document());
        Ok(f)
    });
    mock
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_patches_on_one_flow_lose_no_update() {
    let store = Arc::new(Mutex::new(flow_json()));
    let svc = service(storing_mock(store.clone()));
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let svc = svc.clone();
            tokio::spawn(async move {
                let patch = json!({"properties": {"target": {format!("key_{i}"): i}}});
                svc.patch_data_flow(&Env::Default, &flow_id(), &patch).await
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task").expect("patched");
    }
    let stored = store.lock().expect("lock").clone();
    for i in 0..20 {
        assert_eq!(
            stored["properties"]["target"][format!("key_{i}")],
            json!(i),
            "key_{i} lost"
        );
    }
    assert_eq!(stored["properties"]["target"]["schema_name"], "RAW");
}
