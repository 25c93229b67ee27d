//! Domain errors turned into tool errors: what went wrong, then what to call next.
//!
//! Tool failures are results with `isError: true` (the model reads them); JSON-RPC errors are kept
//! for protocol faults, which rmcp produces itself.

use bdi_domain::{Error, NextStep};
use bdi_load::DatasetStep;

/// The text of a failed tool call: the error, then a `hint:` line with the next step.
pub fn tool_error(err: &Error) -> String {
    let mut text = format!("error: {err}");
    if let Error::Validation { detail, .. } = err
        && detail.len() > 1
    {
        text.push_str("\nproblems:");
        for d in detail {
            text.push_str(&format!("\n- {d}"));
        }
    }
    if let Some(step) = err.next_step() {
        text.push_str("\nhint: ");
        text.push_str(&hint(&step));
    }
    text
}

/// A next step in a model's words: the tool to call, with its arguments when they are known.
pub fn hint(step: &NextStep) -> String {
    match step {
        NextStep::Configure => "set DATA_INTEGRATION_API_TOKEN and DATA_INTEGRATION_ACCOUNT_ID (and DATA_INTEGRATION_ENVIRONMENT_ID), or start with --sandbox to try it without an account".to_owned(),
        NextStep::PickEnvironment => "omit environment_id to use the default environment, or give a 24-hex id from list_environments".to_owned(),
        NextStep::FixInput => "correct the parameter and call again".to_owned(),
        NextStep::KeepCredentials => "include the credentials in the body again, or pass allow_credential_reset=true to clear them on purpose".to_owned(),
        NextStep::CheckToken => "check the API token (Settings > API Tokens in the console); it may be expired or deleted".to_owned(),
        NextStep::GetScopes => "the token lacks the scope for this call or does not cover this environment; mint a token with the right scopes for this account and environment".to_owned(),
        NextStep::CheckIds => "check the id: list_data_flows, list_connections and list_runs return valid ids".to_owned(),
        NextStep::RemoveServerFields => "remove the fields the API does not accept (server-managed fields such as cross_id, account_id, group_name; a top-level description belongs in metadata.description)".to_owned(),
        NextStep::FixFields => "fix the fields listed above and call again".to_owned(),
        NextStep::DisableFirst => "disable the data flow first (disable_data_flow with wait=true), then retry".to_owned(),
        NextStep::LegacyFlow => "this data flow was created in the legacy console UI and cannot be read through the API; check is_api_v2 in list_data_flows".to_owned(),
        NextStep::ActivateFirst => "activate the data flow first (activate_data_flow with wait=true), then run it".to_owned(),
        NextStep::SetSourceTablesFirst => "select source tables first (set_data_flow_source_tables), then run it".to_owned(),
        NextStep::LogicFlowsStayActive => "logic flows are always active; delete or update them without disabling".to_owned(),
        NextStep::RetryAfter(Some(d)) => format!("wait {} s before trying again", bdi_domain::throttle::ceil_secs(*d).max(1)),
        NextStep::RetryAfter(None) => "wait about 30 s before trying again".to_owned(),
        NextStep::RetryLater => "the platform failed; try again in a minute".to_owned(),
        NextStep::CheckNetwork => "check the network and the base URL (DATA_INTEGRATION_API_URL or the region)".to_owned(),
        NextStep::Report => "the platform answered in an unexpected shape; report it with the path above".to_owned(),
        NextStep::FollowUp => "the work continues upstream; check it later with get_run or get_operation".to_owned(),
        NextStep::CheckRunsSince { data_flow, since } => format!(
            "check list_runs(data_flow_id=\"{data_flow}\", start_time=\"{since}\") before triggering it again"
        ),
        NextStep::FollowTriggeredRun { data_flow } => format!(
            "do not trigger it again; follow it with list_runs(data_flow_id=\"{data_flow}\")"
        ),
        NextStep::UseFlowConnection { connection } => format!(
            "pass {connection}, or change properties.source.connection_id first (patch_data_flow)"
        ),
        NextStep::NameConnectorType => "give the connector type as list_connections shows it".to_owned(),
        NextStep::ReadOperationError => "read error_message, fix the cause (often a connection or a missing setting), then try again".to_owned(),
        NextStep::SaveThenActivate => "a data flow created through the API must be saved once before it can be activated: save it (patch_data_flow with an empty patch {}, or update_data_flow), then activate it again".to_owned(),
        NextStep::SetCdcSchedulers => "CDC data flows need one enabled scheduler firing between every 5 minutes and every 24 hours: set schedulers (patch_data_flow), then activate again".to_owned(),
        NextStep::CheckConnections => "a source or target connection could not be reached or refused its credentials: check the connections the data flow uses (list_connections; test them in the console), then activate again".to_owned(),
    }
}

