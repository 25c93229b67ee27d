//! Unit tests of the transport: client construction (https included), headers, redaction,
//! environment resolution, decoding and error mapping against a scripted loopback server.

use bdi_domain::Backend;

use super::*;
use crate::test_server::{Canned, serve};

const ACCOUNT: &str = "5f5b1c2d3e4f5a6b7c8d9e0f";
const ENVIRONMENT: &str = "6a6b6c6d6e6f707172737475";
const FLOW: &str = "507f191e810c19729de860ea";
const TOKEN: &str = "tok-SECRET-0123456789abcdef";

fn config(base: &str) -> ClientConfig {
    ClientConfig::new(
        base,
        &format!("Bearer {TOKEN}"),
        AccountId::parse(ACCOUNT).expect("valid id"),
    )
    .expect("valid config")
    .with_default_environment(Some(EnvironmentId::parse(ENVIRONMENT).expect("valid id")))
    .with_retry(RetryPolicy {
        max_retries: 2,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(2),
        default_429_wait: Duration::from_millis(1),
        max_429_wait: Duration::from_millis(2),
    })
}

fn flow() -> bdi_domain::DataFlowId {
    bdi_domain::DataFlowId::parse(FLOW).expect("valid id")
}

#[test]
fn an_https_client_builds_for_every_region() {
    for region in crate::Region::ALL {
        let backend = HttpBackend::new(config(region.as_str())).expect("https client builds");
        assert_eq!(backend.base_url(), region.base_url());
    }
}

#[test]
fn debug_never_shows_the_token() {
    let cfg = config("https://api.rivery.io/");
    let backend = HttpBackend::new(cfg.clone()).expect("builds");
    for text in [
        format!("{cfg:?}"),
        format!("{cfg:#?}"),
        format!("{backend:?}"),
        format!("{backend:#?}"),
    ] {
        assert!(!text.contains(TOKEN), "{text}");
        assert!(!text.contains("SECRET"), "{text}");
    }
    assert!(format!("{backend:?}").contains(ACCOUNT));
}

#[test]
fn an_empty_or_unsendable_token_is_a_config_error() {
    let mut cfg = config("us");
    cfg.token = Secret::new("");
    assert!(matches!(HttpBackend::new(cfg), Err(Error::Config(_))));
    let mut cfg = config("us");
    cfg.token = Secret::new("line\nbreak");
    let err = HttpBackend::new(cfg).expect_err("newline in a header");
    assert!(matches!(err, Error::Config(_)));
    assert!(!err.to_string().contains("line\nbreak"));
}

#[test]
fn env_default_needs_a_configured_environment() {
    let mut cfg = config("us");
    cfg.default_environment = None;
    let backend = HttpBackend::new(cfg).expect("builds");
    let err = backend.env_path(&Env::Default).expect_err("no default");
    let Error::Config(msg) = err else {
        panic!("expected a config error");
    };
    assert!(msg.contains("DATA_INTEGRATION_ENVIRONMENT_ID") && msg.contains("environment_id"));
    let explicit = Env::Id(EnvironmentId::parse(ENVIRONMENT).expect("valid id"));
    assert_eq!(
        backend.env_path(&explicit).expect("explicit id"),
        format!("/v1/accounts/{ACCOUNT}/environments/{ENVIRONMENT}")
    );
}

#[tokio::test]
async fn every_request_carries_the_auth_and_attribution_headers() {
    let (base, recorded) = serve(vec![Canned::json(
        200,
        r#"{"operation_id":"62e7f4352c13160013dc39be","status":"D","result":"true"}"#,
    )])
    .await;
    let backend = HttpBackend::new(config(&format!("{base}/"))).expect("builds");
    let op = bdi_domain::OperationId::parse("62e7f4352c13160013dc39be").expect("valid id");
    let got = backend
        .get_operation(&Env::Default, &op)
        .await
        .expect("decodes");
    assert!(got.status.is_terminal());
    let requests = recorded.lock().expect("not poisoned");
    let req = requests[0].to_ascii_lowercase();
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        req.starts_with(&format!(
            "get /v1/accounts/{ACCOUNT}/environments/{ENVIRONMENT}/operations/62e7f4352c13160013dc39be http/1.1"
        )),
        "no double slash: {req}"
    );
    assert!(req.contains(&format!(
        "authorization: bearer {}",
        TOKEN.to_ascii_lowercase()
    )));
    assert!(!req.contains("bearer bearer"));
    assert!(req.contains("accept: application/json"));
    assert!(req.contains(&format!("user-agent: bdi/{version}")));
    assert!(req.contains(&format!(
        "x-boomi-plugin: bdi/{version} (account={ACCOUNT})"
    )));
}

#[tokio::test]
async fn an_echoed_token_is_scrubbed_from_errors() {
    let (base, _) = serve(vec![Canned::new(
        500,
        &format!("crash while handling Bearer {TOKEN}"),
    )])
    .await;
    let backend = HttpBackend::new(config(&base)).expect("builds");
    let err = backend
        .get_data_flow(&Env::Default, &flow())
        .await
        .expect_err("500");
    assert!(matches!(err, Error::Upstream { status: 500, .. }));
    assert!(!err.to_string().contains(TOKEN), "{err}");
}

