//! Environments, connections, variables and metadata discovery (with its operation).

use bdi_domain::models::{DiscoveryRequest, OperationStatus, PageQuery, Variables};
use bdi_domain::{Backend, Env, EnvironmentId, Error};
use bdi_sandbox::demo;
use serde_json::{Value, json};

use crate::support::{connection, env, operation, start};

#[tokio::test]
async fn environments_are_listed_per_account() {
    let h = start().await;
    let page = h
        .backend
        .list_environments(PageQuery::default(), false)
        .await
        .expect("list");
    let ids: Vec<&str> = page.items.iter().map(|e| e.cross_id.as_str()).collect();
    assert!(
        ids.contains(&h.sandbox.config().environment_id.as_str()),
        "{ids:?}"
    );
    assert!(ids.contains(&demo::SECOND_ENVIRONMENT_ID), "{ids:?}");
    assert!(page.items.iter().any(|e| e.is_default));

    // An explicit environment overrides the default.
    let second = Env::Id(EnvironmentId::parse(demo::SECOND_ENVIRONMENT_ID).expect("valid id"));
    let conns = h
        .backend
        .list_connections(&second, PageQuery::new(1, 100))
        .await
        .expect("second environment");
    assert!(
        conns
            .items
            .iter()
            .any(|c| c.cross_id == demo::SECOND_ENV_MYSQL_CONNECTION_ID)
    );
}

#[tokio::test]
async fn connections_crud() {
    let h = start().await;
    let page = h
        .backend
        .list_connections(&env(), PageQuery::new(1, 100))
        .await
        .expect("list");
    assert_eq!(page.total_items, demo::DEMO_CONNECTION_COUNT as u64);
    let mysql = h
        .backend
        .get_connection(&env(), &connection(demo::MYSQL_CONNECTION_ID))
        .await
        .expect("get");
    assert_eq!(mysql.type_slug().as_deref(), Some("mysql"));
    assert!(
        mysql.has_stored_secret(),
        "the password is stored: {mysql:?}"
    );
    assert!(
        !serde_json::to_string(&mysql)
            .expect("serializes")
            .contains("\"password\""),
        "secrets never come back"
    );

    let body = json!({
        "connection_name": "contract test db",
        "connection_type": "mysql",
        "host": "db.example.com",
        "port": 3306,
        "username": "reader",
        "password": "s3cret"
    });
    let Value::Object(body) = body else {
        unreachable!("a literal object")
    };
    let created = h
        .backend
        .create_connection(&env(), &body)
        .await
        .expect("create");
    assert_eq!(created.connection_name, "contract test db");
    let id = connection(&created.cross_id);

    let mut changed = body.clone();
    changed.insert("connection_name".to_owned(), json!("renamed connection"));
    let updated = h
        .backend
        .update_connection(&env(), &id, &changed)
        .await
        .expect("update");
    assert_eq!(updated.connection_name, "renamed connection");

    h.backend
        .delete_connection(&env(), &id)
        .await
        .expect("delete");
    let err = h
        .backend
        .get_connection(&env(), &id)
        .await
        .expect_err("gone");
    match err {
        Error::NotFound { what, .. } => assert_eq!(what, format!("connection {id}")),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[tokio::test]
async fn variables_merge() {
    let h = start().await;
    let before = h.backend.list_variables(&env()).await.expect("list");
    let mut vars = Variables::new();
    vars.insert("CONTRACT_TEST".to_owned(), "one".to_owned());
    h.backend
        .upsert_variables(&env(), &vars)
        .await
        .expect("upsert");
    let after = h.backend.list_variables(&env()).await.expect("list");
    assert_eq!(after.get("CONTRACT_TEST").map(String::as_str), Some("one"));
    for (k, v) in &before {
        assert_eq!(after.get(k), Some(v), "{k} is left untouched");
    }
}

#[tokio::test]
async fn discovery_runs_as_an_operation() {
    let h = start().await;
    let request = DiscoveryRequest {
        datasource_id: "mysql".to_owned(),
        connection_id: connection(demo::MYSQL_CONNECTION_ID),
        schemas: Some(vec!["sales".to_owned()]),
        table_name: None,
    };
    let op = h
        .backend
        .start_discovery(&env(), &request)
        .await
        .expect("start");
    let id = operation(&op.operation_id);
    let mut current = op;
    for _ in 0..10 {
        if current.status.is_terminal() {
            break;
        }
        current = h.backend.get_operation(&env(), &id).await.expect("poll");
    }
    assert_eq!(current.status, OperationStatus::Done, "{current:?}");
    let result = current.result.expect("a catalog");
    assert!(result.to_string().contains("orders"), "{result}");

    let unknown = operation("0123456789abcdef01234567");
    let err = h
        .backend
        .get_operation(&env(), &unknown)
        .await
        .expect_err("404");
    assert!(
        matches!(&err, Error::NotFound { what, .. } if what == &format!("operation {unknown}")),
        "{err:?}"
    );
}