/// The text of a history tool's failure: the loader's error (or the tool's own words for it),
/// then a `hint:` line with the loader's next step in a model's words.
pub fn dataset_error(message: impl std::fmt::Display, step: Option<DatasetStep>) -> String {
    let mut text = format!("error: {message}");
    if let Some(step) = step {
        text.push_str("\nhint: ");
        text.push_str(dataset_hint(step));
    }
    text
}

/// A loader's next step in a model's words: the history tools to call, never a command's flag.
pub fn dataset_hint(step: DatasetStep) -> &'static str {
    match step {
        DatasetStep::LoadFirst => "call sync_history first",
        DatasetStep::WaitForHolder => {
            "try again when it ends (sync_history reports it; describe_history shows the last load)"
        }
        DatasetStep::FullRefresh => {
            "the stored history cannot be continued: ask the operator to remove the history dataset, then call sync_history to load it again"
        }
        DatasetStep::CheckDestination => {
            "the history's database could not be opened: ask the operator to check where bdi-mcp keeps the history"
        }
        DatasetStep::ShortenNames => "report it: a name the history's database cannot hold",
        DatasetStep::FixQuery => {
            "query_history runs one SELECT, e.g. select status, count(*) from runs group by status"
        }
        DatasetStep::NarrowQuery => "aggregate, filter on a time column, or add LIMIT",
        DatasetStep::UseReaderRole => {
            "ask the operator to connect the history as a read-only database role"
        }
        DatasetStep::RetrySoon => "try again in a moment",
    }
}

/// Shorthand for handlers: maps a domain error into the tool error text.
pub trait OrToolError<T> {
    /// Converts the error.
    fn or_tool_error(self) -> Result<T, String>;
}

impl<T> OrToolError<T> for Result<T, Error> {
    fn or_tool_error(self) -> Result<T, String> {
        self.map_err(|e| tool_error(&e))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bdi_domain::{StateConflict, ValidationDetail};
    use serde_json::json;

    use super::*;

    #[test]
    fn the_history_tools_name_tools_never_a_commands_flag() {
        for step in DatasetStep::ALL {
            let text = dataset_error("x", Some(step));
            assert!(text.contains("\nhint: "), "{text}");
            assert!(!text.contains("--"), "an agent cannot pass a flag: {text}");
        }
        insta::assert_snapshot!(dataset_error("there is no history yet", Some(DatasetStep::LoadFirst)), @r"
        error: there is no history yet
        hint: call sync_history first
        ");
    }

    #[test]
    fn errors_say_what_to_do_next() {
        let e = Error::State {
            conflict: StateConflict::ActiveFlow,
            message: "cannot delete an active data flow".into(),
        };
        insta::assert_snapshot!(tool_error(&e), @r"
        error: cannot delete an active data flow
        hint: disable the data flow first (disable_data_flow with wait=true), then retry
        ");
        let e = Error::RateLimited {
            retry_after: Some(Duration::from_secs(41)),
            message: "data flow x was run twice in the last minute".into(),
            limit: bdi_domain::Limit::Upstream,
        };
        insta::assert_snapshot!(tool_error(&e), @r"
        error: rate limited: data flow x was run twice in the last minute
        hint: wait 41 s before trying again
        ");
        let d = |loc: &str, kind: &str| ValidationDetail {
            loc: vec![json!("body"), json!(loc)],
            msg: "Extra inputs are not permitted".into(),
            kind: kind.into(),
        };
        let e = Error::Validation {
            status: 422,
            message: String::new(),
            detail: vec![d("title", "extra_forbidden"), d("id", "extra_forbidden")],
        };
        insta::assert_snapshot!(tool_error(&e), @r"
        error: request rejected (422): body.title: Extra inputs are not permitted (extra_forbidden); body.id: Extra inputs are not permitted (extra_forbidden)
        problems:
        - body.title: Extra inputs are not permitted (extra_forbidden)
        - body.id: Extra inputs are not permitted (extra_forbidden)
        hint: remove the fields the API does not accept (server-managed fields such as cross_id, account_id, group_name; a top-level description belongs in metadata.description)
        ");
    }
}
