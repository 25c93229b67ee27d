//! Connections: a sweep of every page (with a failing page reported, not fatal) and updates that
//! never wipe a stored secret by accident, since the API never returns secrets.

use std::collections::BTreeSet;

use bdi_domain::{Backend, Error};
use bdi_sandbox::demo::{DEMO_CONNECTION_COUNT, MYSQL_CONNECTION_ID};
use serde_json::json;

use crate::support::{connection, env, start};

const CONNECTIONS: &str = "/connections";

#[tokio::test]
async fn a_sweep_reads_every_connection_at_a_small_page_size() {
    let h = start().await;

    let sweep = h
        .service
        .list_all_connections(&env(), 10)
        .await
        .expect("every page reads");

    assert_eq!(sweep.items.len(), DEMO_CONNECTION_COUNT);
    assert_eq!(sweep.total_items, DEMO_CONNECTION_COUNT as u64);
    assert_eq!(sweep.pages, 5);
    assert!(sweep.incomplete_pages.is_empty());
    let ids: BTreeSet<&str> = sweep.items.iter().map(|c| c.cross_id.as_str()).collect();
    assert_eq!(ids.len(), DEMO_CONNECTION_COUNT, "no connection twice");
    assert_eq!(
        sweep.items[0].cross_id, MYSQL_CONNECTION_ID,
        "page order is kept"
    );
}

#[tokio::test]
async fn a_failing_page_is_reported_and_the_others_are_returned() {
    let h = start().await;
    h.control().fail_page(CONNECTIONS, 2, 503);

    let sweep = h
        .service
        .list_all_connections(&env(), 10)
        .await
        .expect("a transient page failure is not fatal");

    assert_eq!(sweep.incomplete_pages, [2]);
    assert_eq!(sweep.items.len(), DEMO_CONNECTION_COUNT - 10);
    assert_eq!(sweep.total_items, DEMO_CONNECTION_COUNT as u64);
    assert_eq!(sweep.pages, 5);

    // A failing first page has no total to go on: the sweep fails.
    let h = start().await;
    h.control().fail_page(CONNECTIONS, 1, 503);
    let err = h
        .service
        .list_all_connections(&env(), 10)
        .await
        .expect_err("without page 1 there is nothing to sweep");
    assert!(
        matches!(err, Error::Upstream { status: 503, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_update_without_credentials_is_refused_while_a_secret_is_stored() {
    let h = start().await;
    let control = h.control();
    let id = connection(MYSQL_CONNECTION_ID);
    let path = format!("{CONNECTIONS}/{MYSQL_CONNECTION_ID}");
    let before = h.backend.get_connection(&env(), &id).await.expect("reads");
    assert!(before.has_stored_secret());

    let err = h
        .service
        .update_connection(&env(), &id, &json!({"host": "db2.example.com"}), false)
        .await
        .expect_err("the save would erase the password");
    match &err {
        Error::InvalidInput { message, .. } => {
            assert!(message.contains("stores secrets (password)"), "{message}");
            assert!(
                message.contains("include the credentials again"),
                "{message}"
            );
        }
        other => panic!("expected invalid input, got {other:?}"),
    }
    assert_eq!(control.request_count("PUT", &path), 0);

    // With the credentials included, the update goes through and keeps the other parameters.
    let updated = h
        .service
        .update_connection(
            &env(),
            &id,
            &json!({"host": "db2.example.com", "password": "new-secret"}),
            false,
        )
        .await
        .expect("credentials included");
    assert_eq!(updated.extra["host"], "db2.example.com");
    let after = h.backend.get_connection(&env(), &id).await.expect("reads");
    assert_eq!(after.extra["host"], "db2.example.com");
    assert_eq!(after.extra["password_exists"], true);
    assert_eq!(after.connection_name, before.connection_name);
    assert_eq!(after.extra["port"], before.extra["port"]);
    assert_eq!(after.extra["username"], before.extra["username"]);
    assert!(
        !format!("{after:?}").contains("new-secret"),
        "the secret never comes back"
    );

    // Clearing the stored secret is possible, but only on purpose.
    h.service
        .update_connection(
            &env(),
            &id,
            &json!({"connection_name": "No password"}),
            true,
        )
        .await
        .expect("the reset is explicit");
    let cleared = h.backend.get_connection(&env(), &id).await.expect("reads");
    assert_eq!(cleared.connection_name, "No password");
    assert_eq!(cleared.extra["password_exists"], false);
    assert_eq!(control.request_count("PUT", &path), 2);

    // With nothing stored, nothing can be wiped: no credentials needed.
    h.service
        .update_connection(&env(), &id, &json!({"connection_name": "Renamed"}), false)
        .await
        .expect("no secret to lose");
}
