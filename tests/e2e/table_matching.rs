//! `set_source_tables` against the sandbox's MySQL discovery fixture (schemas `sales`, `crm`,
//! `billing`, `Analytics`; `customers` in two schemas; `crm.Accounts` and `billing.accounts`):
//! case-insensitive matching, `schema.table`, ambiguity and unknown names refused with nothing
//! written, the catalog cached between calls, and exact casing and existing details kept.

use bdi_domain::models::DataFlow;
use bdi_domain::{Error, NewDataFlow, QualifiedTable, Service};
use bdi_sandbox::demo::{
    MYSQL_CONNECTION_ID, ORDERS_FLOW_ID, POSTGRES_CONNECTION_ID, SNOWFLAKE_CONNECTION_ID,
};
use serde_json::{Value, json};

use crate::support::{Harness, connection, env, flow, flow_path, start, stored, strings};

const PULL_REQUESTS: &str = "/pull_requests";

/// A fresh MySQL -> Snowflake flow with no tables, created (and saved once) by the service.
async fn new_mysql_flow(svc: &Service) -> DataFlow {
    let target = json!({"database_name": "RAW", "schema_name": "PUBLIC"});
    let Value::Object(target_settings) = target else {
        unreachable!("a JSON object literal")
    };
    svc.create_source_to_target(
        &env(),
        NewDataFlow {
            name: "e2e tables".to_owned(),
            source_name: "mysql".to_owned(),
            source_connection_id: connection(MYSQL_CONNECTION_ID),
            target_name: "snowflake".to_owned(),
            target_connection_id: connection(SNOWFLAKE_CONNECTION_ID),
            loading_method: Some("merge".to_owned()),
            target_settings: Some(target_settings),
            description: Some("made by the e2e tests".to_owned()),
        },
    )
    .await
    .expect("the flow is created")
}

async fn set(h: &Harness, id: &str, names: &[&str]) -> Result<Vec<QualifiedTable>, Error> {
    h.service
        .set_source_tables(
            &env(),
            &flow(id),
            Some(&connection(MYSQL_CONNECTION_ID)),
            &strings(names),
        )
        .await
        .map(|set| set.tables)
}

fn qualified(tables: &[QualifiedTable]) -> Vec<String> {
    tables.iter().map(ToString::to_string).collect()
}

fn invalid_tables(err: &Error) -> &str {
    match err {
        Error::InvalidInput { field, message } if field == "table_names" => message,
        other => panic!("expected invalid table_names, got {other:?}"),
    }
}

/// `(schema, table, is_selected)` of every table in `properties.schemas`.
fn selection(flow: &DataFlow) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for s in flow.properties["schemas"].as_array().into_iter().flatten() {
        for t in s["tables"].as_array().into_iter().flatten() {
            out.push((
                s["name"].as_str().unwrap_or_default().to_owned(),
                t["details"]["name"].as_str().unwrap_or_default().to_owned(),
                t["details"]["is_selected"] == true,
            ));
        }
    }
    out
}

#[tokio::test]
async fn names_match_case_insensitively_and_are_saved_with_the_connection_casing() {
    let h = start().await;
    let created = new_mysql_flow(&h.service).await;
    let id = created.cross_id.clone();

    let tables = set(
        &h,
        &id,
        &[
            "ORDERS",
            "crm.customers",
            "analytics.events",
            "Daily_Summary",
        ],
    )
    .await
    .expect("every name matches");

    assert_eq!(
        qualified(&tables),
        [
            "sales.orders",
            "crm.customers",
            "Analytics.Events",
            "Analytics.daily_Summary"
        ]
    );
    let after = stored(&h.service, &id).await;
    assert_eq!(
        selection(&after),
        [
            ("sales".to_owned(), "orders".to_owned(), true),
            ("crm".to_owned(), "customers".to_owned(), true),
            ("Analytics".to_owned(), "Events".to_owned(), true),
            ("Analytics".to_owned(), "daily_Summary".to_owned(), true),
        ]
    );
    // Everything else is as the create left it.
    assert_eq!(after.name, "e2e tables");
    assert_eq!(after.metadata["description"], "made by the e2e tests");
    assert_eq!(after.properties["source"], created.properties["source"]);
    assert_eq!(after.properties["target"], created.properties["target"]);
    assert_eq!(after.properties["target"]["loading_method"], "merge");
    assert_eq!(after.properties["target"]["database_name"], "RAW");
}

