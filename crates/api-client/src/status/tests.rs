//! Unit tests of status classification: one table of (status, body, call) -> expected error.

use bdi_domain::{Error, StateConflict};

use super::*;

/// What a classified error should look like, compactly.
#[derive(Debug, PartialEq)]
enum Want {
    Unauthorized,
    Forbidden,
    NotFound,
    Validation(u16),
    State(StateConflict),
    RateLimited,
    Upstream(u16),
}

fn want_of(e: &Error) -> Want {
    match e {
        Error::Unauthorized { .. } => Want::Unauthorized,
        Error::Forbidden { .. } => Want::Forbidden,
        Error::NotFound { .. } => Want::NotFound,
        Error::Validation { status, .. } => Want::Validation(*status),
        Error::State { conflict, .. } => Want::State(*conflict),
        Error::RateLimited { .. } => Want::RateLimited,
        Error::Upstream { status, .. } => Want::Upstream(*status),
        other => panic!("unexpected variant {other:?}"),
    }
}

#[test]
fn classification_table() {
    use CallKind as K;
    use StateConflict as S;
    let cases: &[(u16, &str, CallKind, Want)] = &[
        (
            401,
            r#"{"detail":"Invalid token"}"#,
            K::Other,
            Want::Unauthorized,
        ),
        (
            403,
            r#"{"detail":"Missing scope"}"#,
            K::Other,
            Want::Forbidden,
        ),
        (
            404,
            r#"{"detail":"River not found"}"#,
            K::GetFlow,
            Want::NotFound,
        ),
        (404, "", K::Other, Want::NotFound),
        (
            422,
            r#"{"detail":[{"type":"missing","loc":["query","start_time"],"msg":"Field required"}]}"#,
            K::Other,
            Want::Validation(422),
        ),
        (
            422,
            r#"{"detail":"run_type cannot change"}"#,
            K::UpdateFlow,
            Want::Validation(422),
        ),
        (
            429,
            r#"{"detail":"Too many runs"}"#,
            K::RunFlow,
            Want::RateLimited,
        ),
        (
            400,
            r#"{"detail":"can not update properties for an active data flow. Please disable the data flow and try again"}"#,
            K::UpdateFlow,
            Want::State(S::ActiveFlow),
        ),
        (
            400,
            r#"{"detail":"Please disable the data flow before deleting it"}"#,
            K::DeleteFlow,
            Want::State(S::ActiveFlow),
        ),
        (
            400,
            r#"{"detail":"Cannot delete an active river"}"#,
            K::DeleteFlow,
            Want::State(S::ActiveFlow),
        ),
        (
            400,
            r#"{"detail":"This river was created in the UI and is not supported (is_api_v2=false)"}"#,
            K::GetFlow,
            Want::State(S::LegacyFlow),
        ),
        (
            400,
            r#"{"message":"Bad request"}"#,
            K::GetFlow,
            Want::State(S::LegacyFlow),
        ),
        (
            400,
            r#"{"detail":"The data flow is not active. Please activate it first"}"#,
            K::RunFlow,
            Want::State(S::NotActive),
        ),
        (
            400,
            r#"{"detail":"River is disabled"}"#,
            K::RunFlow,
            Want::State(S::NotActive),
        ),
        (
            400,
            r#"{"detail":"No tables were selected for this river"}"#,
            K::RunFlow,
            Want::State(S::NoTables),
        ),
        (
            400,
            r#"{"detail":"Source schemas are empty"}"#,
            K::RunFlow,
            Want::State(S::NoTables),
        ),
        (
            400,
            r#"{"detail":"disable_river is not supported for logic river types"}"#,
            K::ToggleFlow,
            Want::State(S::LogicFlow),
        ),
        (
            400,
            r#"{"detail":"Something else"}"#,
            K::RunFlow,
            Want::Validation(400),
        ),
        (
            400,
            r#"{"detail":"The connection does not match to the provided connection_type"}"#,
            K::Other,
            Want::Validation(400),
        ),
        (
            400,
            r#"{"detail":"The river is active"}"#,
            K::Other,
            Want::Validation(400),
        ),
        (500, "Internal Server Error", K::Other, Want::Upstream(500)),
        (503, "", K::RunFlow, Want::Upstream(503)),
        (
            405,
            r#"{"detail":"Method Not Allowed"}"#,
            K::Other,
            Want::Upstream(405),
        ),
    ];
    for (status, body, kind, want) in cases {
        let err = classify(
            *status,
            body,
            *kind,
            "data flow 5f5b1c2d3e4f5a6b7c8d9e0f",
            None,
        );
        assert_eq!(&want_of(&err), want, "{status} {body} {kind:?}: {err:?}");
    }
}

#[test]
fn messages_come_from_detail_message_or_the_raw_body() {
    assert_eq!(message_of(r#"{"detail":"gone"}"#), "gone");
    assert_eq!(
        message_of(r#"{"message":"legacy says no"}"#),
        "legacy says no"
    );
    assert_eq!(message_of("plain text\n"), "plain text");
    assert_eq!(message_of(r#""a json string""#), "a json string");
    assert_eq!(
        message_of(
            r#"{"detail":[{"msg":"Field required"},{"msg":"Extra inputs are not permitted"}]}"#
        ),
        "Field required; Extra inputs are not permitted"
    );
    let long = "x".repeat(2000);
    let cut = message_of(&long);
    assert!(cut.chars().count() <= MAX_BODY_CHARS + 3, "{}", cut.len());
}

#[test]
fn a_422_keeps_the_pydantic_detail_list() {
    let body = r#"{"detail":[
        {"type":"extra_forbidden","loc":["body","cross_id"],"msg":"Extra inputs are not permitted","input":"x"},
        {"type":"missing","loc":["query","end_time"],"msg":"Field required"}
    ]}"#;
    let Error::Validation {
        status,
        detail,
        message,
    } = classify(422, body, CallKind::Other, "x", None)
    else {
        panic!("expected a validation error");
    };
    assert_eq!(status, 422);
    assert_eq!(detail.len(), 2);
    assert_eq!(detail[0].kind, "extra_forbidden");
    assert_eq!(
        detail[0].loc,
        vec![serde_json::json!("body"), serde_json::json!("cross_id")]
    );
    assert_eq!(detail[1].msg, "Field required");
    assert!(message.contains("Extra inputs"), "{message}");
}

#[test]
fn not_found_names_the_resource_and_rate_limits_keep_retry_after() {
    let err = classify(
        404,
        r#"{"detail":"nope"}"#,
        CallKind::GetFlow,
        "data flow abc",
        None,
    );
    assert!(matches!(&err, Error::NotFound { what, .. } if what == "data flow abc"));
    assert!(
        err.to_string().starts_with("data flow abc not found"),
        "{err}"
    );
    let wait = Some(Duration::from_secs(7));
    let err = classify(429, "", CallKind::RunFlow, "x", wait);
    assert!(matches!(err, Error::RateLimited { retry_after, .. } if retry_after == wait));
}

#[test]
fn upstream_bodies_are_cut_to_500_chars() {
    let body = "é".repeat(900);
    let Error::Upstream { status, body } = classify(502, &body, CallKind::Other, "x", None) else {
        panic!("expected upstream");
    };
    assert_eq!(status, 502);
    assert_eq!(body.chars().count(), MAX_BODY_CHARS + 3);
}
