//! The v1 pass-through: each upstream path answers with the upstream's body and success status,
//! served through the domain.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use bdi_domain::models::{Connection, DataFlowSummary, Environment, FlowStatus, Toggle};
use bdi_domain::{Env, EnvironmentId, MockBackend};
use bdi_rest_proxy::routes::params::parse_public_url;
use serde_json::{Value, json};

use crate::support::*;

fn env_is(env: &Env) -> bool {
    env == &Env::Id(EnvironmentId::parse(ENV).unwrap())
}

fn connection() -> Connection {
    serde_json::from_value(json!({"cross_id": CONN, "connection_name": "shop db", "connection_type": "MySQL", "connection_type_id": "mysql", "password_exists": true})).unwrap()
}

#[tokio::test]
async fn reads_answer_with_the_upstream_shapes() {
    let mut m = MockBackend::new();
    m.expect_get_operation().returning(|env, id| {
        assert!(env_is(env));
        assert_eq!(id.as_str(), OP);
        Ok(operation("D"))
    });
    m.expect_list_runs().returning(|_, flow, q| {
        assert_eq!(flow.as_str(), FLOW);
        assert_eq!(q.page.items_per_page, 5);
        assert_eq!(q.start_time.to_query(), "2026-01-01T00:00:00");
        Ok(page(
            vec![run("succeeded")],
            Some("https://api.rivery.io/v1/x?page=2"),
        ))
    });
    m.expect_get_run().returning(|_, _, r| {
        assert_eq!(r.as_str(), RUN);
        Ok(run("running"))
    });
    m.expect_get_run_logs()
        .returning(|_, _, _| Ok("time,level,message\n1,INFO,ok\n".to_owned()));
    m.expect_list_data_flows().returning(|_, q| {
        assert_eq!(q.river_status, vec![FlowStatus::Active]);
        assert_eq!(q.name.as_deref(), Some("orders"));
        let s: DataFlowSummary = serde_json::from_value(
            json!({"river_cross_id": FLOW, "name": "orders", "river_status": "active"}),
        )
        .unwrap();
        Ok(page(vec![s], None))
    });
    m.expect_get_data_flow()
        .returning(|_, _| Ok(flow_doc("active")));
    m.expect_list_connections().returning(|_, p| {
        assert_eq!((p.page, p.items_per_page), (2, 20));
        Ok(page(vec![connection()], None))
    });
    m.expect_get_connection().returning(|_, _| Ok(connection()));
    m.expect_list_variables()
        .returning(|_| Ok([("region".to_owned(), "eu".to_owned())].into()));
    m.expect_list_environments().returning(|p, deleted| {
        // The caller's page for an unlimited key; every page (500 at a time) for a limited one.
        assert!(matches!(p.items_per_page, 20 | 500), "{p:?}");
        assert!(!deleted);
        let envs: Vec<Environment> = [ENV, OTHER_ENV]
            .iter()
            .map(|id| {
                serde_json::from_value(json!({"cross_id": id, "environment_name": id})).unwrap()
            })
            .collect();
        Ok(page(envs, None))
    });
    let h = harness(m);
    let app = &h.app;

    let r = get(app, &e(&format!("/operations/{OP}")), ADMIN).await;
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (StatusCode::OK, json!("D"))
    );

    let r = get(app, &e(&format!("/rivers/{FLOW}/runs?start_time=2026-01-01T00:00:00&end_time=2026-01-02T00:00:00&items_per_page=5")), ADMIN).await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(body["items"][0]["run_id"], RUN);
    assert_eq!(
        body["next_page"], "/v1/x?page=2",
        "links point at the gateway"
    );

    let r = get(
        app,
        &e(&format!("/rivers/{FLOW}/runs?end_time=2026-01-02")),
        ADMIN,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json()["error"]["upstream_detail"][0]["loc"],
        json!(["query", "start_time"])
    );

    let r = get(app, &e(&format!("/rivers/{FLOW}/runs/{RUN}")), ADMIN).await;
    assert_eq!(r.json()["status"], "running");

    let r = get(app, &e(&format!("/rivers/{FLOW}/runs/{RUN}/logs")), ADMIN).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(r.text().contains("1,INFO,ok"));

    let r = get(app, &e("/rivers?river_status=active&name=orders"), ADMIN).await;
    assert_eq!(r.json()["items"][0]["river_cross_id"], FLOW);

    let r = get(app, &e(&format!("/rivers/{FLOW}")), ADMIN).await;
    assert_eq!(r.json()["cross_id"], FLOW);
    assert_eq!(r.json()["metadata"]["river_status"], "active");

    let r = get(app, &e("/connections?page=2"), ADMIN).await;
    assert_eq!(r.json()["items"][0]["connection_type_id"], "mysql");

    let r = get(app, &e(&format!("/connections/{CONN}")), ADMIN).await;
    assert_eq!(r.json()["password_exists"], true);

    let r = get(app, &e("/variables"), ADMIN).await;
    assert_eq!(r.json(), json!({"variables": {"region": "eu"}}));

    let r = get(app, &format!("/v1/accounts/{ACCOUNT}/environments"), ADMIN).await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 2);
    // A key limited to one environment sees only that one.
    let r = get(app, &format!("/v1/accounts/{ACCOUNT}/environments"), OTHER).await;
    let body = r.json();
    let items = body["items"].clone();
    assert_eq!(items.as_array().unwrap().len(), 1);
    assert_eq!(items[0]["cross_id"], OTHER_ENV);
    assert_eq!(
        body["total_items"], 1,
        "the count is that of the visible environments"
    );
    assert_eq!(body["next_page"], json!(null));
}

