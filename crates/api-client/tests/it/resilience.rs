//! Faults: 429 with `Retry-After` (retried for idempotent methods, handed back at once for a POST), 5xx
//! and lost responses (retried for GET, never for POST: a run must not start twice), timeouts,
//! authentication errors, and a base URL with a trailing slash.

use std::time::Duration;

use bdi_domain::models::{PageQuery, RunQuery};
use bdi_domain::{AccountId, Backend, Error};
use bdi_sandbox::demo;

use crate::support::{env, fast_policy, flow, last_minutes, start};

const RUN_PATH: &str = "/rivers/65c1d2e3f4a5b6c7d8e9f001/run";
const FLOW_PATH: &str = "/rivers/65c1d2e3f4a5b6c7d8e9f001";

#[tokio::test]
async fn a_rate_limited_get_is_retried_after_retry_after() {
    let h = start().await;
    h.control().rate_limit_next("GET", FLOW_PATH, Some(1), 2);
    h.backend
        .get_data_flow(&env(), &flow(demo::ORDERS_FLOW_ID))
        .await
        .expect("third attempt succeeds");
    assert_eq!(h.control().request_count("GET", FLOW_PATH), 3);
}

#[tokio::test]
async fn a_refused_run_comes_back_at_once_with_its_retry_time_and_is_not_repeated() {
    let h = start().await;
    h.control().rate_limit_next("POST", RUN_PATH, Some(60), 1);
    let err = h
        .backend
        .run_data_flow(&env(), &flow(demo::ORDERS_FLOW_ID), false)
        .await
        .expect_err("the refusal is the caller's to handle");
    assert!(
        matches!(&err, Error::RateLimited { retry_after: Some(d), .. } if *d == Duration::from_secs(60)),
        "{err:?}"
    );
    assert_eq!(h.control().request_count("POST", RUN_PATH), 1);
}

#[tokio::test]
async fn exhausted_rate_limit_retries_surface_retry_after() {
    let h = start().await;
    h.control().rate_limit_next("GET", FLOW_PATH, Some(7), 10);
    let err = h
        .backend
        .get_data_flow(&env(), &flow(demo::ORDERS_FLOW_ID))
        .await
        .expect_err("still limited");
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(7)),
        "{err:?}"
    );
    assert_eq!(
        h.control().request_count("GET", FLOW_PATH),
        1 + fast_policy().max_retries as usize
    );
}

#[tokio::test]
async fn server_errors_are_retried_for_get_and_put() {
    let h = start().await;
    let c = h.control();
    c.fail_next("GET", FLOW_PATH, 503, 2);
    let doc = h
        .backend
        .get_data_flow(&env(), &flow(demo::ORDERS_FLOW_ID))
        .await
        .expect("retried");
    assert_eq!(c.request_count("GET", FLOW_PATH), 3);

    c.fail_next("GET", "/variables", 500, 1);
    h.backend
        .list_variables(&env())
        .await
        .expect("variables retried");
    assert_eq!(c.request_count("GET", "/variables"), 2);

    c.fail_next("PUT", "/variables", 502, 1);
    h.backend
        .upsert_variables(
            &env(),
            &[("RETRIED".to_owned(), "yes".to_owned())]
                .into_iter()
                .collect(),
        )
        .await
        .expect("put retried");
    assert_eq!(c.request_count("PUT", "/variables"), 2);
    assert!(doc.is_active());
}

#[tokio::test]
async fn a_run_post_is_sent_exactly_once_on_a_server_error() {
    let h = start().await;
    h.control().fail_next("POST", RUN_PATH, 503, 1);
    let err = h
        .backend
        .run_data_flow(&env(), &flow(demo::ORDERS_FLOW_ID), false)
        .await
        .expect_err("not retried");
    assert!(
        matches!(err, Error::Upstream { status: 503, .. }),
        "{err:?}"
    );
    assert_eq!(h.control().request_count("POST", RUN_PATH), 1);
}

#[tokio::test]
async fn a_lost_run_response_is_not_replayed() {
    let h = start().await;
    h.control().drop_next("POST", RUN_PATH, 1);
    let err = h
        .backend
        .run_data_flow(&env(), &flow(demo::ORDERS_FLOW_ID), false)
        .await
        .expect_err("the response was lost");
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(h.control().request_count("POST", RUN_PATH), 1);
    // The run did start upstream: exactly one trigger's runs exist, for the domain to reconcile.
    let (start_time, end_time) = last_minutes(30);
    let runs = h
        .backend
        .list_runs(
            &env(),
            &flow(demo::ORDERS_FLOW_ID),
            &RunQuery::window(start_time, end_time),
        )
        .await
        .expect("list");
    assert_eq!(runs.items.len(), 3);

    // A lost GET is simply asked again.
    let before = h.control().request_count("GET", FLOW_PATH);
    h.control().drop_next("GET", FLOW_PATH, 1);
    h.backend
        .get_data_flow(&env(), &flow(demo::ORDERS_FLOW_ID))
        .await
        .expect("retried");
    assert_eq!(h.control().request_count("GET", FLOW_PATH), before + 2);
}

#[tokio::test]
async fn a_slow_server_times_out_as_a_transport_error() {
    let h = start().await;
    let mut cfg = h.config(None);
    cfg.timeout = Duration::from_millis(50);
    cfg.retry = bdi_api_client::RetryPolicy::none();
    let backend = h.backend_with(cfg);
    h.control().set_latency(Duration::from_millis(300));
    let err = backend
        .get_data_flow(&env(), &flow(demo::ORDERS_FLOW_ID))
        .await
        .expect_err("too slow");
    let Error::Transport(msg) = &err else {
        panic!("expected a transport error, got {err:?}");
    };
    assert!(msg.contains("timed out"), "{msg}");
}

#[tokio::test]
async fn a_trailing_slash_base_url_still_reaches_v1() {
    let h = start().await;
    let base = format!("{}//", h.sandbox.base_url());
    let backend = h.backend_with(h.config(Some(&base)));
    backend
        .list_environments(PageQuery::default(), false)
        .await
        .expect("no //v1 path");
    assert_eq!(h.control().request_count("GET", "//v1"), 0);
}

#[tokio::test]
async fn a_wrong_token_or_account_is_an_auth_error() {
    let h = start().await;
    let mut cfg = h.config(None);
    cfg.token = bdi_api_client::Secret::new("not-the-token");
    let err = h
        .backend_with(cfg)
        .list_environments(PageQuery::default(), false)
        .await
        .expect_err("401");
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert!(!err.to_string().contains("not-the-token"), "{err}");

    let mut cfg = h.config(None);
    cfg.account_id = AccountId::parse("0123456789abcdef01234567").expect("valid id");
    let err = h
        .backend_with(cfg)
        .list_environments(PageQuery::default(), false)
        .await
        .expect_err("403");
    assert!(matches!(err, Error::Forbidden { .. }), "{err:?}");
}

#[tokio::test]
async fn env_default_without_a_configured_environment_is_a_config_error() {
    let h = start().await;
    let mut cfg = h.config(None);
    cfg.default_environment = None;
    let backend = h.backend_with(cfg);
    let err = backend
        .list_variables(&env())
        .await
        .expect_err("no environment");
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert_eq!(
        h.control().request_count("", "/variables"),
        0,
        "no request was made"
    );
    // Account-scoped calls need no environment.
    backend
        .list_environments(PageQuery::default(), false)
        .await
        .expect("account scope");
}
