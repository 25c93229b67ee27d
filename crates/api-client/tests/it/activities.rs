//! The Activities API (A1-A8): `rivers` paths, `scheduler_id` for run groups, run-group detail.
//!
//! Section and trap numbers are those of the upstream contract, `docs/upstream-api.md`.
//! A1 to A8 name the rows of its Activities table (section 4.10).

use bdi_domain::Backend;
use bdi_domain::models::{ActivityQuery, PageQuery};
use bdi_sandbox::demo;

use crate::support::{env, flow, last_days, run, start};

fn window() -> ActivityQuery {
    let (start_time, end_time) = last_days(7);
    ActivityQuery {
        start_time: Some(start_time),
        end_time: Some(end_time),
        ..ActivityQuery::default()
    }
}

#[tokio::test]
async fn environment_wide_activities() {
    let h = start().await;
    let stats = h
        .backend
        .activities_statistics(&env(), &window())
        .await
        .expect("A1");
    assert!(stats.is_object(), "{stats}");

    let query = ActivityQuery {
        page: Some(PageQuery::new(1, 10)),
        ..window()
    };
    let page = h.backend.activities(&env(), &query).await.expect("A8");
    assert!(!page.items.is_empty());
    assert!(
        page.items
            .iter()
            .any(|i| i.to_string().contains(demo::ORDERS_FLOW_ID)),
        "{:?}",
        page.items
    );
}

#[tokio::test]
async fn per_flow_activities() {
    let h = start().await;
    let id = flow(demo::ORDERS_FLOW_ID);
    let stats = h
        .backend
        .data_flow_statistics(&env(), &id, &window())
        .await
        .expect("A2");
    assert!(stats.is_object(), "{stats}");

    let targets = h
        .backend
        .data_flow_targets(&env(), &id, &window())
        .await
        .expect("A3");
    assert!(targets.to_string().contains("order_items"), "{targets}");

    // A3 filters by run group through `scheduler_id`.
    let one_group = ActivityQuery {
        run_group_id: Some(demo::ORDERS_PARTIAL_RUN_GROUP_ID.to_owned()),
        ..window()
    };
    h.backend
        .data_flow_targets(&env(), &id, &one_group)
        .await
        .expect("A3 with scheduler_id");

    let groups = h
        .backend
        .data_flow_run_groups(&env(), &id, &window())
        .await
        .expect("A4");
    assert_eq!(groups.items.len(), 3, "{:?}", groups.items);

    let partial = h
        .backend
        .data_flow_run_group(&env(), &id, &run(demo::ORDERS_PARTIAL_RUN_GROUP_ID))
        .await
        .expect("A4b");
    let status = partial
        .get("status")
        .and_then(|s| s.as_str())
        .map(bdi_domain::models::RunStatus::from);
    assert_eq!(
        status,
        Some(bdi_domain::models::RunStatus::PartiallySucceeded),
        "{partial}"
    );

    let subs = h
        .backend
        .data_flow_sub_flows(&env(), &id, &window())
        .await
        .expect("A5");
    assert!(subs.is_object() || subs.is_array(), "{subs}");
}

#[tokio::test]
async fn a_missing_window_is_a_422_with_its_detail() {
    let h = start().await;
    let err = h
        .backend
        .data_flow_run_groups(
            &crate::support::env(),
            &flow(demo::ORDERS_FLOW_ID),
            &ActivityQuery::default(),
        )
        .await
        .expect_err("start_time and end_time are required");
    let bdi_domain::Error::Validation { status, detail, .. } = &err else {
        panic!("expected a validation error, got {err:?}");
    };
    assert_eq!(*status, 422);
    let found: Vec<String> = detail.iter().map(ToString::to_string).collect();
    assert!(
        found.contains(&"query.start_time: Field required (missing)".to_owned()),
        "{found:?}"
    );
    assert!(
        found.contains(&"query.end_time: Field required (missing)".to_owned()),
        "{found:?}"
    );
}