#[tokio::test]
async fn activities_endpoints_pass_their_queries() {
    let mut m = MockBackend::new();
    m.expect_activities_statistics().returning(|_, q| {
        assert_eq!(q.status, vec!["failed", "running"]);
        assert_eq!(q.is_scheduled, Some(true));
        Ok(json!({"units": 3}))
    });
    m.expect_activities().returning(|_, q| {
        assert_eq!(q.page.map(|p| p.items_per_page), Some(10));
        Ok(page(vec![json!({"river_id": FLOW})], None))
    });
    m.expect_data_flow_statistics()
        .returning(|_, _, _| Ok(json!({"succeeded": 1})));
    m.expect_data_flow_targets().returning(|_, _, q| {
        assert_eq!(q.run_group_id.as_deref(), Some(GROUP));
        Ok(json!([{"target_name": "orders"}]))
    });
    m.expect_data_flow_run_groups()
        .returning(|_, _, _| Ok(page(vec![json!({"run_group_id": GROUP})], None)));
    m.expect_data_flow_run_group().returning(|_, _, g| {
        assert_eq!(g.as_str(), GROUP);
        Ok(json!({"run_group_id": GROUP, "failed": 0}))
    });
    m.expect_data_flow_sub_flows()
        .returning(|_, _, _| Ok(json!({"items": []})));
    let h = harness(m);
    let w = "start_time=2026-01-01T00:00:00&end_time=2026-01-02T00:00:00";
    for (path, pointer, want) in [
        (
            e(&format!(
                "/activities_statistics?{w}&status=failed&status=running&is_scheduled=true"
            )),
            "/units",
            json!(3),
        ),
        (
            e(&format!("/activities?{w}&items_per_page=10")),
            "/items/0/river_id",
            json!(FLOW),
        ),
        (
            e(&format!("/rivers/{FLOW}/activities_statistics?{w}")),
            "/succeeded",
            json!(1),
        ),
        (
            e(&format!(
                "/rivers/{FLOW}/activities_targets?{w}&scheduler_id={GROUP}"
            )),
            "/0/target_name",
            json!("orders"),
        ),
        (
            e(&format!("/rivers/{FLOW}/activities_run_groups?{w}")),
            "/items/0/run_group_id",
            json!(GROUP),
        ),
        (
            e(&format!("/rivers/{FLOW}/activities_run_groups/{GROUP}")),
            "/failed",
            json!(0),
        ),
        (
            e(&format!("/rivers/{FLOW}/activities_sub_rivers?{w}")),
            "/items",
            json!([]),
        ),
    ] {
        let r = get(&h.app, &path, ADMIN).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
        assert_eq!(r.json().pointer(pointer), Some(&want), "{path}");
    }
}

