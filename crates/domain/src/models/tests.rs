//! Tests of the models' lenient decoding and their round trips.

use serde_json::json;

use super::*;

#[test]
fn timestamps_parse_every_upstream_form() {
    for s in [
        "2022-07-25T18:38:55.640Z",
        "2022-08-02T13:38:44.054000",
        "2021-01-01T00:00:00Z",
        "2021-01-01T00:00:00+00:00",
        "2021-01-01",
    ] {
        assert!(Timestamp::parse(s).is_ok(), "{s}");
    }
    assert!(Timestamp::parse("yesterday").is_err());
    let t = Timestamp::parse("2022-08-02T13:38:44.054000").unwrap();
    assert_eq!(t.to_query(), "2022-08-02T13:38:44");
    assert_eq!(t.to_string(), "2022-08-02T13:38:44.054Z");
}

#[test]
fn run_status_accepts_every_spelling() {
    let cases = [
        ("succeeded", RunStatus::Succeeded),
        ("success", RunStatus::Succeeded),
        ("succeed", RunStatus::Succeeded),
        ("cancelled", RunStatus::Canceled),
        ("canceled", RunStatus::Canceled),
        ("partially succeed", RunStatus::PartiallySucceeded),
        ("partially succeeded", RunStatus::PartiallySucceeded),
        ("Running", RunStatus::Running),
        ("pending", RunStatus::Pending),
    ];
    for (s, want) in cases {
        assert_eq!(RunStatus::from(s), want, "{s}");
    }
    let odd = RunStatus::from("exploded");
    assert!(odd.is_terminal());
    assert_eq!(odd.as_str(), "exploded");
    assert!(!RunStatus::Running.is_terminal());
    assert!(RunStatus::PartiallySucceeded.is_success());
}

#[test]
fn operation_status_other_values_are_in_progress() {
    assert!(OperationStatus::from("D").is_terminal());
    assert!(OperationStatus::from("e").is_terminal());
    assert!(!OperationStatus::from("").is_terminal());
    assert!(!OperationStatus::from("W").is_terminal());
    let op: Operation =
        serde_json::from_value(json!({"operation_id": "62e7f4352c13160013dc39be", "status": null}))
            .unwrap();
    assert_eq!(op.status, OperationStatus::Other(String::new()));
}

#[test]
fn run_decodes_not_ended_as_none() {
    for end in [json!(null), json!(""), json!(0)] {
        let run: Run = serde_json::from_value(json!({
            "run_id": "5658a1c9ea724ee59f048cbb5a6f734a", "river_cross_id": "507f191e810c19729de860ea",
            "run_group_id": "201dcf8182ad4a59868cb41b957fdc8d", "status": "running",
            "start_date_utc": "2022-07-25T18:38:55.640Z", "end_date_utc": end.clone(),
            "end_date_in_milliseconds": end, "units": "2.5", "rpu": null, "is_high_frequency": false
        }))
        .unwrap();
        assert_eq!(run.end_date_utc, None);
        assert_eq!(run.end_date_in_milliseconds, None);
        assert!((run.units - 2.5).abs() < f64::EPSILON);
        assert_eq!(run.extra.get("is_high_frequency"), Some(&json!(false)));
    }
}

#[test]
fn data_flow_round_trip_keeps_unknown_fields() {
    let doc = json!({
        "cross_id": "507f191e810c19729de860ea", "name": "orders", "type": "source_to_target",
        "account_id": "aaaaaaaaaaaaaaaaaaaaaaaa", "group_id": "bbbbbbbbbbbbbbbbbbbbbbbb",
        "metadata": {"river_status": "disabled", "future_field": 1},
        "settings": null,
        "properties": {"properties_type": "source_to_target", "source": {"name": "mysql"}, "schemas": []},
        "schedulers": [], "brand_new_server_field": {"x": [1, 2]}
    });
    let flow: DataFlow = serde_json::from_value(doc.clone()).unwrap();
    assert_eq!(flow.source_name(), Some("mysql"));
    assert!(!flow.is_active());
    assert_eq!(serde_json::to_value(&flow).unwrap(), doc);
}

