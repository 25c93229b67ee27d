//! Unit tests of the endpoint helpers: response variants (toggles, logs, variables, bare lists),
//! the Activities query parameters, and the 202 "logs still preparing" loop.

use std::time::Duration;

use bdi_domain::models::{SortOrder, Timestamp};
use bdi_domain::{AccountId, EnvironmentId};

use super::*;
use crate::config::ClientConfig;
use crate::retry::RetryPolicy;
use crate::test_server::{Canned, serve};

fn raw(status: u16, body: &str) -> Raw {
    Raw {
        status,
        content_type: Some("application/json".to_owned()),
        retry_after: None,
        body: body.to_owned(),
    }
}

const OP: &str = r#"{"operation_id":"62e7f4352c13160013dc39be","status":"W","result":null}"#;

#[test]
fn toggle_answers() {
    assert!(matches!(
        toggle_of(&raw(202, OP)),
        Ok(Toggle::Started { .. })
    ));
    assert!(matches!(
        toggle_of(&raw(200, OP)),
        Ok(Toggle::Started { .. })
    ));
    for (status, body) in [
        (204, ""),
        (200, ""),
        (202, "  "),
        (200, "null"),
        (200, r#"{"status":"D"}"#),
        (200, r#"{"operation_id":""}"#),
    ] {
        assert_eq!(
            toggle_of(&raw(status, body)).ok(),
            Some(Toggle::AlreadyInState),
            "{status} {body:?}"
        );
    }
    assert!(matches!(
        toggle_of(&raw(202, r#"{"status":"W"}"#)),
        Err(Error::Decode { .. })
    ));
}

#[test]
fn logs_are_text_whatever_the_content_type() {
    let mut r = raw(200, "ts,level,message\n1,INFO,started\n");
    r.content_type = Some("text/html; charset=utf-8".to_owned());
    assert_eq!(logs_text(r), "ts,level,message\n1,INFO,started\n");
    assert_eq!(logs_text(raw(200, r#""a,b\n1,2""#)), "a,b\n1,2");
    assert_eq!(logs_text(raw(200, "null")), "");
    assert_eq!(logs_text(raw(200, "")), "");
}

#[test]
fn variables_answers() {
    let vars = variables_of(&raw(200, r#"{"variables":{"A":"1","B":2,"C":null}}"#)).expect("ok");
    assert_eq!(vars.get("A").map(String::as_str), Some("1"));
    assert_eq!(vars.get("B").map(String::as_str), Some("2"));
    assert_eq!(vars.get("C").map(String::as_str), Some(""));
    assert!(
        variables_of(&raw(200, r#"{"variables":null}"#))
            .expect("ok")
            .is_empty()
    );
    assert!(matches!(
        variables_of(&raw(200, r#"{"vars":{}}"#)),
        Err(Error::Decode { .. })
    ));
}

#[test]
fn lists_accept_envelopes_data_and_bare_arrays() {
    let p: Page<Value> = decode_page(&raw(200, r#"[{"a":1},{"a":2}]"#)).expect("bare array");
    assert_eq!((p.items.len(), p.next_page), (2, None));
    let p: Page<Value> =
        decode_page(&raw(200, r#"{"data":[{"a":1}],"total_items":1}"#)).expect("data");
    assert_eq!(p.items.len(), 1);
    let err = decode_page::<Value>(&raw(200, r#"{"page":1}"#)).expect_err("no items");
    assert!(matches!(err, Error::Decode { .. }));
}

fn pairs(q: &Query) -> Vec<(&str, &str)> {
    q.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn activity_queries_send_only_what_each_endpoint_takes() {
    let aq = ActivityQuery {
        start_time: Some(Timestamp::parse("2026-05-01T00:00:00Z").expect("valid")),
        end_time: Some(Timestamp::parse("2026-05-02T00:00:00Z").expect("valid")),
        status: vec!["failed".to_owned(), "running".to_owned()],
        group_id: Some("g".to_owned()),
        is_scheduled: Some(true),
        search: Some("orders".to_owned()),
        river_type: Some("src_to_trgt".to_owned()),
        target_name: Some("t".to_owned()),
        run_group_id: Some("201dcf8182ad4a59868cb41b957fdc8d".to_owned()),
        sub_river_id: Some("s".to_owned()),
        page: None,
        sort_by: Some("last_run".to_owned()),
        sort_order: Some(SortOrder::Asc),
        return_last_runs: Some(true),
    };
    let targets = activity_query(Activity::FlowTargets, &aq);
    let t = pairs(&targets);
    assert!(t.contains(&("scheduler_id", "201dcf8182ad4a59868cb41b957fdc8d")));
    assert!(!t.iter().any(|(k, _)| *k == "run_group_id" || *k == "page"));
    assert_eq!(t.iter().filter(|(k, _)| *k == "status").count(), 2);
    assert!(t.contains(&("start_time", "2026-05-01T00:00:00")));

    let groups = activity_query(Activity::FlowRunGroups, &aq);
    let g = pairs(&groups);
    assert!(g.contains(&("page", "1")) && g.contains(&("items_per_page", "100")));
    assert!(!g.iter().any(|(k, _)| *k == "scheduler_id"));

    let env = activity_query(Activity::EnvActivities, &aq);
    let e = pairs(&env);
    for key in [
        "group_id",
        "is_scheduled",
        "search",
        "river_type",
        "return_last_runs",
        "page",
    ] {
        assert!(e.iter().any(|(k, _)| *k == key), "activities takes {key}");
    }
    let stats = activity_query(Activity::FlowStatistics, &aq);
    let keys: Vec<&str> = stats.iter().map(|(k, _)| *k).collect();
    assert_eq!(keys, vec!["start_time", "end_time", "status", "status"]);
}

fn backend(base: &str) -> HttpBackend {
    let cfg = ClientConfig::new(
        base,
        "token-for-tests",
        AccountId::parse("5f5b1c2d3e4f5a6b7c8d9e0f").expect("valid id"),
    )
    .expect("valid")
    .with_default_environment(Some(
        EnvironmentId::parse("6a6b6c6d6e6f707172737475").expect("valid id"),
    ))
    .with_retry(RetryPolicy {
        max_retries: 2,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(2),
        default_429_wait: Duration::from_millis(1),
        max_429_wait: Duration::from_millis(2),
    });
    HttpBackend::new(cfg).expect("builds")
}

#[tokio::test]
async fn logs_still_preparing_are_retried_a_few_times() {
    let (base, recorded) = serve(vec![
        Canned::new(202, "downloading logs is still in progress"),
        Canned::new(202, ""),
        Canned::new(200, "a,b\n1,2\n").header("content-type", "text/html"),
    ])
    .await;
    let flow = DataFlowId::parse("507f191e810c19729de860ea").expect("valid id");
    let run = RunId::parse("5658a1c9ea724ee59f048cbb5a6f734a").expect("valid id");
    let logs = backend(&base)
        .get_run_logs(&Env::Default, &flow, &run)
        .await
        .expect("logs");
    assert_eq!(logs, "a,b\n1,2\n");
    assert_eq!(recorded.lock().expect("not poisoned").len(), 3);

    // Still preparing after every retry: return what is there.
    let (base, recorded) = serve(vec![Canned::new(202, "")]).await;
    let logs = backend(&base)
        .get_run_logs(&Env::Default, &flow, &run)
        .await
        .expect("logs");
    assert_eq!(logs, "");
    assert_eq!(
        recorded.lock().expect("not poisoned").len(),
        1 + LOG_PREPARING_RETRIES as usize
    );
}

#[tokio::test]
async fn writes_send_json_and_accept_empty_answers() {
    let (base, recorded) = serve(vec![Canned::new(204, "")]).await;
    let vars: Variables = [("K".to_owned(), "v".to_owned())].into_iter().collect();
    backend(&base)
        .upsert_variables(&Env::Default, &vars)
        .await
        .expect("204 is fine");
    let req = recorded.lock().expect("not poisoned")[0].clone();
    assert!(req.starts_with(
        "PUT /v1/accounts/5f5b1c2d3e4f5a6b7c8d9e0f/environments/6a6b6c6d6e6f707172737475/variables "
    ));
    assert!(
        req.to_ascii_lowercase()
            .contains("content-type: application/json")
    );
    assert!(req.ends_with(r#"{"variables":{"K":"v"}}"#), "{req}");

    let (base, _) = serve(vec![Canned::json(200, "null")]).await;
    let flow = DataFlowId::parse("507f191e810c19729de860ea").expect("valid id");
    backend(&base)
        .delete_data_flow(&Env::Default, &flow)
        .await
        .expect("null body is fine");
}