#[tokio::test]
async fn writes_answer_with_the_upstream_statuses() {
    let mut m = MockBackend::new();
    m.expect_create_data_flow().returning(|_, body| {
        assert_eq!(body["name"], "orders");
        Ok(flow_doc("disabled"))
    });
    m.expect_get_data_flow()
        .returning(|_, _| Ok(flow_doc("disabled")));
    m.expect_update_data_flow().returning(|_, _, body| {
        assert_eq!(body["name"], "orders v2");
        let mut f = flow_doc("disabled");
        f.name = "orders v2".into();
        Ok(f)
    });
    m.expect_delete_data_flow().returning(|_, _| Ok(()));
    m.expect_activate_data_flow().returning(|_, _| {
        Ok(Toggle::Started {
            operation: Box::new(operation("W")),
        })
    });
    m.expect_disable_data_flow()
        .returning(|_, _| Ok(Toggle::AlreadyInState));
    m.expect_create_connection()
        .returning(|_, _| Ok(connection()));
    m.expect_update_connection().returning(|_, _, body| {
        assert_eq!(body["connection_name"], "renamed");
        Ok(connection())
    });
    m.expect_delete_connection().returning(|_, _| Ok(()));
    m.expect_upsert_variables().returning(|_, vars| {
        assert_eq!(vars.get("region").map(String::as_str), Some("eu"));
        Ok(())
    });
    let h = harness(m);
    let app = &h.app;
    let doc = json!({"name": "orders", "type": "source_to_target", "metadata": {}, "settings": {}, "properties": {"source": {"name": "mysql"}}});

    let r = call(
        app,
        Method::POST,
        &e("/rivers"),
        Some(ADMIN),
        Some(doc.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["cross_id"], FLOW);

    let mut v2 = doc.clone();
    v2["name"] = json!("orders v2");
    let r = call(
        app,
        Method::PUT,
        &e(&format!("/rivers/{FLOW}")),
        Some(ADMIN),
        Some(v2),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["name"].clone()),
        (StatusCode::OK, json!("orders v2"))
    );

    let r = call(
        app,
        Method::POST,
        &e(&format!("/rivers/{FLOW}/activate_river")),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(r.json()["operation_id"], OP);

    let r = call(
        app,
        Method::POST,
        &e(&format!("/rivers/{FLOW}/disable_river")),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.body.is_empty());

    let r = call(
        app,
        Method::DELETE,
        &e(&format!("/rivers/{FLOW}")),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!((r.status, r.json()), (StatusCode::OK, Value::Null));

    let r = call(
        app,
        Method::POST,
        &e("/connections"),
        Some(ADMIN),
        Some(json!({"connection_name": "shop db", "connection_type": "mysql"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = call(
        app,
        Method::PUT,
        &e(&format!("/connections/{CONN}")),
        Some(ADMIN),
        Some(json!({"connection_name": "renamed"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = call(
        app,
        Method::DELETE,
        &e(&format!("/connections/{CONN}")),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!((r.status, r.json()), (StatusCode::OK, Value::Null));

    let r = call(
        app,
        Method::PUT,
        &e("/variables"),
        Some(ADMIN),
        Some(json!({"variables": {"region": "eu"}})),
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (StatusCode::CREATED, json!({"variables": {"region": "eu"}}))
    );
    let r = call(
        app,
        Method::PUT,
        &e("/variables"),
        Some(ADMIN),
        Some(json!({"variables": {"a.b": "x"}})),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "names with a dot are refused before any call"
    );

    let r = call(
        app,
        Method::POST,
        &e("/rivers"),
        Some(ADMIN),
        Some(json!([1])),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The audit names the created resource and the touched ids.
    let audit = h.audit();
    let targets: Vec<(String, Option<String>, u16)> = audit
        .iter()
        .map(|a| (a.route.clone(), a.target.clone(), a.status))
        .collect();
    assert_eq!(
        targets[0],
        (
            "/v1/accounts/{account}/environments/{env}/rivers".to_owned(),
            Some(FLOW.to_owned()),
            201
        )
    );
    assert_eq!(targets[5].1.as_deref(), Some(CONN));
    assert!(audit.iter().all(|a| a.key == "admin"));
}

#[tokio::test]
async fn runs_pass_through_and_are_throttled_per_flow_before_the_upstream() {
    let mut m = MockBackend::new();
    m.expect_run_data_flow().times(2).returning(|_, _, subs| {
        assert!(subs);
        Ok(triggered())
    });
    let h = harness(m);
    let path = e(&format!("/rivers/{FLOW}/run?run_sub_rivers=true"));
    for key in [ADMIN, ADMIN2] {
        let r = call(&h.app, Method::POST, &path, Some(key), None).await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
        assert_eq!(r.json()["run_group_id"], GROUP);
    }
    // The third run of the flow within a minute, from either key, is refused locally.
    let r = call(&h.app, Method::POST, &path, Some(ADMIN), None).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let after: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&after), "{after}");
    insta::assert_json_snapshot!("throttled_per_flow", r.json(), {".error.message" => "[message]", ".error.hint" => "[hint]"});
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("data flow {FLOW}"))
    );
    let metrics = h.state.metrics().render();
    assert!(
        metrics.contains("bdi_gateway_throttle_refusals_total{limit=\"data_flow\"} 1"),
        "{metrics}"
    );
    assert_eq!(h.audit().last().unwrap().status, 429);
}

#[tokio::test]
async fn the_per_key_limit_spares_other_keys() {
    let mut m = MockBackend::new();
    m.expect_run_data_flow()
        .times(3)
        .returning(|_, _, _| Ok(triggered()));
    let h = harness_with(m, Some(limiter(100, 2)));
    let flows = [
        "507f191e810c19729de860e1",
        "507f191e810c19729de860e2",
        "507f191e810c19729de860e3",
    ];
    for f in &flows[..2] {
        let r = call(
            &h.app,
            Method::POST,
            &e(&format!("/rivers/{f}/run")),
            Some(ADMIN),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
    }
    let r = call(
        &h.app,
        Method::POST,
        &e(&format!("/rivers/{}/run", flows[2])),
        Some(ADMIN),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let msg = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(msg.contains("key admin started 2 runs"), "{msg}");
    assert!(r.headers.contains_key("retry-after"));
    let r = call(
        &h.app,
        Method::POST,
        &e(&format!("/rivers/{}/run", flows[2])),
        Some(ADMIN2),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert!(
        h.state
            .metrics()
            .render()
            .contains("bdi_gateway_throttle_refusals_total{limit=\"key\"} 1")
    );
}

/// A mock whose every paged list has a next page on the upstream's host.
fn paged_mock() -> MockBackend {
    const NEXT: Option<&str> = Some("https://api.rivery.io/v1/next?page=2");
    let mut m = MockBackend::new();
    m.expect_list_runs()
        .returning(|_, _, _| Ok(page(vec![run("succeeded")], NEXT)));
    m.expect_list_data_flows()
        .returning(|_, _| Ok(page(vec![], NEXT)));
    m.expect_list_environments()
        .returning(|_, _| Ok(page(vec![], NEXT)));
    m.expect_list_connections()
        .returning(|_, _| Ok(page(vec![connection()], NEXT)));
    m.expect_activities()
        .returning(|_, _| Ok(page(vec![json!({})], NEXT)));
    m.expect_data_flow_run_groups()
        .returning(|_, _, _| Ok(page(vec![json!({})], NEXT)));
    m
}

fn paged_paths() -> Vec<String> {
    let w = "start_time=2026-01-01T00:00:00&end_time=2026-01-02T00:00:00";
    vec![
        e(&format!("/rivers/{FLOW}/runs?{w}")),
        e("/rivers"),
        format!("/v1/accounts/{ACCOUNT}/environments"),
        e("/connections"),
        e(&format!("/activities?{w}")),
        e(&format!("/rivers/{FLOW}/activities_run_groups?{w}")),
    ]
}

async fn next_page_with_hostile_headers(h: &Harness, path: &str) -> Value {
    let req = Request::builder()
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
        .header(header::HOST, "evil.example")
        .header("x-forwarded-proto", "javascript")
        .header("x-forwarded-host", "evil.example")
        .header("forwarded", "host=evil.example;proto=https")
        .body(Body::empty())
        .unwrap();
    let r = send(&h.app, req).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
    let text = r.text();
    assert!(
        !text.contains("evil") && !text.contains("javascript"),
        "{path}: {text}"
    );
    r.json()["next_page"].clone()
}

#[tokio::test]
async fn page_links_never_come_from_request_headers() {
    let h = harness(paged_mock());
    for path in paged_paths() {
        let next = next_page_with_hostile_headers(&h, &path).await;
        assert_eq!(
            next,
            json!("/v1/next?page=2"),
            "{path}: relative to the root"
        );
    }

    let mut config = config(Arc::new(paged_mock()));
    config.public_url = Some(parse_public_url("https://gw.example:8443").unwrap());
    let h = harness_of(config);
    for path in paged_paths() {
        let next = next_page_with_hostile_headers(&h, &path).await;
        assert_eq!(
            next,
            json!("https://gw.example:8443/v1/next?page=2"),
            "{path}: under --public-url"
        );
    }
}
