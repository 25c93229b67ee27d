//! The platform's scopes: the permissions an API token (or a gateway key) holds, named as the
//! vendor's MCP server reference names them per endpoint (`docs/upstream-api.md`, the `[S0]` tags)
//! (`data flow:write`, ...), parsed leniently so that `data_flow:write`, `river:write` and
//! `rivers:write` mean the same scope. One type for every layer: the gateway checks its keys
//! against it, the history source says which one a resource needs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One permission an API token or a gateway key may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// `operations:list`: read asynchronous operations.
    OperationsList,
    /// `activity:list`: read runs, run logs and the activities endpoints.
    ActivityList,
    /// `data flow:list`: list and read data flows.
    DataFlowList,
    /// `data flow:write`: create, update, delete, activate and disable data flows.
    DataFlowWrite,
    /// `data flow:execute`: run data flows.
    DataFlowExecute,
    /// `environment:list`: list the account's environments.
    EnvironmentList,
    /// `connection:list`: list and read connections.
    ConnectionList,
    /// `connection:edit`: create and update connections.
    ConnectionEdit,
    /// `connection:delete`: delete connections.
    ConnectionDelete,
    /// `variables:list`: read environment variables.
    VariablesList,
    /// `variables:edit`: upsert environment variables.
    VariablesEdit,
}

impl Scope {
    /// Every scope, in documentation order.
    pub const ALL: [Scope; 11] = [
        Self::OperationsList,
        Self::ActivityList,
        Self::DataFlowList,
        Self::DataFlowWrite,
        Self::DataFlowExecute,
        Self::EnvironmentList,
        Self::ConnectionList,
        Self::ConnectionEdit,
        Self::ConnectionDelete,
        Self::VariablesList,
        Self::VariablesEdit,
    ];

    /// The canonical spelling (the vendor reference's).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OperationsList => "operations:list",
            Self::ActivityList => "activity:list",
            Self::DataFlowList => "data flow:list",
            Self::DataFlowWrite => "data flow:write",
            Self::DataFlowExecute => "data flow:execute",
            Self::EnvironmentList => "environment:list",
            Self::ConnectionList => "connection:list",
            Self::ConnectionEdit => "connection:edit",
            Self::ConnectionDelete => "connection:delete",
            Self::VariablesList => "variables:list",
            Self::VariablesEdit => "variables:edit",
        }
    }

    /// Parses a scope: case-insensitive; `_`, `-` and spaces alike; `river`, `rivers`,
    /// `dataflow` and `data flows` name the data flow resource; plural and singular resource
    /// names are both accepted; `edit` and `write` are synonyms for data flows.
    pub fn parse(s: &str) -> Option<Self> {
        let lowered = s.trim().to_ascii_lowercase().replace(['_', '-'], " ");
        let (resource, action) = lowered.split_once(':')?;
        let resource = resource.split_whitespace().collect::<Vec<_>>().join(" ");
        let resource = match resource.as_str() {
            "operation" | "operations" => "operations",
            "activity" | "activities" => "activity",
            "data flow" | "data flows" | "dataflow" | "dataflows" | "river" | "rivers" => {
                "data flow"
            }
            "environment" | "environments" => "environment",
            "connection" | "connections" => "connection",
            "variable" | "variables" => "variables",
            _ => return None,
        };
        Some(match (resource, action.trim()) {
            ("operations", "list") => Self::OperationsList,
            ("activity", "list") => Self::ActivityList,
            ("data flow", "list") => Self::DataFlowList,
            ("data flow", "write" | "edit") => Self::DataFlowWrite,
            ("data flow", "execute" | "run") => Self::DataFlowExecute,
            ("environment", "list") => Self::EnvironmentList,
            ("connection", "list") => Self::ConnectionList,
            ("connection", "edit" | "write") => Self::ConnectionEdit,
            ("connection", "delete") => Self::ConnectionDelete,
            ("variables", "list") => Self::VariablesList,
            ("variables", "edit" | "write") => Self::VariablesEdit,
            _ => return None,
        })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s).ok_or_else(|| {
            let known: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
            format!("unknown scope `{s}`: expected one of {}", known.join(", "))
        })
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_name_the_same_scope() {
        for (input, want) in [
            ("data flow:write", Scope::DataFlowWrite),
            ("data_flow:write", Scope::DataFlowWrite),
            ("river:write", Scope::DataFlowWrite),
            ("RIVERS:edit", Scope::DataFlowWrite),
            ("dataflow:execute", Scope::DataFlowExecute),
            ("river:execute", Scope::DataFlowExecute),
            ("data-flow:list", Scope::DataFlowList),
            ("connections:delete", Scope::ConnectionDelete),
            ("variable:edit", Scope::VariablesEdit),
            ("activities:list", Scope::ActivityList),
            ("operation:list", Scope::OperationsList),
            ("environments:list", Scope::EnvironmentList),
        ] {
            assert_eq!(Scope::parse(input), Some(want), "{input}");
        }
        for bad in ["data flow", "river:fly", "me:list", ""] {
            assert_eq!(Scope::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn canonical_names_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        let err = "nope:list".parse::<Scope>().unwrap_err();
        assert!(err.contains("unknown scope `nope:list`"), "{err}");
    }
}
