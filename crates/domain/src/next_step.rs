//! What a caller should do next, as data: the domain decides the step, each front end says it
//! in its own words (a tool call for MCP, a `bdi` command for the CLI, a route for the gateway).
//! The domain's own messages name no front end's commands.

use std::time::Duration;

use serde::Serialize;

/// The next step after an error or an outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum NextStep {
    /// Give the credentials (API token, account, environment), or try the sandbox.
    Configure,
    /// Omit the environment to use the default one, or pick an id from the environments.
    PickEnvironment,
    /// Correct the parameter and call again.
    FixInput,
    /// An update would erase the credentials a connection stores (the API never returns them):
    /// include them again, or allow the reset explicitly.
    KeepCredentials,
    /// The API token may be expired or deleted: check it.
    CheckToken,
    /// The token lacks a scope or does not cover the environment: mint one that does.
    GetScopes,
    /// Check the id against the listings of data flows, connections and runs.
    CheckIds,
    /// Remove the fields the API does not accept (server-managed ones).
    RemoveServerFields,
    /// Fix the fields listed and call again.
    FixFields,
    /// Disable the data flow (and wait for the operation), then retry.
    DisableFirst,
    /// The data flow was made in the legacy console: the data flow list says which (`is_api_v2`).
    LegacyFlow,
    /// Activate the data flow, waiting for the operation, then run it.
    ActivateFirst,
    /// Select the data flow's source tables, then run it.
    SetSourceTablesFirst,
    /// Logic flows are always active: update or delete them without disabling.
    LogicFlowsStayActive,
    /// Wait, then try again (`None`: about 30 s).
    RetryAfter(Option<Duration>),
    /// The platform failed: try again in a minute.
    RetryLater,
    /// Check the network and the base URL (or the region).
    CheckNetwork,
    /// The platform answered in an unexpected shape: report it with its path.
    Report,
    /// The work goes on upstream: follow the run or the operation later.
    FollowUp,
    /// A run may or may not have started: look for it among the data flow's runs started since
    /// `since` before triggering it again.
    CheckRunsSince {
        /// The data flow.
        data_flow: String,
        /// An RFC 3339 time a little before the trigger.
        since: String,
    },
    /// The run was triggered: follow it in the data flow's runs, do not trigger it again.
    FollowTriggeredRun {
        /// The data flow.
        data_flow: String,
    },
    /// Pass the data flow's own source connection, or change the data flow's source connection
    /// (`properties.source.connection_id`) first.
    UseFlowConnection {
        /// The connection the data flow reads from.
        connection: String,
    },
    /// Name the connector type as the connections list shows it.
    NameConnectorType,
    /// Read the operation's error message, fix the cause, then try again.
    ReadOperationError,
    /// A data flow created through the API must be saved once (an empty patch, or an update)
    /// before it can be activated.
    SaveThenActivate,
    /// CDC data flows need one enabled scheduler firing between every 5 minutes and every 24
    /// hours: set the schedulers, then activate again.
    SetCdcSchedulers,
    /// A source or target connection could not be reached or refused its credentials: check
    /// the data flow's connections, then activate again.
    CheckConnections,
}

impl NextStep {
    /// One of each step (with sample data), for a front end to test that it words them all.
    pub fn samples() -> Vec<Self> {
        let flow = "65a1b2c3d4e5f60718293a4b".to_owned();
        vec![
            Self::Configure,
            Self::PickEnvironment,
            Self::FixInput,
            Self::CheckToken,
            Self::GetScopes,
            Self::CheckIds,
            Self::RemoveServerFields,
            Self::FixFields,
            Self::DisableFirst,
            Self::LegacyFlow,
            Self::ActivateFirst,
            Self::SetSourceTablesFirst,
            Self::LogicFlowsStayActive,
            Self::RetryAfter(Some(Duration::from_millis(41_500))),
            Self::RetryAfter(None),
            Self::RetryLater,
            Self::CheckNetwork,
            Self::Report,
            Self::FollowUp,
            Self::CheckRunsSince {
                data_flow: flow.clone(),
                since: "2026-11-29T10:00:00Z".to_owned(),
            },
            Self::FollowTriggeredRun { data_flow: flow },
            Self::UseFlowConnection {
                connection: "64b1c2d3e4f5a6b7c8d9e0f1".to_owned(),
            },
            Self::NameConnectorType,
            Self::ReadOperationError,
            Self::SaveThenActivate,
            Self::SetCdcSchedulers,
            Self::CheckConnections,
        ]
    }
}
