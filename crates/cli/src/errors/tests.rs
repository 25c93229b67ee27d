//! Unit tests of error rendering and exit status mapping.

use std::time::Duration;

use bdi_domain::ValidationDetail;
use serde_json::json;

use super::*;

fn text(e: &CliError) -> String {
    let mut buf = Vec::new();
    e.write(&mut buf, Style::default()).unwrap();
    String::from_utf8(buf).unwrap()
}

#[test]
fn delete_of_an_active_flow_says_to_disable_first() {
    let e = Error::State {
        conflict: StateConflict::ActiveFlow,
        message: "cannot delete an active data flow.".into(),
    };
    let e = CliError::domain(e, &Doing::DeleteFlow("5f1a".into()));
    assert_eq!(e.status, ExitStatus::Api);
    insta::assert_snapshot!(text(&e), @r"
    error: cannot delete an active data flow

    hint: disable the data flow first with `bdi flows disable 5f1a --wait`, then try again
    ");
}

#[test]
fn a_refused_run_names_the_common_causes() {
    let e = Error::Validation {
        status: 400,
        message: "bad request".into(),
        detail: vec![],
    };
    let e = CliError::domain(e, &Doing::Run("5f1a".into()));
    insta::assert_snapshot!(text(&e), @r"
    error: request rejected (400): bad request

    hint: a run is commonly refused because the data flow is not active (`bdi flows activate 5f1a --wait`) or has no source tables (`bdi flows tables set 5f1a TABLE...`)
    ");
}

#[test]
fn statuses_follow_the_documented_codes() {
    let cases = [
        (Error::invalid("x", "bad"), ExitStatus::Usage),
        (
            Error::RateLimited {
                retry_after: Some(Duration::from_secs(3)),
                message: "m".into(),
                limit: bdi_domain::Limit::Upstream,
            },
            ExitStatus::Throttled,
        ),
        (
            Error::OperationFailed {
                operation_id: "o".into(),
                message: "m".into(),
            },
            ExitStatus::RunFailed,
        ),
        (Error::Timeout("t".into()), ExitStatus::WaitIncomplete),
        (Error::Cancelled("c".into()), ExitStatus::WaitIncomplete),
        (
            Error::Unauthorized {
                message: "m".into(),
            },
            ExitStatus::Api,
        ),
        (Error::Config("c".into()), ExitStatus::Api),
    ];
    for (err, status) in cases {
        assert_eq!(CliError::from(err).status, status);
    }
}

#[test]
fn validation_problems_are_listed() {
    let d = |loc: &str| ValidationDetail {
        loc: vec![json!("body"), json!(loc)],
        msg: "Extra inputs are not permitted".into(),
        kind: "extra_forbidden".into(),
    };
    let e = CliError::from(Error::Validation {
        status: 422,
        message: String::new(),
        detail: vec![d("title"), d("id")],
    });
    insta::assert_snapshot!(text(&e), @r"
    error: request rejected (422): body.title: Extra inputs are not permitted (extra_forbidden); body.id: Extra inputs are not permitted (extra_forbidden)
      - body.title: Extra inputs are not permitted (extra_forbidden)
      - body.id: Extra inputs are not permitted (extra_forbidden)

    hint: remove the fields the API does not accept (server-managed fields such as cross_id, account_id, group_name; a top-level description belongs in metadata.description); `bdi flows export` writes a clean document
    ");
}

#[test]
fn every_next_step_is_said_in_bdi_words() {
    for step in NextStep::samples() {
        let text = words(&step, &Doing::Run("65a1b2c3d4e5f60718293a4b".into()));
        assert!(!text.is_empty(), "{step:?}");
        for tool in [
            "_data_flow",
            "list_",
            "get_run",
            "get_operation",
            "update_connection",
        ] {
            assert!(!text.contains(tool), "{step:?} names an MCP tool: {text}");
        }
    }
    assert_eq!(
        words(
            &NextStep::CheckRunsSince {
                data_flow: "F".into(),
                since: "2026-11-29T10:00:00Z".into()
            },
            &Doing::Other
        ),
        "check `bdi runs list F --start 2026-11-29T10:00:00Z` before running it again"
    );
}

#[test]
fn a_pause_a_server_asks_for_is_shown_only_when_it_is_reasonable() {
    let long = words(
        &NextStep::RetryAfter(Some(Duration::from_secs(999_999))),
        &Doing::Other,
    );
    assert!(
        !long.contains("999999") && long.contains("more than an hour"),
        "{long}"
    );
    let short = words(
        &NextStep::RetryAfter(Some(Duration::from_secs(30))),
        &Doing::Other,
    );
    assert!(short.contains("wait 30 s"), "{short}");
}

#[test]
fn a_flow_load_is_told_about_the_flow_apis_own_settings() {
    let transport = CliError::boomi_flow(&BoomiFlowError::Transport {
        message: "GET draw/1/flow: could not connect".into(),
        source: None,
    });
    let said = text(&transport);
    assert!(said.contains("BOOMI_FLOW_API_URL"), "{said}");
    assert!(!said.contains("DATA_INTEGRATION"), "{said}");
    let e = CliError::boomi_flow(&BoomiFlowError::Config {
        message: "BOOMI_FLOW_API_KEY is not set".into(),
    });
    assert!(text(&e).contains("BOOMI_FLOW_API_URL"), "{}", text(&e));
    assert_eq!(e.status, ExitStatus::Api);
    let refused = CliError::boomi_flow(&BoomiFlowError::Unauthorized {
        message: "the Boomi Flow API refused the key".into(),
    });
    assert!(
        text(&refused).contains("BOOMI_FLOW_TENANT_ID"),
        "{}",
        text(&refused)
    );
    assert!(!text(&refused).contains("API token"), "{}", text(&refused));
}

#[test]
fn a_boomi_flow_429_is_the_boomi_flow_apis_limit_not_the_platforms() {
    let e = CliError::boomi_flow(&BoomiFlowError::RateLimited {
        path: "audit/1/search?page=2".into(),
        retry_after: Some(Duration::from_secs(7)),
        message: String::new(),
    });
    let said = text(&e);
    assert_eq!(e.status, ExitStatus::Throttled);
    assert!(
        said.contains("Boomi Flow API") && said.contains("429"),
        "{said}"
    );
    assert!(said.contains("wait 7 s"), "{said}");
    assert!(!said.to_lowercase().contains("platform"), "{said}");
    assert!(
        !said.contains("bdi runs") && !said.contains("bdi flows"),
        "{said}"
    );
}

#[test]
fn a_destinations_errors_are_worded_by_the_cli() {
    use bdi_load::DestinationError as E;
    let missing = crate::commands::load::destination_error(E::NoFile("/x/h.duckdb".into()));
    let said = text(&missing);
    assert!(
        said.contains("/x/h.duckdb does not exist") && said.contains("--destination duckdb:PATH"),
        "{said}"
    );
    let state = crate::commands::load::destination_error(E::UnreadableState {
        pipeline: "p".into(),
        detail: "expected value".into(),
    });
    let said = text(&state);
    assert!(
        said.contains("pipeline p is unreadable") && said.contains("--full-refresh"),
        "{said}"
    );
    // The library's own words name no CLI flag: bdi-mcp passes them to agents.
    for e in [
        E::NoFile("/x".into()),
        E::UnreadableState {
            pipeline: "p".into(),
            detail: "d".into(),
        },
    ] {
        assert!(!e.to_string().contains("--"), "{e}");
    }
}
