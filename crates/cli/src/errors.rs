//! Failures at the CLI's edge: domain errors, Boomi Flow errors, usage errors and local errors
//! become one [`CliError`] with a message, an optional `hint:` naming the next `bdi` command, and
//! an [`ExitStatus`]. A Boomi Flow failure ([`BoomiFlowError`], `bdi load flow`) is worded for
//! the Boomi Flow API and its own settings, never as a Data Integration one.

use std::io::{self, Write};

use bdi_api_client::BoomiFlowError;
use bdi_domain::error::EMPTY_ENVIRONMENT_ID;
use bdi_domain::{Error, NextStep, StateConflict};

use crate::exit::ExitStatus;
use crate::output::Style;

/// A failed command: what went wrong, what to do next, and the exit status.
#[derive(Debug)]
pub struct CliError {
    /// `error: ...`, lowercase, no trailing period.
    pub message: String,
    /// Extra lines under the message (one per validation problem).
    pub detail: Vec<String>,
    /// `hint: ...`, the next step.
    pub hint: Option<String>,
    /// The exit status.
    pub status: ExitStatus,
}

/// What the failing command was doing, so that the hint can name the right next step.
#[derive(Clone, Debug, Default)]
pub enum Doing {
    /// No command-specific hint.
    #[default]
    Other,
    /// Running data flow `flow`.
    Run(String),
    /// Deleting data flow `flow`.
    DeleteFlow(String),
    /// Changing data flow `flow` (update, patch, tables, apply).
    ChangeFlow(String),
    /// Activating or disabling data flow `flow`.
    Toggle(String),
}

impl CliError {
    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>, hint: Option<String>) -> Self {
        Self {
            message: message.into(),
            detail: Vec::new(),
            hint,
            status: ExitStatus::Usage,
        }
    }

    /// A configuration error (exit 3).
    pub fn config(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            detail: Vec::new(),
            hint: Some(hint.into()),
            status: ExitStatus::Api,
        }
    }

    /// A local failure (exit 1).
    pub fn local(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            detail: Vec::new(),
            hint: None,
            status: ExitStatus::Failure,
        }
    }

    /// A domain error while `doing` something.
    pub fn domain(err: Error, doing: &Doing) -> Self {
        let status = match &err {
            Error::InvalidInput { .. } => ExitStatus::Usage,
            Error::RateLimited { .. } => ExitStatus::Throttled,
            Error::OperationFailed { .. } => ExitStatus::RunFailed,
            Error::Timeout(_) | Error::Cancelled(_) => ExitStatus::WaitIncomplete,
            _ => ExitStatus::Api,
        };
        let detail = match &err {
            Error::Validation { detail, .. } if detail.len() > 1 => {
                detail.iter().map(|d| format!("- {d}")).collect()
            }
            _ => Vec::new(),
        };
        let hint = match (&err, cli_hint(&err, doing)) {
            (_, Some(h)) => Some(h),
            // A bad argument says what is wrong in its message; a next step other than "fix the
            // input" (keep a connection's credentials, say) is still worth a hint.
            (Error::InvalidInput { .. }, None) => match err.next_step() {
                None | Some(NextStep::FixInput) => None,
                Some(step) => Some(words(&step, doing)),
            },
            (_, None) => err.next_step().map(|s| words(&s, doing)),
        };
        Self {
            message: err.to_string(),
            detail,
            hint,
            status,
        }
    }

    /// A failure of the Boomi Flow API (`bdi load flow`), matched by its variant: the exit
    /// status and the hint speak of the Boomi Flow API and its own settings
    /// (`BOOMI_FLOW_API_URL`, `BOOMI_FLOW_API_KEY`, `BOOMI_FLOW_TENANT_ID`), never of Data
    /// Integration's: its 429 is the Boomi Flow API's limit, not the platform's.
    pub fn boomi_flow(err: &BoomiFlowError) -> Self {
        const SETTINGS: &str = "check BOOMI_FLOW_API_URL, BOOMI_FLOW_API_KEY and BOOMI_FLOW_TENANT_ID (or `bdi configure --flow`); try it first with `bdi --sandbox load flow`";
        let (status, hint) = match err {
            BoomiFlowError::Config { .. } => (ExitStatus::Api, SETTINGS.to_owned()),
            BoomiFlowError::Redirected { .. } => (
                ExitStatus::Api,
                "set BOOMI_FLOW_API_URL (or `bdi configure --flow`) to the Boomi Flow API's own address".to_owned(),
            ),
            BoomiFlowError::RateLimited { retry_after, .. } => (
                ExitStatus::Throttled,
                match retry_after {
                    Some(d) if d.as_secs() > 3600 => "the Boomi Flow API asked for a pause of more than an hour; load again later".to_owned(),
                    Some(d) => format!(
                        "the Boomi Flow API asked to slow down: wait {} s, then load again",
                        bdi_domain::throttle::ceil_secs(*d).max(1)
                    ),
                    None => "the Boomi Flow API asked to slow down: wait a minute, then load again".to_owned(),
                },
            ),
            BoomiFlowError::Unauthorized { .. } | BoomiFlowError::Forbidden { .. } => (
                ExitStatus::Api,
                "check BOOMI_FLOW_API_KEY and BOOMI_FLOW_TENANT_ID (or `bdi configure --flow`): a key works only for the tenant it was made for".to_owned(),
            ),
            BoomiFlowError::NotFound { .. } => (
                ExitStatus::Api,
                "check BOOMI_FLOW_API_URL (or `bdi configure --flow`): it is the API's base, such as https://flow.boomi.com/api".to_owned(),
            ),
            BoomiFlowError::Status { status, .. } if *status >= 500 => (
                ExitStatus::Api,
                "the Boomi Flow API failed; try again in a minute".to_owned(),
            ),
            BoomiFlowError::Transport { .. } => (
                ExitStatus::Api,
                "check the network and the Boomi Flow API's URL (BOOMI_FLOW_API_URL, or `bdi configure --flow`)".to_owned(),
            ),
            BoomiFlowError::TooManyPages { .. } => (
                ExitStatus::Api,
                "the listing kept announcing more pages; report it with the listing above".to_owned(),
            ),
            BoomiFlowError::InvalidPath { .. } => (
                ExitStatus::Failure,
                "this is a bug in bdi; report it with the path above".to_owned(),
            ),
            // A 4xx with no meaning of its own, an unreadable answer, and what a later version
            // of the client may add.
            _ => (
                ExitStatus::Api,
                "the Boomi Flow API answered in an unexpected way; report it with the path above".to_owned(),
            ),
        };
        Self {
            message: err.to_string(),
            detail: Vec::new(),
            hint: Some(hint),
            status,
        }
    }

    /// Writes `error: ...`, the detail lines, and the hint after a blank line.
    pub fn write(&self, err: &mut dyn Write, style: Style) -> io::Result<()> {
        writeln!(
            err,
            "{} {}",
            style.error("error:"),
            self.message.trim_end_matches('.')
        )?;
        for line in &self.detail {
            writeln!(err, "  {line}")?;
        }
        if let Some(hint) = &self.hint {
            writeln!(err)?;
            writeln!(
                err,
                "{} {}",
                style.hint("hint:"),
                hint.trim_end_matches('.')
            )?;
        }
        Ok(())
    }
}

