//! set_source_tables: discovery, matching, the cached catalog, and writing nothing on error.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bdi_domain::models::Operation;
use bdi_domain::{ConnectionId, Env, Error, MockBackend, ServiceConfig};
use serde_json::{Value, json};

use crate::support::*;

fn discovery_result() -> Value {
    json!({
        "sales": {"Customers": {"columns": [{"name": "id"}]}, "orders": {"columns": []}},
        "archive": {"orders": {"columns": []}, "customers_2019": []}
    })
}

fn op_done() -> Operation {
    serde_json::from_value(json!({"operation_id": OP, "status": "D", "result": discovery_result()}))
        .expect("op")
}

/// A mock with the flow GET and a discovery that needs two polls; `puts` collects PUT bodies.
fn mock_with_discovery(
    discoveries: usize,
    puts: Arc<Mutex<Vec<Value>>>,
    flow: Value,
) -> MockBackend {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow()
        .returning(move |_, _| Ok(to_flow(flow.clone())));
    mock.expect_start_discovery()
        .withf(|_, req| {
            req.datasource_id == "mysql"
                && req.connection_id.as_str() == CONN
                && req.table_name.is_none()
        })
        .times(discoveries)
        .returning(|_, _| Ok(op("W")));
    let mut next = sequence(vec![op("R"), op_done()]);
    mock.expect_get_operation().returning(move |_, id| {
        assert_eq!(id.as_str(), OP);
        let o = next();
        Ok(o)
    });
    mock.expect_update_data_flow().returning(move |_, _, body| {
        puts.lock().expect("lock").push(Value::Object(body.clone()));
        Ok(saved(body))
    });
    mock
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(start_paused = true)]
async fn tables_are_matched_grouped_and_saved() {
    let puts: Arc<Mutex<Vec<Value>>> = Arc::default();
    let flow = flow_with(json!({
        "properties": {"source": {"connection_id": null},
            "schemas": [{"name": "sales", "tables": [{"run_type_and_datasource": "multi_tables",
                "details": {"name": "orders", "is_selected": false, "extract_method": "incremental", "incremental_field": "ts"}}]}]}
    }));
    let mock = mock_with_discovery(1, puts.clone(), serde_json::to_value(&flow).expect("json"));
    let set = service(mock)
        .set_source_tables(
            &Env::Default,
            &flow_id(),
            Some(&conn_id()),
            &names(&["CUSTOMERS", "archive.orders", "sales.orders", "customers"]),
        )
        .await
        .expect("tables set");
    let got: Vec<String> = set.tables.iter().map(ToString::to_string).collect();
    assert_eq!(got, ["sales.Customers", "archive.orders", "sales.orders"]);
    let puts = puts.lock().expect("lock");
    assert_eq!(puts.len(), 1);
    assert_eq!(
        puts[0]["properties"]["schemas"],
        json!([
            {"name": "sales", "tables": [
                {"run_type_and_datasource": "multi_tables", "details": {"name": "Customers", "is_selected": true}},
                {"run_type_and_datasource": "multi_tables", "details": {"name": "orders", "is_selected": true, "extract_method": "incremental", "incremental_field": "ts"}}
            ]},
            {"name": "archive", "tables": [
                {"run_type_and_datasource": "multi_tables", "details": {"name": "orders", "is_selected": true}}
            ]}
        ])
    );
    assert_eq!(puts[0]["properties"]["source"]["connection_id"], CONN);
    assert!(puts[0].get("cross_id").is_none());
}

#[tokio::test(start_paused = true)]
async fn unknown_and_ambiguous_names_are_all_reported_and_nothing_is_written() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow()
        .times(1)
        .returning(|_, _| Ok(to_flow(flow_json())));
    mock.expect_start_discovery()
        .times(1)
        .returning(|_, _| Ok(op_done()));
    mock.expect_update_data_flow().never();
    let err = service(mock)
        .set_source_tables(
            &Env::Default,
            &flow_id(),
            Some(&conn_id()),
            &names(&["orders", "custmers", "customers"]),
        )
        .await
        .expect_err("refused");
    let Error::InvalidInput { field, message } = err else {
        panic!("{err:?}")
    };
    assert_eq!(field, "table_names");
    for needle in [
        "2 of 3 table names",
        "`orders` matches several tables (sales.orders, archive.orders); write it as schema.table",
        "`custmers` matches no table; did you mean sales.Customers",
        "nothing was changed",
    ] {
        assert!(message.contains(needle), "{needle} not in {message}");
    }
}

#[tokio::test(start_paused = true)]
async fn the_catalog_is_cached_per_environment_and_connection() {
    let puts: Arc<Mutex<Vec<Value>>> = Arc::default();
    let mock = mock_with_discovery(1, puts.clone(), flow_json());
    let svc = service(mock);
    for tables in [["customers"], ["sales.orders"]] {
        svc.set_source_tables(&Env::Default, &flow_id(), Some(&conn_id()), &names(&tables))
            .await
            .expect("tables set");
    }
    assert_eq!(puts.lock().expect("lock").len(), 2);
}

#[tokio::test(start_paused = true)]
async fn an_expired_catalog_is_discovered_again() {
    let puts: Arc<Mutex<Vec<Value>>> = Arc::default();
    let mock = mock_with_discovery(2, puts.clone(), flow_json());
    let config = ServiceConfig {
        catalog_ttl: Duration::from_secs(60),
        ..ServiceConfig::default()
    };
    let svc = service_with(mock, config);
    svc.set_source_tables(
        &Env::Default,
        &flow_id(),
        Some(&conn_id()),
        &names(&["customers"]),
    )
    .await
    .expect("first");
    tokio::time::sleep(Duration::from_secs(61)).await;
    svc.set_source_tables(
        &Env::Default,
        &flow_id(),
        Some(&conn_id()),
        &names(&["customers"]),
    )
    .await
    .expect("second");
}

