//! The status vocabularies of operations and runs, decoded leniently from every spelling in use.

use super::*;

/// The status of an asynchronous operation (`PullRequestStatus`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OperationStatus {
    /// `W`: waiting (queued).
    Waiting,
    /// `R`: running.
    Running,
    /// `D`: done (success). Terminal.
    Done,
    /// `E`: error. Terminal.
    Error,
    /// Any other value, empty included; treated as still in progress, as the platform's own
    /// clients do.
    Other(String),
}

impl OperationStatus {
    /// The wire spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Waiting => "W",
            Self::Running => "R",
            Self::Done => "D",
            Self::Error => "E",
            Self::Other(s) => s,
        }
    }

    /// D and E end an operation; anything else means it is still in progress.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Done | Self::Error)
    }

    /// A readable word for people.
    pub fn describe(&self) -> &str {
        match self {
            Self::Waiting => "waiting",
            Self::Running => "running",
            Self::Done => "done",
            Self::Error => "error",
            Self::Other(s) if s.is_empty() => "pending",
            Self::Other(s) => s,
        }
    }
}

impl From<&str> for OperationStatus {
    fn from(s: &str) -> Self {
        match s.trim().to_ascii_uppercase().as_str() {
            "W" => Self::Waiting,
            "R" => Self::Running,
            "D" => Self::Done,
            "E" => Self::Error,
            _ => Self::Other(s.to_owned()),
        }
    }
}

impl fmt::Display for OperationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for OperationStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for OperationStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<String>::deserialize(d)?
            .as_deref()
            .unwrap_or("")
            .into())
    }
}

/// The status of a run (`ActivityStatusEnum`), decoded leniently from every spelling in use.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RunStatus {
    /// `pending`.
    Pending,
    /// `running`.
    Running,
    /// `succeeded` (also `success`, `succeed`).
    Succeeded,
    /// `failed`.
    Failed,
    /// `canceled` (also `cancelled`).
    Canceled,
    /// `skipped`.
    Skipped,
    /// `partially succeeded` (also `partially succeed`); run groups only.
    PartiallySucceeded,
    /// Anything else. Treated as terminal so that no wait spins forever; surfaced as is.
    Unknown(String),
}

impl RunStatus {
    /// The enum spelling (what the API's schema names).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
            Self::Skipped => "skipped",
            Self::PartiallySucceeded => "partially succeeded",
            Self::Unknown(s) => s,
        }
    }

    /// The statuses a filter on runs may name.
    pub const FILTERS: [&'static str; 6] = [
        "pending",
        "running",
        "succeeded",
        "failed",
        "canceled",
        "skipped",
    ];

    /// A caller's run-status filter, given as parameter `field`: any spelling of a run status
    /// (`success`, `cancelled`, ...); anything else is refused, naming the valid ones.
    pub fn parse_filter(field: &str, value: &str) -> Result<Self, Error> {
        let status = Self::from(value);
        if Self::FILTERS.contains(&status.as_str()) {
            Ok(status)
        } else {
            Err(Error::invalid(
                field,
                format!(
                    "{} is not a run status: use one of {}",
                    crate::error::quote(value),
                    Self::FILTERS.join(", ")
                ),
            ))
        }
    }

    /// Only `pending` and `running` are in progress.
    pub fn is_terminal(&self) -> bool {
        !matches!(self, Self::Pending | Self::Running)
    }

    /// `succeeded` and `partially succeeded` count as success.
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Succeeded | Self::PartiallySucceeded)
    }
}

impl From<&str> for RunStatus {
    fn from(s: &str) -> Self {
        match s.trim().to_ascii_lowercase().replace('_', " ").as_str() {
            "pending" | "queued" | "waiting" => Self::Pending,
            "running" | "in progress" => Self::Running,
            "succeeded" | "success" | "succeed" | "successful" => Self::Succeeded,
            "failed" | "failure" | "error" => Self::Failed,
            "canceled" | "cancelled" => Self::Canceled,
            "skipped" => Self::Skipped,
            "partially succeeded" | "partially succeed" => Self::PartiallySucceeded,
            _ => Self::Unknown(s.to_owned()),
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RunStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RunStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<String>::deserialize(d)?
            .as_deref()
            .unwrap_or("")
            .into())
    }
}