#[tokio::test]
async fn a_short_echoed_token_is_scrubbed_too() {
    // Tokens shorter than 8 characters used to pass through unscrubbed.
    let short = "q7z";
    let config = |base: &str| {
        ClientConfig::new(base, short, AccountId::parse(ACCOUNT).expect("valid id"))
            .expect("valid config")
            .with_default_environment(Some(EnvironmentId::parse(ENVIRONMENT).expect("valid id")))
    };
    let (base, _) = serve(vec![Canned::json(
        400,
        &format!(r#"{{"detail": "token {short} is not allowed here"}}"#),
    )])
    .await;
    let backend = HttpBackend::new(config(&base)).expect("builds");
    let err = backend
        .get_data_flow(&Env::Default, &flow())
        .await
        .expect_err("400");
    let text = err.to_string();
    assert!(!text.contains(short), "{text}");
    assert!(text.contains("token *** is not allowed"), "{text}");
}

#[test]
fn scrubbing_replaces_every_occurrence_and_an_empty_secret_changes_nothing() {
    let check = |text: &str, secret: &str, expected: &str| {
        assert_eq!(
            scrub_secret(text.to_owned(), secret),
            expected,
            "{text:?} {secret:?}"
        );
    };
    check("Bearer abc, again abc", "abc", "Bearer ***, again ***");
    check("x", "x", "***");
    check("no secret here", "", "no secret here");
    check("", "", "");
    check("a*b", "*", "a***b");
}

#[tokio::test]
async fn transport_errors_name_the_call_but_not_the_token() {
    // Bind then drop a listener so that the port refuses connections.
    let port = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        l.local_addr().expect("addr").port()
    };
    let backend = HttpBackend::new(config(&format!("http://127.0.0.1:{port}"))).expect("builds");
    let err = backend
        .get_data_flow(&Env::Default, &flow())
        .await
        .expect_err("nothing listens");
    let Error::Transport(msg) = &err else {
        panic!("expected a transport error, got {err:?}");
    };
    assert!(msg.contains("GET /v1/accounts/"), "{msg}");
    assert!(!msg.contains(TOKEN), "{msg}");
}

#[tokio::test]
async fn decode_failures_name_the_field_path() {
    let (base, _) = serve(vec![Canned::json(
        200,
        r#"{"operation_id":"62e7f4352c13160013dc39be","status":"D","last_update_date":"2022-08-02","result":null,"error_message":7}"#,
    )])
    .await;
    let backend = HttpBackend::new(config(&base)).expect("builds");
    let op = bdi_domain::OperationId::parse("62e7f4352c13160013dc39be").expect("valid id");
    let err = backend
        .get_operation(&Env::Default, &op)
        .await
        .expect_err("error_message is not a string");
    let Error::Decode { path, .. } = &err else {
        panic!("expected a decode error, got {err:?}");
    };
    assert_eq!(path, "error_message");
}

#[test]
fn decode_reports_empty_bodies() {
    let raw = Raw {
        status: 200,
        content_type: None,
        retry_after: None,
        body: " ".to_owned(),
    };
    let err = decode::<Value>(&raw).expect_err("empty");
    assert!(matches!(err, Error::Decode { .. }));
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_refused_and_nothing_reaches_it() {
    let (elsewhere, reached) = serve(vec![Canned::json(200, "{}")]).await;
    let op = bdi_domain::OperationId::parse("62e7f4352c13160013dc39be").expect("valid id");
    for status in [301, 302, 303, 307, 308] {
        let (base, recorded) = serve(vec![
            Canned::new(status, "").header("location", &format!("{elsewhere}/v1/steal?x=1")),
        ])
        .await;
        let backend = HttpBackend::new(config(&format!("{base}/"))).expect("builds");
        let read = backend.get_operation(&Env::Default, &op).await;
        let write = backend
            .create_data_flow(&Env::Default, &serde_json::Map::new())
            .await;
        for e in [
            read.expect_err("not followed"),
            write.expect_err("not followed"),
        ] {
            let text = e.to_string();
            assert!(matches!(e, Error::Config(_)), "{status}: {e:?}");
            assert!(
                text.contains("another origin") && text.contains(&elsewhere),
                "{status}: {text}"
            );
            assert!(!text.contains("steal") && !text.contains(TOKEN), "{text}");
            assert!(!e.is_transient(), "a redirect elsewhere is not retried");
        }
        assert_eq!(recorded.lock().expect("not poisoned").len(), 2, "no retry");
    }
    assert!(
        reached.lock().expect("not poisoned").is_empty(),
        "the other host got no request, so no token and no body"
    );
}

#[tokio::test]
async fn a_redirect_within_the_origin_is_followed_a_few_times_at_most() {
    let (base, recorded) = serve(vec![
        Canned::new(307, "").header("location", "/v1/moved"),
        Canned::json(
            200,
            r#"{"operation_id":"62e7f4352c13160013dc39be","status":"D","result":"true"}"#,
        ),
    ])
    .await;
    let op = bdi_domain::OperationId::parse("62e7f4352c13160013dc39be").expect("valid id");
    let backend = HttpBackend::new(config(&format!("{base}/"))).expect("builds");
    backend
        .get_operation(&Env::Default, &op)
        .await
        .expect("followed within the origin");
    let requests = recorded.lock().expect("not poisoned").clone();
    assert!(requests[1].starts_with("GET /v1/moved"), "{requests:?}");

    let (base, _) = serve(vec![Canned::new(302, "").header("location", "/v1/again")]).await;
    let backend = HttpBackend::new(config(&format!("{base}/"))).expect("builds");
    let e = backend
        .get_operation(&Env::Default, &op)
        .await
        .expect_err("a loop");
    assert!(e.to_string().contains("redirects in a row"), "{e}");
}
