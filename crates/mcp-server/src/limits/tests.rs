//! Unit tests of the argument limits: one `check` helper, one line per case.

use serde_json::{Value, json};

use super::*;

/// `None` when the arguments pass, else the error text.
fn check_args(args: Value) -> Option<String> {
    check(args.as_object()).err().map(|e| e.to_string())
}

#[test]
fn arguments_within_their_limits_pass() {
    assert_eq!(check_args(json!({})), None);
    assert_eq!(check(None).err().map(|e| e.to_string()), None);
    assert_eq!(
        check_args(json!({"data_flow_id": "507f191e810c19729de860ea", "wait": true, "page": 2})),
        None
    );
    assert_eq!(
        check_args(json!({"name": "n".repeat(MAX_TEXT_CHARS)})),
        None
    );
    assert_eq!(
        check_args(json!({"name": "é".repeat(MAX_TEXT_CHARS)})),
        None
    );
    assert_eq!(
        check_args(json!({"description": "d".repeat(MAX_DESCRIPTION_CHARS)})),
        None
    );
    assert_eq!(
        check_args(json!({"body": {"private_key": "k".repeat(100_000)}})),
        None
    );
    assert_eq!(check_args(json!({"environment_id": null})), None);
}

#[test]
fn oversized_arguments_are_refused_with_the_limit() {
    let cases = [
        (
            json!({"data_flow_id": "f".repeat(65)}),
            "invalid data_flow_id: too long: 65 characters where at most 64 are accepted (ids are 24 or 32 hexadecimal characters)",
        ),
        (
            json!({"name": "n".repeat(MAX_TEXT_CHARS + 1)}),
            "invalid name: too long: 1001 characters where at most 1000 are accepted",
        ),
        (
            json!({"description": "d".repeat(MAX_DESCRIPTION_CHARS + 1)}),
            "invalid description: too long: 10001 characters where at most 10000 are accepted",
        ),
        (
            // A string where an object belongs is text: it cannot hide a megabyte.
            json!({"body": "b".repeat(MAX_TEXT_CHARS + 1)}),
            "invalid body: too long: 1001 characters where at most 1000 are accepted",
        ),
        (
            json!({"table_names": vec!["t".repeat(1000); 1100]}),
            "invalid table_names: too large: 1103301 bytes of JSON where at most 1048576 are accepted",
        ),
        (
            // Unknown arguments are bounded too.
            json!({"junk": "j".repeat(MAX_TEXT_CHARS + 1)}),
            "invalid junk: too long: 1001 characters where at most 1000 are accepted",
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(check_args(args).as_deref(), Some(expected));
    }
}

#[test]
fn the_whole_call_is_bounded_too() {
    let big = json!({"k": "v".repeat(MAX_DOCUMENT_BYTES - 100)});
    let err =
        check_args(json!({"body": big, "patch": big, "target_settings": big})).expect("refused");
    assert!(err.starts_with("invalid arguments: too large: "), "{err}");
    assert!(err.ends_with("where at most 2097152 are accepted"), "{err}");
}

#[test]
fn the_limits_are_described() {
    let text = describe().join("\n");
    for needle in [
        "64 characters",
        "1000 characters",
        "10000 characters",
        "1 MiB",
        "2 MiB",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
}
