//! Unit tests of log redaction: which field names are secret, and what a logged call shows.

use serde_json::json;

use super::*;

#[test]
fn secret_field_names_are_recognised_in_any_spelling() {
    for name in [
        "password",
        "PASSWORD",
        "db_password",
        "passwd",
        "pwd",
        "secret",
        "client_secret",
        "token",
        "refresh_token",
        "sas_token",
        "api_key",
        "apiKey",
        "API-KEY",
        "private_key",
        "Private-Key",
        "credentials",
        "Authorization",
        "aws_access_key_id",
        "connection_string",
    ] {
        assert!(is_secret_field(name), "{name}");
    }
    for name in [
        "connection_name",
        "connection_type",
        "host",
        "port",
        "username",
        "database",
        "key_column",
        "description",
    ] {
        assert!(!is_secret_field(name), "{name}");
    }
}

#[test]
fn secrets_are_redacted_at_any_depth_and_long_values_cut() {
    let args = json!({
        "body": {
            "connection_name": "pg",
            "password": "hunter2",
            "ssl": {"Private-Key": "-----BEGIN-----", "mode": "require"},
            "extra": [{"token": {"nested": "t0k"}}, {"note": "n".repeat(500)}],
            "credentials": ["a", "b"]
        },
        "environment_id": "6a7b8c9d0e1f2a3b4c5d6e7f"
    });
    let text = arguments_for_log(args.as_object());
    for secret in ["hunter2", "-----BEGIN-----", "t0k", "\"a\""] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert!(text.contains(r#""password":"<redacted>""#), "{text}");
    assert!(text.contains(r#""credentials":"<redacted>""#), "{text}");
    assert!(text.contains(r#""mode":"require""#), "{text}");
    assert!(text.contains("… (500 characters)"), "{text}");
    assert!(text.contains("6a7b8c9d0e1f2a3b4c5d6e7f"), "{text}");
}

#[test]
fn logged_arguments_are_capped() {
    let args = json!({"table_names": vec!["t".repeat(100); 100]});
    let text = arguments_for_log(args.as_object());
    assert!(
        text.chars().count() < MAX_LOGGED_ARGUMENTS_CHARS + 40,
        "{}",
        text.len()
    );
    assert!(text.ends_with(" characters)"), "{text}");
    assert_eq!(arguments_for_log(None), "{}");
}
