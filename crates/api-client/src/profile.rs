//! Profiles shared by every front end: flags, then the `DATA_INTEGRATION_*` environment
//! variables, then a profile in the config file (`$BDI_CONFIG`, else `$XDG_CONFIG_HOME/bdi/config.toml`, else
//! `~/.config/bdi/config.toml`).
//! The Boomi Flow values (`BOOMI_FLOW_API_URL`, `BOOMI_FLOW_API_KEY`, `BOOMI_FLOW_TENANT_ID`)
//! follow the same precedence, with their own flags ([`BoomiFlowOverrides`], [`resolve_with_boomi_flow`]).
//!
//! The file is TOML with one table per profile. It holds the API token (and the Boomi Flow API key),
//! so it is written with mode 0600 in a 0700 directory, and neither is ever printed: [`mask`]
//! shows the last four characters at most.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Why the configuration file or a profile could not be used: the file cannot be read or
/// written, or a profile or a setting is wrong. Its message says which and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileError(String);

impl ProfileError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProfileError {}

impl From<ProfileError> for bdi_domain::Error {
    fn from(e: ProfileError) -> Self {
        Self::Config(e.0)
    }
}

/// The variable naming the API base URL or region.
pub const API_URL: &str = "DATA_INTEGRATION_API_URL";
/// The variable holding the API token.
pub const API_TOKEN: &str = "DATA_INTEGRATION_API_TOKEN";
/// The variable holding the account id.
pub const ACCOUNT_ID: &str = "DATA_INTEGRATION_ACCOUNT_ID";
/// The variable holding the default environment id.
pub const ENVIRONMENT_ID: &str = "DATA_INTEGRATION_ENVIRONMENT_ID";
/// The variable naming the Boomi Flow API base URL.
pub const BOOMI_FLOW_API_URL: &str = crate::boomi_flow::ENV_BOOMI_FLOW_API_URL;
/// The variable holding the Boomi Flow API key.
pub const BOOMI_FLOW_API_KEY: &str = crate::boomi_flow::ENV_BOOMI_FLOW_API_KEY;
/// The variable holding the Boomi Flow tenant id.
pub const BOOMI_FLOW_TENANT_ID: &str = crate::boomi_flow::ENV_BOOMI_FLOW_TENANT_ID;
/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "default";

/// One profile of the config file.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// API base URL or region (us, eu, il, au).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    /// Account id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Default environment id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_id: Option<String>,
    /// API token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Boomi Flow API base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_api_url: Option<String>,
    /// Boomi Flow API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_api_key: Option<String>,
    /// Boomi Flow tenant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_tenant_id: Option<String>,
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profile")
            .field("api_url", &self.api_url)
            .field("account_id", &self.account_id)
            .field("environment_id", &self.environment_id)
            .field("token", &self.token.as_deref().map(mask))
            .field("flow_api_url", &self.flow_api_url)
            .field("flow_api_key", &self.flow_api_key.as_deref().map(mask))
            .field("flow_tenant_id", &self.flow_tenant_id)
            .finish()
    }
}

/// The config file's content.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigFile {
    /// Profiles by name.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// Where the config file lives, from `BDI_CONFIG`, `XDG_CONFIG_HOME` or `HOME`.
pub fn config_path(vars: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let set = |name: &str| vars(name).filter(|v| !v.trim().is_empty());
    if let Some(p) = set("BDI_CONFIG") {
        return Some(PathBuf::from(p));
    }
    if let Some(x) = set("XDG_CONFIG_HOME") {
        return Some(Path::new(&x).join("bdi").join("config.toml"));
    }
    set("HOME").map(|h| {
        Path::new(&h)
            .join(".config")
            .join("bdi")
            .join("config.toml")
    })
}

impl ConfigFile {
    /// Reads the file; a missing file is an empty configuration.
    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                ProfileError::new(format!(
                    "could not read {}: {}",
                    path.display(),
                    e.message()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(ProfileError::new(format!(
                "could not read {}: {e}",
                path.display()
            ))),
        }
    }

    /// Writes the file with mode 0600 (its directory 0700), replacing it atomically.
    pub fn save(&self, path: &Path) -> Result<(), ProfileError> {
        let text = toml::to_string_pretty(self)
            .map_err(|e| ProfileError::new(format!("could not encode the configuration: {e}")))?;
        let fail = |e: std::io::Error| {
            ProfileError::new(format!("could not write {}: {e}", path.display()))
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(fail)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                if dir.ends_with("bdi") {
                    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                        .map_err(fail)?;
                }
            }
        }
        let tmp = path.with_extension("toml.tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).map_err(fail)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(fail)?;
        }
        file.write_all(
            b"# bdi configuration: written by `bdi configure`; holds API tokens, keep it private\n",
        )
        .and_then(|()| file.write_all(text.as_bytes()))
        .and_then(|()| file.sync_all())
        .map_err(fail)?;
        std::fs::rename(&tmp, path).map_err(fail)
    }
}

