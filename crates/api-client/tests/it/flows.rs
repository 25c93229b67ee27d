//! Data flows: list, get, create, update, delete, activate and disable, with the traps of the
//! section 12 of `docs/upstream-api.md` (204 on activate, legacy flows, delete while active, extra_forbidden,
//! logic flows, CDC property locks).

use bdi_domain::models::{DataFlowQuery, FlowStatus, OperationStatus, PageQuery, Toggle};
use bdi_domain::{Backend, Document, Error, StateConflict};
use bdi_sandbox::demo;
use serde_json::{Value, json};

use crate::support::{env, flow, operation, start};

fn new_flow_body(name: &str) -> Document {
    let body = json!({
        "name": name,
        "type": "source_to_target",
        "metadata": {"description": "created by a contract test"},
        "settings": {},
        "properties": {
            "properties_type": "source_to_target",
            "source": {"name": "mysql", "connection_id": demo::MYSQL_CONNECTION_ID, "run_type": "multi_tables"},
            "target": {"name": "snowflake", "connection_id": demo::SNOWFLAKE_CONNECTION_ID, "loading_method": "append"},
            "schemas": []
        }
    });
    match body {
        Value::Object(m) => m,
        _ => unreachable!("a literal object"),
    }
}

#[tokio::test]
async fn list_and_get_data_flows() {
    let h = start().await;
    let page = h
        .backend
        .list_data_flows(&env(), &DataFlowQuery::default())
        .await
        .expect("list");
    assert!(page.total_items >= 6, "{}", page.total_items);
    let orders = page
        .items
        .iter()
        .find(|f| f.river_cross_id == demo::ORDERS_FLOW_ID)
        .expect("the orders flow is listed");
    assert!(orders.is_api_v2);
    let legacy = page
        .items
        .iter()
        .find(|f| f.river_cross_id == demo::LEGACY_FLOW_ID)
        .expect("the legacy flow is listed");
    assert!(!legacy.is_api_v2, "the list marks the legacy flow");

    let active = h
        .backend
        .list_data_flows(
            &env(),
            &DataFlowQuery {
                river_status: vec![FlowStatus::Active],
                page: PageQuery::new(1, 50),
                ..DataFlowQuery::default()
            },
        )
        .await
        .expect("filtered list");
    assert!(
        active
            .items
            .iter()
            .all(|f| f.river_status.as_deref() == Some("active")),
        "{:?}",
        active.items
    );

    let detail = h
        .backend
        .get_data_flow(&env(), &flow(demo::ORDERS_FLOW_ID))
        .await
        .expect("get");
    assert_eq!(detail.cross_id, demo::ORDERS_FLOW_ID);
    assert!(detail.is_active());
    assert_eq!(detail.source_name(), Some("mysql"));
}

