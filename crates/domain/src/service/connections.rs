//! Environments, connections (the sweep, updates that protect stored credentials) and
//! variables.

use super::*;

impl Service {
    /// Every environment of the account (an account has a few: pages of 100, read in order, at
    /// most [`MAX_SWEEP_PAGES`]; more is [`Error::PagingCap`]).
    pub async fn list_all_environments(&self, include_deleted: bool) -> Result<Vec<Environment>> {
        crate::paging::sweep(100, MAX_SWEEP_PAGES, |page| {
            self.backend.list_environments(page, include_deleted)
        })
        .await
    }

    /// Every connection: page 1, then the other pages concurrently (at most
    /// [`SWEEP_CONCURRENCY`] at once, [`MAX_SWEEP_PAGES`] in all), in page order. A page failing
    /// transiently is listed in `incomplete_pages`; any other failure fails the call, and a
    /// listing longer than [`MAX_SWEEP_PAGES`] pages is [`Error::PagingCap`].
    pub async fn list_all_connections(
        &self,
        env: &Env,
        items_per_page: u32,
    ) -> Result<ConnectionSweep> {
        let per_page = items_per_page.clamp(1, 500);
        let first = self
            .backend
            .list_connections(env, PageQuery::new(1, per_page))
            .await?;
        let total = first.total_items;
        let mut more = first.has_next(per_page);
        let mut items = first.items;
        let mut incomplete = Vec::new();
        let mut pages = 1;
        if total > 0 {
            let last = u32::try_from(total.div_ceil(u64::from(per_page))).unwrap_or(u32::MAX);
            if last > MAX_SWEEP_PAGES {
                return Err(Error::PagingCap {
                    pages: MAX_SWEEP_PAGES,
                });
            }
            if last > 1 {
                let mut results: Vec<(u32, Result<Page<Connection>>)> = stream::iter(2..=last)
                    .map(|p| async move {
                        (
                            p,
                            self.backend
                                .list_connections(env, PageQuery::new(p, per_page))
                                .await,
                        )
                    })
                    .buffer_unordered(SWEEP_CONCURRENCY)
                    .collect()
                    .await;
                results.sort_by_key(|(p, _)| *p);
                for (p, r) in results {
                    match r {
                        Ok(page) => items.extend(page.items),
                        Err(e) if e.is_transient() => {
                            tracing::warn!(page = p, error = %e, "connections page skipped");
                            incomplete.push(p);
                        }
                        Err(e) => return Err(e),
                    }
                }
                pages = last;
            }
        } else {
            // No total given: read on until a page says it is the last.
            while more {
                if pages == MAX_SWEEP_PAGES {
                    return Err(Error::PagingCap { pages });
                }
                pages += 1;
                match self
                    .backend
                    .list_connections(env, PageQuery::new(pages, per_page))
                    .await
                {
                    Ok(page) => {
                        more = page.has_next(per_page);
                        items.extend(page.items);
                    }
                    Err(e) if e.is_transient() => incomplete.push(pages),
                    Err(e) => return Err(e),
                }
            }
        }
        let total_items = if total > 0 { total } else { items.len() as u64 };
        Ok(ConnectionSweep {
            items,
            total_items,
            pages,
            incomplete_pages: incomplete,
        })
    }

