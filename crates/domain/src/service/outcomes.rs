//! What the operations did, and where things stand when they return: the outcomes of runs
//! and toggles, read once for every front end.

use super::*;

/// What [`Service::run`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutcome {
    /// The trigger's answer (rebuilt from list_runs when `reconciled`).
    pub triggered: RunTriggered,
    /// `runs[0].run_id`, else the run group id.
    pub run_id: Option<String>,
    /// The latest state of the run, when waited for.
    pub run: Option<Run>,
    /// How the wait ended, when waited for.
    pub waited: Option<Waited<Run>>,
    /// The trigger failed ambiguously and the run was found with list_runs.
    pub reconciled: bool,
}

impl RunOutcome {
    /// Where the run stands: the one reading every front end words.
    pub fn state(&self) -> RunState {
        let triggered = || {
            self.triggered
                .runs
                .first()
                .map_or(RunStatus::Pending, |r| r.status.clone())
        };
        let latest = |run: &Option<Run>| run.as_ref().map_or_else(triggered, |r| r.status.clone());
        match &self.waited {
            None => RunState {
                stage: RunStage::Started,
                status: latest(&self.run),
                run: self.run.clone(),
            },
            Some(Waited::Finished(run)) => RunState {
                stage: if run.status.is_success() {
                    RunStage::Succeeded
                } else {
                    RunStage::Failed
                },
                status: run.status.clone(),
                run: Some(run.clone()),
            },
            Some(Waited::TimedOut { last, elapsed }) => RunState {
                stage: RunStage::TimedOut(*elapsed),
                status: latest(last),
                run: last.clone(),
            },
            Some(Waited::Cancelled { last }) => RunState {
                stage: RunStage::Cancelled,
                status: latest(last),
                run: last.clone(),
            },
        }
    }
}

/// How far a run got by the time the call returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunStage {
    /// Triggered, not waited for: it goes on upstream.
    Started,
    /// It ended in success (`succeeded`, or partially).
    Succeeded,
    /// It ended otherwise (failed, canceled, skipped, ...).
    Failed,
    /// The wait ran out of time after this long: the run goes on upstream.
    TimedOut(Duration),
    /// The wait was cancelled: the run goes on upstream.
    Cancelled,
}

/// Where a run stands when the call returns.
#[derive(Clone, Debug, PartialEq)]
pub struct RunState {
    /// How far it got.
    pub stage: RunStage,
    /// Its latest known status (the trigger's, `pending`, when nothing more is known).
    pub status: RunStatus,
    /// Its latest known state, when it was fetched.
    pub run: Option<Run>,
}

impl RunState {
    /// Whether the run ended (in success or not).
    pub fn is_finished(&self) -> bool {
        matches!(self.stage, RunStage::Succeeded | RunStage::Failed)
    }
}

/// What activate and disable did.
#[derive(Clone, Debug, PartialEq)]
pub struct Activation {
    /// The upstream's answer.
    pub toggle: Toggle,
    /// How the wait ended, when waited for and an operation was started.
    pub waited: Option<Waited<Operation>>,
}

impl Activation {
    /// The final operation, when known (already terminal or waited to the end).
    pub fn final_operation(&self) -> Option<&Operation> {
        match (&self.waited, &self.toggle) {
            (Some(w), _) => w.finished(),
            (None, Toggle::Started { operation }) if operation.status.is_terminal() => {
                Some(operation)
            }
            _ => None,
        }
    }

    /// The next step when the operation ended in error.
    pub fn advice(&self) -> Option<NextStep> {
        self.final_operation().and_then(explain_operation)
    }

    /// Where the activation or the disable stands: the one reading every front end words.
    pub fn state(self) -> ToggleState {
        let Toggle::Started { operation } = self.toggle else {
            return ToggleState::AlreadyInState;
        };
        let started = *operation;
        let ended = |op: Operation| {
            if op.status == OperationStatus::Done {
                ToggleState::Done(op)
            } else {
                let next = explain_operation(&op);
                ToggleState::Failed {
                    operation: op,
                    next,
                }
            }
        };
        match self.waited {
            None if started.status.is_terminal() => ended(started),
            None => ToggleState::Started(started),
            Some(Waited::Finished(op)) => ended(op),
            Some(Waited::TimedOut { last, elapsed }) => ToggleState::TimedOut {
                operation: last.unwrap_or(started),
                elapsed,
            },
            Some(Waited::Cancelled { last }) => ToggleState::Cancelled(last.unwrap_or(started)),
        }
    }
}

/// Where an activation or a disable stands when the call returns.
#[derive(Clone, Debug, PartialEq)]
pub enum ToggleState {
    /// The data flow was already in the asked state: nothing was started.
    AlreadyInState,
    /// The operation ended and the data flow is in the asked state.
    Done(Operation),
    /// The operation ended in error: the data flow is not in the asked state.
    Failed {
        /// The operation, with its `error_message`.
        operation: Operation,
        /// What to do about it, when the message says.
        next: Option<NextStep>,
    },
    /// Started and not waited for: the operation goes on upstream.
    Started(Operation),
    /// The wait ran out of time: the operation goes on upstream.
    TimedOut {
        /// The operation as last seen.
        operation: Operation,
        /// How long the wait lasted.
        elapsed: Duration,
    },
    /// The wait was cancelled: the operation goes on upstream.
    Cancelled(Operation),
}

impl ToggleState {
    /// The operation, when one was started.
    pub fn operation(&self) -> Option<&Operation> {
        match self {
            Self::AlreadyInState => None,
            Self::Done(op) | Self::Started(op) | Self::Cancelled(op) => Some(op),
            Self::Failed { operation, .. } | Self::TimedOut { operation, .. } => Some(operation),
        }
    }

    /// Whether the data flow is in the asked state now.
    pub fn is_done(&self) -> bool {
        matches!(self, Self::AlreadyInState | Self::Done(_))
    }

    /// Whether the operation goes on upstream (started, timed out or cancelled).
    pub fn is_pending(&self) -> bool {
        matches!(
            self,
            Self::Started(_) | Self::TimedOut { .. } | Self::Cancelled(_)
        )
    }
}

/// What [`Service::set_source_tables`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct TablesSet {
    /// The saved data flow.
    pub flow: DataFlow,
    /// The selected tables, in input order, with the connection's casing.
    pub tables: Vec<QualifiedTable>,
}

/// The next step after an operation that ended in error (`E`); `None` otherwise.
pub fn explain_operation(op: &Operation) -> Option<NextStep> {
    if op.status != OperationStatus::Error {
        return None;
    }
    let text = op
        .error_message
        .as_deref()
        .unwrap_or_default()
        .to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| text.contains(w));
    let advice = if has(&["rvr-activate-500", "fire-service", "fire service"]) {
        NextStep::SaveThenActivate
    } else if has(&["cdc"]) && has(&["schedul"]) {
        NextStep::SetCdcSchedulers
    } else if has(&[
        "connect",
        "unreachable",
        "timed out",
        "timeout",
        "refused",
        "authenticat",
        "password",
        "access denied",
        "host",
        "ssl",
        "credential",
        "ora-",
        "login",
    ]) {
        NextStep::CheckConnections
    } else {
        NextStep::ReadOperationError
    };
    Some(advice)
}