impl From<Error> for CliError {
    fn from(err: Error) -> Self {
        Self::domain(err, &Doing::Other)
    }
}

impl From<BoomiFlowError> for CliError {
    fn from(err: BoomiFlowError) -> Self {
        Self::boomi_flow(&err)
    }
}

/// A next step in `bdi` words: the command to run, with the data flow when the failing command
/// named one.
pub fn words(step: &NextStep, doing: &Doing) -> String {
    let flow = match doing {
        Doing::Run(f) | Doing::DeleteFlow(f) | Doing::ChangeFlow(f) | Doing::Toggle(f) => {
            f.as_str()
        }
        Doing::Other => "FLOW",
    };
    match step {
        NextStep::Configure => "run `bdi configure`, or set DATA_INTEGRATION_API_TOKEN and DATA_INTEGRATION_ACCOUNT_ID; try it without an account with `--sandbox`".to_owned(),
        NextStep::PickEnvironment => "leave out --environment-id to use the default environment; `bdi environments list` shows the ids".to_owned(),
        NextStep::FixInput => "correct the argument and run the command again".to_owned(),
        NextStep::KeepCredentials => "put the credentials in the file again, or add --allow-credential-reset to clear them on purpose".to_owned(),
        NextStep::CheckToken => "check the API token (Settings > API Tokens in the console, then `bdi configure`); it may be expired or deleted".to_owned(),
        NextStep::GetScopes => "the token lacks the scope for this command or does not cover this environment; mint a token with the right scopes for this account and environment".to_owned(),
        NextStep::CheckIds => "check the id: `bdi flows list`, `bdi connections list` and `bdi runs list FLOW` show valid ids".to_owned(),
        NextStep::RemoveServerFields => "remove the fields the API does not accept (server-managed fields such as cross_id, account_id, group_name; a top-level description belongs in metadata.description); `bdi flows export` writes a clean document".to_owned(),
        NextStep::FixFields => "fix the fields listed above and run the command again".to_owned(),
        NextStep::DisableFirst => format!("disable the data flow first with `bdi flows disable {flow} --wait`, then try again"),
        NextStep::LegacyFlow => "this data flow was created in the legacy console and cannot be read through the API; `bdi flows list -o json` shows is_api_v2".to_owned(),
        NextStep::ActivateFirst => format!("activate the data flow first with `bdi flows activate {flow} --wait`, then run it"),
        NextStep::SetSourceTablesFirst => format!("select source tables first with `bdi flows tables set {flow} TABLE...`, then run it"),
        NextStep::LogicFlowsStayActive => "logic flows are always active; update or delete them without disabling".to_owned(),
        // A server may ask for anything (`Retry-After: 999999`): beyond an hour, no count.
        NextStep::RetryAfter(Some(d)) if d.as_secs() > 3600 => "try again later: the server asked for a pause of more than an hour".to_owned(),
        NextStep::RetryAfter(Some(d)) => format!("wait {} s before trying again", bdi_domain::throttle::ceil_secs(*d).max(1)),
        NextStep::RetryAfter(None) => "wait about 30 s before trying again".to_owned(),
        NextStep::RetryLater => "the platform failed; try again in a minute".to_owned(),
        NextStep::CheckNetwork => "check the network and the base URL (DATA_INTEGRATION_API_URL, or the region in `bdi configure`)".to_owned(),
        NextStep::Report => "the platform answered in an unexpected shape; report it with the path above".to_owned(),
        NextStep::FollowUp => "the work continues upstream; check it later with `bdi runs get` or `bdi operations get`".to_owned(),
        NextStep::CheckRunsSince { data_flow, since } => format!("check `bdi runs list {data_flow} --start {since}` before running it again"),
        NextStep::FollowTriggeredRun { data_flow } => format!("do not run it again; follow it with `bdi runs list {data_flow} --since 1h`"),
        NextStep::UseFlowConnection { connection } => format!("pass {connection}, or change the data flow's source connection first with `bdi flows patch`"),
        NextStep::NameConnectorType => "give the connector type as `bdi connections list` shows it".to_owned(),
        NextStep::ReadOperationError => "read the operation's error message, fix the cause (often a connection or a missing setting), then try again".to_owned(),
        NextStep::SaveThenActivate => format!("a data flow created through the API must be saved once before it can be activated: save it (`bdi flows patch {flow}` with an empty patch `{{}}`), then activate it again"),
        NextStep::SetCdcSchedulers => format!("CDC data flows need one enabled scheduler firing between every 5 minutes and every 24 hours: set schedulers (`bdi flows patch {flow}`), then activate again"),
        NextStep::CheckConnections => "a source or target connection could not be reached or refused its credentials: check the connections the data flow uses (`bdi connections list`; test them in the console), then activate again".to_owned(),
    }
}