    /// Deep-merges `patch` into a connection and saves it. The GET omits secrets, so a save
    /// without them would erase the stored ones: unless `allow_secret_reset`, a connection that
    /// stores a secret is only updated when the patch carries credentials again.
    pub async fn update_connection(
        &self,
        env: &Env,
        id: &ConnectionId,
        patch: &Value,
        allow_secret_reset: bool,
    ) -> Result<Connection> {
        let Value::Object(fields) = patch else {
            return Err(Error::invalid(
                "body",
                "the update must be a JSON object of the fields to change",
            ));
        };
        let guard = self.locks.lock(&connection_key(id)).await?;
        let current = self.backend.get_connection(env, id).await?;
        if current.has_stored_secret() && !allow_secret_reset && !carries_credentials(patch) {
            let stored: Vec<&str> = current
                .extra
                .iter()
                .filter(|(_, v)| v.as_bool() == Some(true))
                .filter_map(|(k, _)| k.strip_suffix("_exists"))
                .collect();
            return Err(Error::invalid(
                crate::error::STORED_CREDENTIALS,
                format!(
                    "connection {id} stores secrets ({}) that the API never returns, so saving it without them would erase them: include the credentials again in the update, or allow the credential reset explicitly to clear them on purpose",
                    stored.join(", ")
                ),
            ));
        }
        let mut doc = serde_json::to_value(&current).map_err(|e| Error::Decode {
            path: "connection".to_owned(),
            message: e.to_string(),
        })?;
        merge_patch(&mut doc, patch);
        let Value::Object(mut body) = doc else {
            return Err(Error::invalid("body", "the update must be a JSON object"));
        };
        strip_forbidden(&mut body);
        body.retain(|k, _| !k.ends_with("_exists"));
        if !fields.contains_key("connection_type")
            && let Some(slug) = current
                .connection_type_id
                .as_deref()
                .filter(|s| !s.is_empty())
        {
            body.insert("connection_type".to_owned(), Value::String(slug.to_owned()));
        }
        guard.check().await?;
        self.backend.update_connection(env, id, &body).await
    }

    /// Creates or updates environment variables (other keys stay untouched). Names are checked
    /// before any request: not empty, no `.` or `$`, no duplicates. Returns how many were sent.
    pub async fn upsert_variables(&self, env: &Env, vars: Vec<(String, String)>) -> Result<usize> {
        let map = validate_variables(vars)?;
        self.backend.upsert_variables(env, &map).await?;
        Ok(map.len())
    }
}

/// Every connection of an environment.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionSweep {
    /// The connections, in page order.
    pub items: Vec<Connection>,
    /// The upstream's total (or the count read, when it gave none).
    pub total_items: u64,
    /// How many pages were requested.
    pub pages: u32,
    /// Pages that failed transiently and are missing from `items`.
    pub incomplete_pages: Vec<u32>,
}

/// Checks variable names and builds the map sent upstream.
pub fn validate_variables(vars: Vec<(String, String)>) -> Result<Variables> {
    if vars.is_empty() {
        return Err(Error::invalid(
            "variables",
            "give at least one {\"name\": ..., \"value\": ...} pair",
        ));
    }
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    let mut map = BTreeMap::new();
    for (i, (name, value)) in vars.into_iter().enumerate() {
        let n = name.trim();
        if n.is_empty() {
            problems.push(format!("item {} has an empty name", i + 1));
        } else if n.contains('.') || n.contains('$') {
            problems.push(format!(
                "{} contains `.` or `$`, which variable names cannot",
                quote(n)
            ));
        } else if !seen.insert(n.to_owned()) {
            problems.push(format!("{} is given more than once", quote(n)));
        } else {
            map.insert(n.to_owned(), value);
        }
    }
    if problems.is_empty() {
        Ok(map)
    } else {
        Err(Error::invalid(
            "variables",
            format!("{}; nothing was changed", problems.join("; ")),
        ))
    }
}

/// Whether a key names a credential (password, token, secret, key...).
pub fn is_credential_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    if k.ends_with("_exists") {
        return false;
    }
    [
        "password",
        "passwd",
        "secret",
        "token",
        "credential",
        "pkey",
        "private_key",
    ]
    .iter()
    .any(|w| k.contains(w))
        || k == "key"
        || k.ends_with("_key")
}

/// Whether a patch carries a non-empty credential anywhere in its objects.
pub fn carries_credentials(patch: &Value) -> bool {
    match patch {
        Value::Object(m) => m.iter().any(|(k, v)| {
            let filled = match v {
                Value::Null => false,
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            (is_credential_key(k) && filled) || carries_credentials(v)
        }),
        _ => false,
    }
}