/// A token as it may be shown: `****` and its last four characters (none when it is short).
pub fn mask(token: &str) -> String {
    let n = token.chars().count();
    if n < 12 {
        "****".to_owned()
    } else {
        let tail: String = token.chars().skip(n - 4).collect();
        format!("****{tail}")
    }
}

/// Values given as flags, which win over everything else.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--api-url`.
    pub api_url: Option<String>,
    /// `--account-id`.
    pub account_id: Option<String>,
    /// `--environment-id`.
    pub environment_id: Option<String>,
}

/// Boomi Flow values given as flags, which win over everything else (the key has no flag, like
/// the token: it would show in the process list).
#[derive(Clone, Debug, Default)]
pub struct BoomiFlowOverrides {
    /// The Boomi Flow API base URL.
    pub api_url: Option<String>,
    /// The Boomi Flow tenant id.
    pub tenant_id: Option<String>,
}

/// The merged configuration, as a lookup of `DATA_INTEGRATION_*` and `BOOMI_FLOW_*` names for
/// the API clients ([`crate::ClientConfig::from_lookup`], [`crate::BoomiFlowConfig::from_lookup`]).
#[derive(Clone, Default)]
pub struct Resolved {
    values: BTreeMap<&'static str, String>,
}

impl fmt::Debug for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: BTreeMap<_, _> = self
            .values
            .iter()
            .map(|(k, v)| {
                let secret = *k == API_TOKEN || *k == BOOMI_FLOW_API_KEY;
                (*k, if secret { mask(v) } else { v.clone() })
            })
            .collect();
        f.debug_struct("Resolved").field("values", &shown).finish()
    }
}

impl Resolved {
    /// The value of one `DATA_INTEGRATION_*` or `BOOMI_FLOW_*` name.
    pub fn get(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }
}

/// Merges flags, then the environment variables, then the profile. A profile named explicitly
/// (`--profile` or `BDI_PROFILE`) must exist; the default one may be absent. A flag given empty
/// is refused rather than taken for unset (an empty variable counts as unset). The Boomi Flow
/// values come from the variables and the profile only; [`resolve_with_boomi_flow`] takes their flags.
pub fn resolve(
    flags: &Overrides,
    profile: Option<&str>,
    vars: &dyn Fn(&str) -> Option<String>,
) -> Result<Resolved, ProfileError> {
    resolve_with_boomi_flow(flags, &BoomiFlowOverrides::default(), profile, vars)
}

/// Like [`resolve`], with flags for the Boomi Flow values too.
pub fn resolve_with_boomi_flow(
    flags: &Overrides,
    flow: &BoomiFlowOverrides,
    profile: Option<&str>,
    vars: &dyn Fn(&str) -> Option<String>,
) -> Result<Resolved, ProfileError> {
    for (flag, value) in [
        ("--api-url", &flags.api_url),
        ("--account-id", &flags.account_id),
        ("--environment-id", &flags.environment_id),
    ] {
        if value.as_ref().is_some_and(|v| v.trim().is_empty()) {
            return Err(ProfileError::new(format!(
                "{flag} is empty: leave the flag out to use the variable or the profile"
            )));
        }
    }
    let named = profile
        .map(str::to_owned)
        .or_else(|| vars("BDI_PROFILE").filter(|p| !p.trim().is_empty()));
    let file = match config_path(vars) {
        Some(path) => Some((ConfigFile::load(&path)?, path)),
        None => None,
    };
    let chosen = named.clone().unwrap_or_else(|| DEFAULT_PROFILE.to_owned());
    let stored = file
        .as_ref()
        .and_then(|(f, _)| f.profiles.get(&chosen))
        .cloned();
    if stored.is_none()
        && let Some(name) = &named
    {
        let where_ = file.map_or_else(
            || "no config file".to_owned(),
            |(_, p)| p.display().to_string(),
        );
        return Err(ProfileError::new(format!(
            "profile `{name}` not found in {where_}"
        )));
    }
    let stored = stored.unwrap_or_default();
    let env = |name: &str| vars(name).filter(|v| !v.trim().is_empty());
    let mut values = BTreeMap::new();
    let mut put = |name: &'static str, flag: Option<&String>, file: Option<&String>| {
        if let Some(v) = flag
            .cloned()
            .or_else(|| env(name))
            .or_else(|| file.cloned())
        {
            values.insert(name, v);
        }
    };
    put(API_URL, flags.api_url.as_ref(), stored.api_url.as_ref());
    put(API_TOKEN, None, stored.token.as_ref());
    put(
        ACCOUNT_ID,
        flags.account_id.as_ref(),
        stored.account_id.as_ref(),
    );
    put(
        ENVIRONMENT_ID,
        flags.environment_id.as_ref(),
        stored.environment_id.as_ref(),
    );
    put(
        BOOMI_FLOW_API_URL,
        flow.api_url.as_ref(),
        stored.flow_api_url.as_ref(),
    );
    put(BOOMI_FLOW_API_KEY, None, stored.flow_api_key.as_ref());
    put(
        BOOMI_FLOW_TENANT_ID,
        flow.tenant_id.as_ref(),
        stored.flow_tenant_id.as_ref(),
    );
    Ok(Resolved { values })
}

#[cfg(test)]
mod tests;
