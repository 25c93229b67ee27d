//! Unit tests for the run and operation state machines and the group status.

use chrono::{TimeZone, Utc};
use serde_json::json;

use super::*;

fn run(steps: u32, outcome: Outcome) -> Run {
    Run {
        run_id: "r".repeat(32),
        run_group_id: "g".repeat(32),
        river_cross_id: "c".repeat(24),
        datasource_id: "mysql".to_owned(),
        source_schema: Some("sales".to_owned()),
        target_name: Some("orders".to_owned()),
        sub_river_id: None,
        start: Utc
            .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
            .single()
            .expect("valid date"),
        end: None,
        polls: 0,
        steps,
        outcome,
        units: 1.0,
        rows: 10,
        trigger: "api".to_owned(),
        keeps_logs: true,
        extra_log_lines: 0,
    }
}

#[test]
fn a_run_moves_pending_running_then_terminal() {
    let mut r = run(2, Outcome::Failed("boom".to_owned()));
    let now = r.start + TimeDelta::seconds(5);
    assert_eq!(r.status(), "pending");
    assert!(r.json()["error_description"].is_null());
    r.poll(now);
    assert_eq!(r.status(), "running");
    assert!(r.json()["end_date_utc"].is_null());
    r.poll(now);
    assert_eq!(r.status(), "failed");
    assert_eq!(r.json()["error_description"], "boom");
    assert_eq!(
        r.json()["end_date_in_milliseconds"],
        json!(now.timestamp_millis())
    );
    assert!(r.logs_csv().contains(",ERROR,boom"));
}

#[test]
fn group_status_uses_partially_succeeded_only_for_mixes() {
    assert_eq!(group_status(&["succeeded", "succeeded"]), "succeeded");
    assert_eq!(
        group_status(&["succeeded", "failed"]),
        "partially succeeded"
    );
    assert_eq!(group_status(&["failed", "failed"]), "failed");
    assert_eq!(group_status(&["pending", "succeeded"]), "running");
    assert_eq!(group_status(&["pending", "pending"]), "pending");
}

#[test]
fn connection_types_resolve_by_slug_alias_or_display_name() {
    assert_eq!(conn_type("postgresql").map(|t| t.slug), Some("postgres"));
    assert_eq!(conn_type("MySQL").map(|t| t.slug), Some("mysql"));
    assert_eq!(conn_type("SQL Server").map(|t| t.slug), Some("mssql"));
    assert!(conn_type("teleport").is_none());
}

#[test]
fn an_operation_reports_w_r_then_d_or_e() {
    let mut op = Operation {
        operation_id: "o".repeat(24),
        operation_type: "river_activation",
        run_id: "r".repeat(32),
        polls: 0,
        steps: 2,
        outcome: Err("[RVR-ACTIVATE-500]: no".to_owned()),
        effect: Effect::None,
        applied: false,
        updated: Utc::now(),
    };
    assert_eq!(op.status(), "W");
    op.polls = 1;
    assert_eq!(op.status(), "R");
    assert!(op.json()["error_message"].is_null());
    op.polls = 2;
    assert_eq!(op.status(), "E");
    assert_eq!(op.json()["error_message"], "[RVR-ACTIVATE-500]: no");
}
