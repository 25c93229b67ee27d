//! Failures at the CLI's edge: domain errors, usage errors and local errors become one
//! [`CliError`] with a message, an optional `hint:` naming the next `bdi` command, and an
//! [`ExitStatus`].

use std::io::{self, Write};

use bdi_domain::error::EMPTY_ENVIRONMENT_ID;
use bdi_domain::{Error, StateConflict};

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
            (Error::InvalidInput { .. }, None) => None,
            (_, None) => err.hint().map(|h| cli_words(&h)),
        };
        Self {
            message: cli_words(&err.to_string()),
            detail,
            hint,
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

/// The MCP tool names the domain's messages use, and the `bdi` command for each.
const TOOL_COMMANDS: &[(&str, &str)] = &[
    ("activate_data_flow", "`bdi flows activate`"),
    ("create_data_flow", "`bdi flows create`"),
    ("delete_data_flow", "`bdi flows delete`"),
    ("disable_data_flow", "`bdi flows disable`"),
    ("get_data_flow", "`bdi flows get`"),
    ("get_operation", "`bdi operations get`"),
    ("get_run", "`bdi runs get`"),
    ("get_run_logs", "`bdi runs logs`"),
    ("list_connections", "`bdi connections list`"),
    ("list_data_flows", "`bdi flows list`"),
    ("list_environments", "`bdi environments list`"),
    ("list_runs", "`bdi runs list`"),
    ("patch_data_flow", "`bdi flows patch`"),
    ("run_data_flow", "`bdi flows run`"),
    ("set_data_flow_source_tables", "`bdi flows tables set`"),
    ("update_connection", "`bdi connections update`"),
    ("update_data_flow", "`bdi flows update`"),
];

/// Replaces the MCP tool names in a domain message with the matching `bdi` commands.
pub fn cli_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        match TOOL_COMMANDS
            .iter()
            .find(|(tool, _)| *tool == word.as_str())
        {
            Some((_, cmd)) => out.push_str(cmd),
            None => out.push_str(word),
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Hints that name `bdi` commands instead of the MCP tool names the domain's hints use.
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
        Error::InvalidInput { message, .. } if message.contains("credential reset") => {
            "put the credentials in the file again, or add --allow-credential-reset to clear them on purpose".to_owned()
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