#[tokio::test]
async fn a_name_in_two_schemas_is_refused_listing_both_and_nothing_is_written() {
    let h = start().await;
    let control = h.control();
    let id = new_mysql_flow(&h.service).await.cross_id;
    let puts = control.request_count("PUT", &flow_path(&id));

    let err = set(&h, &id, &["orders", "customers", "ACCOUNTS"])
        .await
        .expect_err("customers and ACCOUNTS are ambiguous");
    let message = invalid_tables(&err);
    assert!(message.contains("2 of 3 table names"), "{message}");
    assert!(
        message.contains("`customers` matches several tables (sales.customers, crm.customers)"),
        "{message}"
    );
    assert!(
        message.contains("(crm.Accounts, billing.accounts)"),
        "{message}"
    );
    assert!(message.contains("schema.table"), "{message}");
    assert!(message.contains("nothing was changed"), "{message}");
    assert_eq!(control.request_count("PUT", &flow_path(&id)), puts);
    assert!(selection(&stored(&h.service, &id).await).is_empty());

    // Qualified, or spelled with the exact casing of one of them, each resolves.
    let tables = set(&h, &id, &["sales.Customers", "accounts", "crm.ACCOUNTS"])
        .await
        .expect("qualified and exact names resolve");
    assert_eq!(
        qualified(&tables),
        ["sales.customers", "billing.accounts", "crm.Accounts"]
    );
}

#[tokio::test]
async fn an_unknown_name_is_refused_with_candidates_and_no_put() {
    let h = start().await;
    let control = h.control();
    let id = new_mysql_flow(&h.service).await.cross_id;
    let puts = control.request_count("PUT", &flow_path(&id));

    let err = set(&h, &id, &["ordrs", "invoices", "no_such_table_anywhere"])
        .await
        .expect_err("ordrs is a typo");
    let message = invalid_tables(&err);
    assert!(
        message.contains("`ordrs` matches no table; did you mean sales.orders"),
        "{message}"
    );
    assert!(
        message
            .contains("`no_such_table_anywhere` matches no table, and no table has a similar name"),
        "{message}"
    );
    assert!(
        !message.contains("`invoices`"),
        "a name that matched is not a problem: {message}"
    );
    assert_eq!(control.request_count("PUT", &flow_path(&id)), puts);
    assert!(selection(&stored(&h.service, &id).await).is_empty());
}

#[tokio::test]
async fn the_catalog_is_discovered_once_and_reused() {
    let h = start().await;
    let control = h.control();
    let id = new_mysql_flow(&h.service).await.cross_id;
    assert_eq!(control.request_count("POST", PULL_REQUESTS), 0);

    set(&h, &id, &["orders"]).await.expect("first selection");
    assert_eq!(control.request_count("POST", PULL_REQUESTS), 1);
    set(&h, &id, &["orders", "invoices"])
        .await
        .expect("second selection");
    assert_eq!(
        control.request_count("POST", PULL_REQUESTS),
        1,
        "the second call reuses the cached catalog"
    );

    // An unknown name may be a table created since: the catalog is discovered once more.
    set(&h, &id, &["created_yesterday"])
        .await
        .expect_err("still unknown after a fresh discovery");
    assert_eq!(control.request_count("POST", PULL_REQUESTS), 2);

    // Another service has its own cache.
    let other = h.fresh_service();
    other
        .set_source_tables(
            &env(),
            &flow(&id),
            Some(&connection(MYSQL_CONNECTION_ID)),
            &strings(&["orders"]),
        )
        .await
        .expect("selection through another service");
    assert_eq!(control.request_count("POST", PULL_REQUESTS), 3);
}

#[tokio::test]
async fn existing_table_details_are_carried_over_and_other_properties_untouched() {
    let h = start().await;
    let before = stored(&h.service, ORDERS_FLOW_ID).await;

    let tables = set(&h, ORDERS_FLOW_ID, &["Orders", "broken_events"])
        .await
        .expect("both tables exist in sales");

    assert_eq!(qualified(&tables), ["sales.orders", "sales.broken_events"]);
    let after = stored(&h.service, ORDERS_FLOW_ID).await;
    assert_eq!(
        selection(&after),
        [
            ("sales".to_owned(), "orders".to_owned(), true),
            ("sales".to_owned(), "broken_events".to_owned(), true),
        ]
    );
    let details = |i: usize| &after.properties["schemas"][0]["tables"][i]["details"];
    assert_eq!(details(0)["target_table"], "ORDERS");
    assert_eq!(details(0)["extract_method"], "all");
    assert_eq!(details(1)["target_table"], "BROKEN_EVENTS");
    assert_eq!(after.properties["source"], before.properties["source"]);
    assert_eq!(after.properties["target"], before.properties["target"]);
    assert_eq!(after.extra["schedulers"], before.extra["schedulers"]);
    assert_eq!(after.name, before.name);
}

#[tokio::test]
async fn a_connection_other_than_the_flow_source_is_refused_before_discovery() {
    let h = start().await;
    let control = h.control();

    let err = h
        .service
        .set_source_tables(
            &env(),
            &flow(ORDERS_FLOW_ID),
            Some(&connection(POSTGRES_CONNECTION_ID)),
            &strings(&["users"]),
        )
        .await
        .expect_err("the orders flow reads from MySQL");
    assert!(
        matches!(&err, Error::InvalidInput { field, message }
            if field == "source_connection_id" && message.contains(MYSQL_CONNECTION_ID)),
        "{err:?}"
    );
    assert_eq!(control.request_count("POST", PULL_REQUESTS), 0);
    assert_eq!(control.request_count("PUT", &flow_path(ORDERS_FLOW_ID)), 0);
}
