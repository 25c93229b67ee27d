//! Environments, connections and variables.

use super::*;

/// An environment of the account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Extra")]
pub struct Environment {
    /// 24-hex id (`cross_id`, or `_id`).
    pub cross_id: String,
    /// Name.
    #[serde(default, deserialize_with = "null_string")]
    pub environment_name: String,
    /// Whether this is the account's default environment.
    #[serde(default)]
    pub is_default: bool,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Soft-deleted.
    #[serde(default)]
    pub is_deleted: bool,
    /// Unnamed fields.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A connection (secrets never included; `*_exists` flags stay in `extra`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Extra")]
pub struct Connection {
    /// 24-hex id, used as `connection_id` in data flows.
    pub cross_id: String,
    /// Name.
    #[serde(default, deserialize_with = "null_string")]
    pub connection_name: String,
    /// Display name of the type in lists ("Oracle"); the slug on create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_type: Option<String>,
    /// The type slug (`oracle`, `mysql`): what data flows and create need.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_type_id: Option<String>,
    /// Unnamed fields.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Connection {
    /// The type slug: `connection_type_id`, else `connection_type` lowercased.
    pub fn type_slug(&self) -> Option<String> {
        self.connection_type_id.clone().or_else(|| {
            self.connection_type
                .as_ref()
                .map(|t| t.to_ascii_lowercase())
        })
    }

    /// Whether the stored connection holds a secret (a `*_exists` flag is true), so that a PUT
    /// without credentials would wipe it.
    pub fn has_stored_secret(&self) -> bool {
        self.extra
            .iter()
            .any(|(k, v)| k.ends_with("_exists") && v.as_bool() == Some(true))
    }
}

// Connections and environments are decoded by hand because their list items carry both
// `cross_id` and `_id`, which a serde alias refuses as a duplicate field. `cross_id` wins, `_id`
// stays in `extra`; the derived field attributes above apply to serialization only.

impl TryFrom<Extra> for Connection {
    type Error = String;

    fn try_from(mut m: Extra) -> Result<Self, String> {
        Ok(Self {
            cross_id: take_cross_id(&mut m)?,
            connection_name: take_string(&mut m, "connection_name").unwrap_or_default(),
            connection_type: take_string(&mut m, "connection_type"),
            connection_type_id: take_string(&mut m, "connection_type_id"),
            extra: m,
        })
    }
}

impl TryFrom<Extra> for Environment {
    type Error = String;

    fn try_from(mut m: Extra) -> Result<Self, String> {
        Ok(Self {
            cross_id: take_cross_id(&mut m)?,
            environment_name: take_string(&mut m, "environment_name").unwrap_or_default(),
            is_default: take_bool(&mut m, "is_default"),
            description: take_string(&mut m, "description"),
            is_deleted: take_bool(&mut m, "is_deleted"),
            extra: m,
        })
    }
}

/// Environment variables: a map of name to value.
pub type Variables = BTreeMap<String, String>;