#[tokio::test]
async fn unknown_and_legacy_flows() {
    let h = start().await;
    let missing = flow("0123456789abcdef01234567");
    let err = h
        .backend
        .get_data_flow(&env(), &missing)
        .await
        .expect_err("404");
    match &err {
        Error::NotFound { what, .. } => assert_eq!(what, &format!("data flow {missing}")),
        other => panic!("expected NotFound, got {other:?}"),
    }

    let err = h
        .backend
        .get_data_flow(&env(), &flow(demo::LEGACY_FLOW_ID))
        .await
        .expect_err("legacy flows are refused");
    assert!(
        matches!(
            err,
            Error::State {
                conflict: StateConflict::LegacyFlow,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn create_update_and_delete() {
    let h = start().await;
    let created = h
        .backend
        .create_data_flow(&env(), &new_flow_body("contract test flow"))
        .await
        .expect("create");
    assert_eq!(created.cross_id.len(), 24);
    assert_eq!(created.name, "contract test flow");
    assert!(!created.is_active(), "new flows are disabled");
    let id = flow(&created.cross_id);

    let mut body = new_flow_body("renamed by a contract test");
    body.insert("metadata".to_owned(), json!({"description": "updated"}));
    let updated = h
        .backend
        .update_data_flow(&env(), &id, &body)
        .await
        .expect("update");
    assert_eq!(updated.name, "renamed by a contract test");
    let fetched = h.backend.get_data_flow(&env(), &id).await.expect("get");
    assert_eq!(fetched.name, "renamed by a contract test");

    h.backend
        .delete_data_flow(&env(), &id)
        .await
        .expect("delete a disabled flow");
    let err = h
        .backend
        .get_data_flow(&env(), &id)
        .await
        .expect_err("deleted");
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn forbidden_and_missing_fields_come_back_as_a_detail_list() {
    let h = start().await;
    let mut body = new_flow_body("with server-managed fields");
    body.insert("cross_id".to_owned(), json!(demo::ORDERS_FLOW_ID));
    body.insert("title".to_owned(), json!("nope"));
    body.remove("settings");
    let err = h
        .backend
        .create_data_flow(&env(), &body)
        .await
        .expect_err("422");
    let Error::Validation { status, detail, .. } = &err else {
        panic!("expected a validation error, got {err:?}");
    };
    assert_eq!(*status, 422);
    let kinds: Vec<(&str, String)> = detail
        .iter()
        .map(|d| (d.kind.as_str(), d.to_string()))
        .collect();
    assert!(
        kinds
            .iter()
            .any(|(k, s)| *k == "extra_forbidden" && s.starts_with("body.cross_id")),
        "{kinds:?}"
    );
    assert!(
        kinds
            .iter()
            .any(|(k, s)| *k == "extra_forbidden" && s.starts_with("body.title")),
        "{kinds:?}"
    );
    assert!(
        kinds
            .iter()
            .any(|(k, s)| *k == "missing" && s.starts_with("body.settings")),
        "{kinds:?}"
    );
    assert_eq!(
        err.next_step(),
        Some(bdi_domain::NextStep::RemoveServerFields)
    );
}

#[tokio::test]
async fn deleting_an_active_flow_is_a_state_conflict() {
    let h = start().await;
    let err = h
        .backend
        .delete_data_flow(&env(), &flow(demo::ORDERS_FLOW_ID))
        .await
        .expect_err("active");
    assert!(
        matches!(
            err,
            Error::State {
                conflict: StateConflict::ActiveFlow,
                ..
            }
        ),
        "{err:?}"
    );
    h.backend
        .get_data_flow(&env(), &flow(demo::ORDERS_FLOW_ID))
        .await
        .expect("still there");
}

#[tokio::test]
async fn activate_then_disable_with_operations_and_204s() {
    let h = start().await;
    let id = flow(demo::NEW_FLOW_ID);

    let toggle = h
        .backend
        .activate_data_flow(&env(), &id)
        .await
        .expect("activate");
    let Toggle::Started { operation: op } = toggle else {
        panic!("a disabled flow starts an operation, got {toggle:?}");
    };
    let op_id = operation(&op.operation_id);
    let mut last = op.status.clone();
    for _ in 0..10 {
        if last.is_terminal() {
            break;
        }
        last = h
            .backend
            .get_operation(&env(), &op_id)
            .await
            .expect("poll")
            .status;
    }
    assert_eq!(last, OperationStatus::Done);
    assert!(
        h.backend
            .get_data_flow(&env(), &id)
            .await
            .expect("get")
            .is_active()
    );

    // Already active: 204, no operation.
    let again = h
        .backend
        .activate_data_flow(&env(), &id)
        .await
        .expect("activate again");
    assert_eq!(again, Toggle::AlreadyInState);

    h.control().set_steps(0);
    let toggle = h
        .backend
        .disable_data_flow(&env(), &id)
        .await
        .expect("disable");
    assert!(matches!(toggle, Toggle::Started { .. }), "{toggle:?}");
    let again = h
        .backend
        .disable_data_flow(&env(), &id)
        .await
        .expect("disable again");
    assert_eq!(again, Toggle::AlreadyInState);
}

#[tokio::test]
async fn logic_flows_cannot_be_disabled() {
    let h = start().await;
    let err = h
        .backend
        .disable_data_flow(&env(), &flow(demo::LOGIC_FLOW_ID))
        .await
        .expect_err("logic");
    assert!(
        matches!(
            err,
            Error::State {
                conflict: StateConflict::LogicFlow,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn changing_properties_of_an_active_cdc_flow_is_locked() {
    let h = start().await;
    let id = flow(demo::CDC_FLOW_ID);
    let mut doc = h
        .backend
        .get_data_flow(&env(), &id)
        .await
        .expect("get")
        .to_document();
    for key in [
        "cross_id",
        "river_cross_id",
        "account_id",
        "environment_name",
        "group_name",
    ] {
        doc.remove(key);
    }
    doc.retain(|k, _| {
        [
            "name",
            "type",
            "metadata",
            "settings",
            "properties",
            "kind",
            "group_id",
            "schedulers",
        ]
        .contains(&k.as_str())
    });
    if let Some(Value::Array(schemas)) =
        doc.get_mut("properties").and_then(|p| p.get_mut("schemas"))
    {
        schemas.clear();
    }
    let err = h
        .backend
        .update_data_flow(&env(), &id, &doc)
        .await
        .expect_err("locked");
    assert!(
        matches!(
            err,
            Error::State {
                conflict: StateConflict::ActiveFlow,
                ..
            }
        ),
        "{err:?}"
    );
}