#[tokio::test(start_paused = true)]
async fn an_unknown_name_on_a_cached_catalog_triggers_one_fresh_discovery() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow()
        .returning(|_, _| Ok(to_flow(flow_json())));
    let mut results = sequence(vec![
        op_done(),
        serde_json::from_value::<Operation>(json!({"operation_id": OP, "status": "D", "result": {"sales": {"Customers": [], "invoices": []}}})).expect("op"),
    ]);
    mock.expect_start_discovery()
        .times(2)
        .returning(move |_, _| Ok(results()));
    mock.expect_update_data_flow()
        .times(2)
        .returning(|_, _, body| Ok(saved(body)));
    let svc = service(mock);
    svc.set_source_tables(
        &Env::Default,
        &flow_id(),
        Some(&conn_id()),
        &names(&["customers"]),
    )
    .await
    .expect("first");
    let set = svc
        .set_source_tables(
            &Env::Default,
            &flow_id(),
            Some(&conn_id()),
            &names(&["invoices"]),
        )
        .await
        .expect("second");
    assert_eq!(set.tables[0].to_string(), "sales.invoices");
}

#[tokio::test(start_paused = true)]
async fn a_failed_discovery_is_an_operation_failure_and_writes_nothing() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow()
        .times(1)
        .returning(|_, _| Ok(to_flow(flow_json())));
    mock.expect_start_discovery()
        .times(1)
        .returning(|_, _| Ok(op("R")));
    mock.expect_get_operation()
        .times(1)
        .returning(|_, _| Ok(op_failed("ORA-12547: TNS lost contact")));
    mock.expect_update_data_flow().never();
    let err = service(mock)
        .set_source_tables(
            &Env::Default,
            &flow_id(),
            Some(&conn_id()),
            &names(&["customers"]),
        )
        .await
        .expect_err("failed");
    assert!(
        matches!(&err, Error::OperationFailed { operation_id, message } if operation_id == OP && message.contains("ORA-12547")),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn refusals_before_discovery() {
    // No table names: nothing is requested at all.
    let err = service(MockBackend::new())
        .set_source_tables(&Env::Default, &flow_id(), Some(&conn_id()), &[])
        .await
        .expect_err("empty");
    assert!(
        matches!(&err, Error::InvalidInput { field, .. } if field == "table_names"),
        "{err:?}"
    );

    // Another connection than the flow's.
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow()
        .times(1)
        .returning(|_, _| Ok(to_flow(flow_json())));
    mock.expect_start_discovery().never();
    mock.expect_update_data_flow().never();
    let other = ConnectionId::parse("5f88cccccccccccccccccccc").expect("id");
    let err = service(mock)
        .set_source_tables(
            &Env::Default,
            &flow_id(),
            Some(&other),
            &names(&["customers"]),
        )
        .await
        .expect_err("mismatch");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("reads from connection {CONN}")),
        "{msg}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_source_type_falls_back_to_the_connection_type() {
    let mut mock = MockBackend::new();
    mock.expect_get_data_flow()
        .returning(|_, _| Ok(flow_with(json!({"properties": {"source": {"name": null}}}))));
    mock.expect_get_connection().times(1).returning(|_, _| {
        Ok(serde_json::from_value(json!({"cross_id": CONN, "connection_name": "db", "connection_type": "MySQL", "connection_type_id": "mysql"})).expect("conn"))
    });
    mock.expect_start_discovery()
        .withf(|_, req| req.datasource_id == "mysql")
        .times(1)
        .returning(|_, _| Ok(op_done()));
    mock.expect_update_data_flow()
        .times(1)
        .returning(|_, _, body| Ok(saved(body)));
    service(mock)
        .set_source_tables(
            &Env::Default,
            &flow_id(),
            Some(&conn_id()),
            &names(&["customers"]),
        )
        .await
        .expect("tables set");
}

#[tokio::test(start_paused = true)]
async fn without_a_connection_the_flow_s_own_is_used_and_a_flow_without_one_is_refused() {
    let puts: Arc<Mutex<Vec<Value>>> = Arc::default();
    let flow = flow_with(json!({"properties": {"source": {"connection_id": CONN}}}));
    let mock = mock_with_discovery(1, puts.clone(), serde_json::to_value(&flow).expect("json"));
    let set = service(mock)
        .set_source_tables(&Env::Default, &flow_id(), None, &names(&["sales.orders"]))
        .await
        .expect("the flow's own connection");
    assert_eq!(set.tables.len(), 1, "{:?}", set.tables);
    assert_eq!(puts.lock().expect("lock").len(), 1);

    let mut mock = MockBackend::new();
    let bare = flow_with(json!({"properties": {"source": {"connection_id": null}}}));
    mock.expect_get_data_flow()
        .returning(move |_, _| Ok(bare.clone()));
    mock.expect_update_data_flow().never();
    let err = service(mock)
        .set_source_tables(&Env::Default, &flow_id(), None, &names(&["orders"]))
        .await
        .expect_err("no connection to read from");
    assert!(
        matches!(&err, Error::InvalidInput { field, .. } if field == "connection"),
        "{err}"
    );
}
