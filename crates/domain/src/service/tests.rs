//! Tests of the service's pure helpers; the service itself is tested against the mock backend in
//! `tests/it`.

use serde_json::json;

use super::*;

#[test]
fn loading_methods_normalize() {
    let cases = [
        ("append", Some("append")),
        ("MERGE", Some("merge")),
        (" overwrite ", Some("overwrite")),
        ("replace", Some("overwrite")),
        ("upsert", None),
        ("", None),
    ];
    for (input, want) in cases {
        assert_eq!(normalize_loading_method(input).ok(), want, "{input}");
    }
}

#[test]
fn credential_keys_are_recognised() {
    let cases = [
        ("password", true),
        ("db_password", true),
        ("api_token", true),
        ("client_secret", true),
        ("account_key", true),
        ("ssh_pkey_file_path", true),
        ("credentials", true),
        ("key", true),
        ("password_exists", false),
        ("host", false),
        ("username", false),
        ("connection_type_id", false),
    ];
    for (key, want) in cases {
        assert_eq!(is_credential_key(key), want, "{key}");
    }
    let patches = [
        (json!({"password": "x"}), true),
        (json!({"password": ""}), false),
        (json!({"password": null}), false),
        (json!({"nested": {"api_token": "t"}}), true),
        (json!({"host": "h"}), false),
        (json!(["password"]), false),
    ];
    for (patch, want) in patches {
        assert_eq!(carries_credentials(&patch), want, "{patch}");
    }
}

#[test]
fn variables_validation_collects_every_problem() {
    let vars = vec![
        ("ok".to_owned(), "1".to_owned()),
        ("a.b".to_owned(), "2".to_owned()),
        (" ".to_owned(), "3".to_owned()),
        ("ok".to_owned(), "4".to_owned()),
    ];
    let err = validate_variables(vars).expect_err("problems").to_string();
    assert_eq!(
        err,
        "invalid variables: `a.b` contains `.` or `$`, which variable names cannot; item 3 has an empty name; `ok` is given more than once; nothing was changed"
    );
    let ok = validate_variables(vec![("A".to_owned(), "1".to_owned())]).expect("valid");
    assert_eq!(ok.get("A").map(String::as_str), Some("1"));
}

fn run_at(id: &str, group: &str, status: &str, start: Option<&str>) -> Run {
    serde_json::from_value(
        json!({"run_id": id, "run_group_id": group, "status": status, "start_date_utc": start}),
    )
    .expect("run")
}

#[test]
fn reconciliation_picks_the_first_group_after_the_trigger() {
    let flow = DataFlowId::parse("507f191e810c19729de860ea").expect("id");
    let since = Timestamp::parse("2026-01-01T10:00:00Z").expect("ts").0;
    let g = |s: &str| s.repeat(32);
    let runs = vec![
        run_at(&g("1"), &g("a"), "succeeded", Some("2026-01-01T09:00:00Z")),
        run_at(&g("2"), &g("b"), "running", Some("2026-01-01T10:00:05Z")),
        run_at(&g("3"), &g("c"), "pending", Some("2026-01-01T10:00:01Z")),
        run_at(&g("4"), &g("c"), "pending", Some("2026-01-01T10:00:02Z")),
        run_at(&g("5"), "", "pending", Some("2026-01-01T10:00:00Z")),
    ];
    let t = newest_group_since(&flow, runs, since).expect("found");
    assert_eq!(t.run_group_id, g("c"));
    assert_eq!(t.runs.len(), 2);
    assert_eq!(first_run_id(&t), Some(g("3")));

    let none = newest_group_since(&flow, vec![run_at(&g("1"), &g("a"), "failed", None)], since);
    assert!(none.is_none());
    let pending = newest_group_since(
        &flow,
        vec![run_at(&g("1"), &g("a"), "pending", None)],
        since,
    );
    assert_eq!(pending.map(|t| t.run_group_id), Some(g("a")));
}

#[test]
fn ambiguity_is_limited_to_transport_and_server_failures() {
    let cases = [
        (Error::Transport("x".into()), true),
        (Error::Timeout("x".into()), true),
        (
            Error::Upstream {
                status: 503,
                body: String::new(),
            },
            true,
        ),
        (
            Error::Upstream {
                status: 409,
                body: String::new(),
            },
            false,
        ),
        (
            Error::Validation {
                status: 400,
                message: String::new(),
                detail: vec![],
            },
            false,
        ),
        (
            Error::RateLimited {
                retry_after: None,
                message: String::new(),
                limit: crate::throttle::Limit::Upstream,
            },
            false,
        ),
    ];
    for (e, want) in cases {
        assert_eq!(is_ambiguous(&e), want, "{e}");
    }
}