/// Hints that depend on the command that failed, before the error's own next step.
fn cli_hint(err: &Error, doing: &Doing) -> Option<String> {
    let flow = match doing {
        Doing::Run(f) | Doing::DeleteFlow(f) | Doing::ChangeFlow(f) | Doing::Toggle(f) => {
            f.as_str()
        }
        Doing::Other => "FLOW",
    };
    Some(match err {
        Error::Config(_) => "run `bdi configure`, or set DATA_INTEGRATION_API_TOKEN and DATA_INTEGRATION_ACCOUNT_ID; try it without an account with `--sandbox`".to_owned(),
        Error::InvalidInput { field, message }
            if field == "environment_id" && message == EMPTY_ENVIRONMENT_ID =>
        {
            "leave out --environment-id to use the default environment; `bdi environments list` shows the ids".to_owned()
        }
        Error::InvalidInput { field, .. } if field.ends_with("_id") => {
            "ids are 24 hexadecimal characters (32 for runs): `bdi flows list`, `bdi connections list` and `bdi runs list FLOW` show valid ids".to_owned()
        }
        Error::InvalidInput { .. } => return None,
        Error::NotFound { .. } => "check the id: `bdi flows list`, `bdi connections list` and `bdi runs list FLOW` show valid ids".to_owned(),
        Error::State { conflict, .. } => match conflict {
            StateConflict::ActiveFlow => format!("disable the data flow first with `bdi flows disable {flow} --wait`, then try again"),
            StateConflict::LegacyFlow => "this data flow was created in the legacy console and cannot be read through the API; `bdi flows list -o json` shows is_api_v2".to_owned(),
            StateConflict::NotActive => format!("activate the data flow first with `bdi flows activate {flow} --wait`, then run it"),
            StateConflict::NoTables => format!("select source tables first with `bdi flows tables set {flow} TABLE...`, then run it"),
            StateConflict::LogicFlow => "logic flows are always active; update or delete them without disabling".to_owned(),
        },
        Error::Validation { status: 400, .. } => match doing {
            Doing::Run(f) => format!("a run is commonly refused because the data flow is not active (`bdi flows activate {f} --wait`) or has no source tables (`bdi flows tables set {f} TABLE...`)"),
            Doing::DeleteFlow(f) => format!("an active data flow cannot be deleted: disable it first with `bdi flows disable {f} --wait`, then delete it"),
            _ => return None,
        },
        Error::Validation { detail, .. } if detail.iter().any(|d| d.kind == "extra_forbidden") => {
            "remove the fields the API does not accept (server-managed fields such as cross_id, account_id, group_name; a top-level description belongs in metadata.description); `bdi flows export` writes a clean document".to_owned()
        }
        Error::OperationFailed { operation_id, .. } => match doing {
            Doing::Toggle(_) => format!("check that the source and target connections are reachable; the operation's detail: `bdi operations get {operation_id}`"),
            _ => return None,
        },
        Error::Timeout(_) | Error::Cancelled(_) => match doing {
            Doing::Run(f) => format!("the run continues upstream; follow it with `bdi runs list {f} --since 1h`"),
            Doing::Toggle(f) => format!("the operation continues upstream; check the data flow with `bdi flows get {f}`"),
            _ => return None,
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