#[test]
fn page_accepts_next_page_variants() {
    for (next, want) in [
        (json!(null), false),
        (json!(""), false),
        (json!(0), false),
        (json!("https://x/v1?page=2"), true),
        (json!(2), true),
    ] {
        let p: Page<Value> = serde_json::from_value(
            json!({"items": [1], "page": 1, "total_items": 5, "next_page": next}),
        )
        .unwrap();
        assert_eq!(p.has_next(1), want);
    }
    let p: Page<Value> =
        serde_json::from_value(json!({"data": [1, 2], "total_items": 2, "next_page": "u"}))
            .unwrap();
    assert!(!p.has_next(2), "count reached total_items");
}

#[test]
fn connection_secret_flags() {
    let c: Connection = serde_json::from_value(json!({"cross_id": "507f191e810c19729de860ea", "connection_name": "pg", "password_exists": true})).unwrap();
    assert!(c.has_stored_secret());
    let c: Connection = serde_json::from_value(json!({"_id": "507f191e810c19729de860ea", "connection_name": "pg", "connection_type": "Oracle"})).unwrap();
    assert!(!c.has_stored_secret());
    assert_eq!(c.type_slug().as_deref(), Some("oracle"));
}

#[test]
fn connections_and_environments_accept_both_id_spellings_at_once() {
    let list_item = json!({"account_id": "a", "cross_id": "5f88aaaaaaaaaaaaaaaaaaaa", "_id": "5f88aaaaaaaaaaaaaaaaaaaa",
        "connection_name": "test connection", "connection_type": "Oracle", "connection_type_id": "oracle"});
    let c: Connection = serde_json::from_value(list_item).expect("both ids");
    assert_eq!(c.cross_id, "5f88aaaaaaaaaaaaaaaaaaaa");
    assert_eq!(c.type_slug().as_deref(), Some("oracle"));
    let back: Connection =
        serde_json::from_value(serde_json::to_value(&c).expect("ser")).expect("round trip");
    assert_eq!(back, c);
    let only_underscore: Connection =
        serde_json::from_value(json!({"_id": "x", "connection_name": null})).expect("_id only");
    assert_eq!(
        (
            only_underscore.cross_id.as_str(),
            only_underscore.connection_name.as_str()
        ),
        ("x", "")
    );
    assert!(serde_json::from_value::<Connection>(json!({"connection_name": "c"})).is_err());

    let env: Environment = serde_json::from_value(
        json!({"_id": "e1", "cross_id": "e1", "environment_name": "prod",
        "is_default": true, "description": null, "variables": {"days_ago": "3"}}),
    )
    .expect("env");
    assert_eq!(
        (
            env.cross_id.as_str(),
            env.environment_name.as_str(),
            env.is_default,
            env.is_deleted
        ),
        ("e1", "prod", true, false)
    );
    assert_eq!(env.description, None);
    assert!(env.extra.contains_key("variables"));
}

#[test]
fn windows_and_run_filters_are_checked_once_for_every_front_end() {
    let (s, e) = Timestamp::window_for(
        ("start_time", "2026-05-24"),
        ("end_time", "2026-05-25T00:00:00Z"),
    )
    .unwrap();
    assert!(s < e);
    let err = Timestamp::window_for(("start_time", "2026-05-25"), ("end_time", "2026-05-24"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid end_time: end_time (`2026-05-24T00:00:00`) must be after start_time (`2026-05-25T00:00:00`)"
    );
    let err = Timestamp::window_for(("--start", "soon"), ("--end", "2026-05-24")).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { field, .. } if field == "--start"),
        "{err}"
    );
    assert!(
        Timestamp::window_for(("a", "2026-05-24"), ("b", "2026-05-24")).is_err(),
        "empty"
    );

    assert_eq!(
        RunStatus::parse_filter("status", "Cancelled").unwrap(),
        RunStatus::Canceled
    );
    assert_eq!(
        RunStatus::parse_filter("status", "success").unwrap(),
        RunStatus::Succeeded
    );
    let err = RunStatus::parse_filter("status", "partially succeeded").unwrap_err();
    assert!(
        err.to_string().contains("use one of pending, running"),
        "{err}"
    );
}
