//! Gateway API keys: the TOML keys file (which holds SHA-256 digests, never a key in clear),
//! key generation, and constant-time lookup of a presented bearer key.
//!
//! ```toml
//! [[keys]]
//! name = "etl-team"
//! sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//! scopes = ["data flow:list", "data flow:execute"]
//! environments = ["65f0c0ffee0000000000beef"]   # optional: the key may touch only these
//! ```

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use bdi_domain::EnvironmentId;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::scopes::Scope;

/// The prefix of every generated key, so that a leaked key is recognisable in a scan.
pub const KEY_PREFIX: &str = "bdig_";

/// One `[[keys]]` table of the keys file, as written on disk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEntry {
    /// Who holds the key; shown in audit lines and used as the throttle's user key.
    pub name: String,
    /// Lowercase hex SHA-256 digest of the key.
    pub sha256: String,
    /// The scopes the key grants, as written (aliases allowed).
    pub scopes: Vec<String>,
    /// The environments the key may touch; absent means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environments: Option<Vec<String>>,
}

/// The whole keys file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    /// The key entries.
    #[serde(default)]
    pub keys: Vec<KeyEntry>,
}

/// A validated key: what a request authenticated with it may do.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    name: String,
    digest: [u8; 32],
    scopes: BTreeSet<Scope>,
    environments: Option<BTreeSet<EnvironmentId>>,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .field("environments", &self.environments)
            .finish_non_exhaustive()
    }
}

impl ApiKey {
    /// Builds a key from its parts (the digest of the secret, not the secret).
    pub fn new(
        name: impl Into<String>,
        digest: [u8; 32],
        scopes: impl IntoIterator<Item = Scope>,
        environments: Option<Vec<EnvironmentId>>,
    ) -> Self {
        Self {
            name: name.into(),
            digest,
            scopes: scopes.into_iter().collect(),
            environments: environments.map(|e| e.into_iter().collect()),
        }
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the key grants `scope`.
    pub fn has_scope(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// The scopes the key grants.
    pub fn scopes(&self) -> impl Iterator<Item = Scope> + '_ {
        self.scopes.iter().copied()
    }

    /// Whether the key may touch `env` (true for unrestricted keys).
    pub fn allows_environment(&self, env: &EnvironmentId) -> bool {
        self.environments
            .as_ref()
            .is_none_or(|set| set.contains(env))
    }

    /// The environments the key is limited to, if it is limited.
    pub fn environments(&self) -> Option<&BTreeSet<EnvironmentId>> {
        self.environments.as_ref()
    }

    fn from_entry(entry: &KeyEntry) -> anyhow::Result<Self> {
        let name = entry.name.trim();
        if name.is_empty() {
            bail!("a key has an empty name");
        }
        let bytes = hex::decode(entry.sha256.trim())
            .ok()
            .filter(|b| b.len() == 32)
            .with_context(|| {
                format!("key `{name}`: sha256 must be 64 hexadecimal characters (a SHA-256 digest)")
            })?;
        let mut digest = [0u8; 32];
        digest.copy_from_slice(&bytes);
        let scopes = entry
            .scopes
            .iter()
            .map(|s| {
                s.parse::<Scope>()
                    .map_err(|e| anyhow::anyhow!("key `{name}`: {e}"))
            })
            .collect::<anyhow::Result<BTreeSet<_>>>()?;
        let environments = match &entry.environments {
            None => None,
            Some(list) => Some(
                list.iter()
                    .map(|e| {
                        EnvironmentId::parse(e)
                            .map_err(|err| anyhow::anyhow!("key `{name}`: {err}"))
                    })
                    .collect::<anyhow::Result<BTreeSet<_>>>()?,
            ),
        };
        Ok(Self {
            name: name.to_owned(),
            digest,
            scopes,
            environments,
        })
    }
}

/// The set of valid keys, looked up by digest in constant time.
#[derive(Clone, Debug, Default)]
pub struct KeyStore {
    keys: Vec<Arc<ApiKey>>,
}

impl KeyStore {
    /// A store of these keys.
    pub fn new(keys: impl IntoIterator<Item = ApiKey>) -> Self {
        Self {
            keys: keys.into_iter().map(Arc::new).collect(),
        }
    }

    /// Parses and validates a keys file's text.
    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        let file: KeyFile = toml::from_str(text).context("the keys file is not valid")?;
        Self::from_file(&file)
    }

    /// Validates a parsed keys file: names and digests unique, scopes and environments known.
    pub fn from_file(file: &KeyFile) -> anyhow::Result<Self> {
        let mut names = HashSet::new();
        let mut digests = HashSet::new();
        let mut keys = Vec::with_capacity(file.keys.len());
        for entry in &file.keys {
            let key = ApiKey::from_entry(entry)?;
            if !names.insert(key.name.clone()) {
                bail!("two keys are named `{}`", key.name);
            }
            if !digests.insert(key.digest) {
                bail!("key `{}` repeats another key's digest", key.name);
            }
            keys.push(key);
        }
        Ok(Self::new(keys))
    }

    /// Reads a keys file; a missing file is an error (a gateway without keys serves nobody).
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read the keys file {}", path.display()))?;
        Self::from_toml(&text).with_context(|| format!("in {}", path.display()))
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there is no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key whose digest matches `presented`, compared in constant time against every key
    /// (no early exit, so the time does not say which key nearly matched).
    pub fn authenticate(&self, presented: &str) -> Option<Arc<ApiKey>> {
        let digest = digest(presented);
        let mut found = None;
        for key in &self.keys {
            if bool::from(key.digest.ct_eq(&digest)) {
                found = Some(Arc::clone(key));
            }
        }
        found
    }
}

/// SHA-256 of a key.
pub fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Lowercase hex SHA-256 of a key, as the keys file stores it.
pub fn digest_hex(key: &str) -> String {
    hex::encode(digest(key))
}

/// A new random key: the prefix and 256 bits from the OS's generator, hex-encoded.
pub fn generate_key() -> String {
    let mut rng = StdRng::from_os_rng();
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    format!("{KEY_PREFIX}{}", hex::encode(bytes))
}

/// What `keys new` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewKey {
    /// The key's name.
    pub name: String,
    /// Its scopes.
    pub scopes: Vec<Scope>,
    /// The environments it is limited to (empty: all).
    pub environments: Vec<EnvironmentId>,
}

/// Generates a key, appends its entry to the keys file at `path` (created if missing) and returns
/// the key in clear: the only time it exists outside its holder.
pub fn add_key(path: &Path, new: &NewKey) -> anyhow::Result<String> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(e).with_context(|| format!("could not read {}", path.display()));
        }
    };
    if new.scopes.is_empty() {
        bail!("give the key at least one --scope");
    }
    let mut file: KeyFile = toml::from_str(&existing)
        .with_context(|| format!("{} is not a valid keys file", path.display()))?;
    let key = generate_key();
    let entry = KeyEntry {
        name: new.name.trim().to_owned(),
        sha256: digest_hex(&key),
        scopes: new.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
        environments: (!new.environments.is_empty())
            .then(|| new.environments.iter().map(ToString::to_string).collect()),
    };
    file.keys.push(entry.clone());
    // Validates the whole file with the new entry (duplicate names above all).
    KeyStore::from_file(&file)?;
    let block = toml::to_string(&KeyFile { keys: vec![entry] })
        .context("could not encode the key entry")?;
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(&block);
    std::fs::write(path, text).with_context(|| format!("could not write {}", path.display()))?;
    Ok(key)
}

#[cfg(test)]
mod tests;
