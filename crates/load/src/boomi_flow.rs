//! The Boomi Flow source: the ten resources of the vendor's dlt example over [`bdi_api_client::BoomiFlowClient`], with the
//! contract's paths (`docs/boomi-flow-api.md`; not the example's defective ones), their parent/child dependencies, incremental
//! cursors, and secrets removed before anything is normalized or stored.
//!
//! | resource | path | written | key | incremental |
//! |---|---|---|---|---|
//! | `flows` | `draw/1/flow` | replace | `id__id` | |
//! | `flow` | `draw/1/flow/{id}` for each flow (only when named) | replace | `id__id` | |
//! | `flow_active` | `draw/1/flow/active` | replace | `id__id` | |
//! | `graph_flow` | `draw/1/graph/flow/{id}` for each flow | replace | `id__id` | |
//! | `runtimes` | `admin/1/tenant/runtimes` | replace | `id` | |
//! | `users` | `admin/1/users` | replace | `id` | |
//! | `api_keys` | `admin/1/users/me/keys` (only when named; never the key values) | replace | `name` | |
//! | `states` | `admin/1/states` | merge | `id` | `dateModified` (`from`) |
//! | `audit_search` | `audit/1/search` | append | `id` | `occurredAt` (`from`, inclusive) |
//! | `translations` | `translate/1/flow` | replace | `id__id` | |

use std::sync::Arc;

use bdi_api_client::{BoomiFlowClient, BoomiFlowError};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::normalize::Scrub;
use crate::schema::WriteDisposition;
use crate::source::{Incremental, Page, Resource, Source, SourceError};

/// Every resource of the source, in load order.
pub const RESOURCES: &[&str] = &[
    "flows",
    "flow",
    "flow_active",
    "graph_flow",
    "runtimes",
    "users",
    "api_keys",
    "states",
    "audit_search",
    "translations",
];

/// The resources loaded when none are named (`flow` repeats `flows`; `api_keys` only when asked).
pub const DEFAULT_RESOURCES: &[&str] = &[
    "flows",
    "flow_active",
    "graph_flow",
    "runtimes",
    "users",
    "states",
    "audit_search",
    "translations",
];

/// Fields that hold credentials: removed wherever they appear, before anything is stored.
pub const SECRET_FIELDS: &[&str] = &[
    "authorizationHeader",
    "apiKey",
    "api_key",
    "password",
    "clientSecret",
];

/// Items fetched one by one are handed on in pages of this many.
const ITEMS_PER_PAGE: usize = 50;
/// Items fetched one by one at once.
const ITEM_CONCURRENCY: usize = 4;

/// The resource `name` with its defaults, or `None` for an unknown name.
pub fn resource(name: &str) -> Option<Resource> {
    let (disposition, key, incremental): (WriteDisposition, &str, Option<(&str, &str)>) = match name
    {
        "flows" | "flow" | "flow_active" | "graph_flow" | "translations" => {
            (WriteDisposition::Replace, "id__id", None)
        }
        "runtimes" | "users" => (WriteDisposition::Replace, "id", None),
        "api_keys" => (WriteDisposition::Replace, "name", None),
        "states" => (WriteDisposition::Merge, "id", Some(("dateModified", "id"))),
        "audit_search" => (WriteDisposition::Append, "id", Some(("occurredAt", "id"))),
        _ => return None,
    };
    Some(Resource {
        name: name.to_owned(),
        write_disposition: disposition,
        primary_key: vec![key.to_owned()],
        incremental: incremental.map(|(cursor, id)| Incremental {
            cursor_field: cursor.to_owned(),
            id_field: id.to_owned(),
            lookback: None,
        }),
    })
}

/// The Boomi Flow API as a source.
#[derive(Debug)]
pub struct BoomiFlowSource {
    client: BoomiFlowClient,
    flow_ids: OnceCell<Arc<Vec<String>>>,
}

impl BoomiFlowSource {
    /// A source over `client`.
    pub fn new(client: BoomiFlowClient) -> Self {
        Self {
            client,
            flow_ids: OnceCell::new(),
        }
    }

    fn listing<'a>(
        &'a self,
        path: &'a str,
        query: Vec<(String, String)>,
    ) -> BoxStream<'a, Result<Page, BoomiFlowError>> {
        self.client
            .pages(path, query)
            .map_ok(|p| Page {
                items: p.items,
                notes: p.notes,
            })
            .boxed()
    }

    /// The ids (`id.id`) of every flow, read once per load.
    async fn flow_ids(&self) -> Result<Arc<Vec<String>>, BoomiFlowError> {
        self.flow_ids
            .get_or_try_init(|| async {
                let list = self.client.get_json("draw/1/flow", &[]).await?;
                let ids = list
                    .as_array()
                    .map(|flows| {
                        flows
                            .iter()
                            .filter_map(|f| f.pointer("/id/id").and_then(Value::as_str))
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(Arc::new(ids))
            })
            .await
            .cloned()
    }

    /// One item per flow, from `prefix/{id}`.
    fn per_flow<'a>(&'a self, prefix: &'a str) -> BoxStream<'a, Result<Page, BoomiFlowError>> {
        stream::once(self.flow_ids())
            .map_ok(move |ids| {
                let ids: Vec<String> = ids.as_ref().clone();
                stream::iter(ids)
                    .map(move |id| async move {
                        self.client.get_json(&format!("{prefix}/{id}"), &[]).await
                    })
                    .buffered(ITEM_CONCURRENCY)
            })
            .try_flatten()
            .try_ready_chunks(ITEMS_PER_PAGE)
            .map(move |chunk| match chunk {
                Ok(items) => items
                    .iter()
                    .map(serde_json::value::to_raw_value)
                    .collect::<Result<Vec<_>, _>>()
                    .map(|items| Page {
                        items,
                        notes: Vec::new(),
                    })
                    .map_err(|source| BoomiFlowError::BadResponse {
                        at: ".".to_owned(),
                        message: format!(
                            "the items under {prefix} cannot be kept as JSON: {source}"
                        ),
                        source: Some(source),
                    }),
                Err(e) => Err(e.1),
            })
            .boxed()
    }
}

impl Source for BoomiFlowSource {
    fn schema_name(&self) -> &'static str {
        "boomi_flow"
    }

    fn scrub(&self) -> Scrub {
        Scrub {
            fields: SECRET_FIELDS.iter().map(|s| (*s).to_owned()).collect(),
            values: vec![self.client.config().api_key.expose().to_owned()],
        }
    }

    fn pages<'a>(
        &'a self,
        resource: &'a Resource,
        start: Option<String>,
    ) -> BoxStream<'a, Result<Page, SourceError>> {
        let from = |extra: &[(&str, &str)]| -> Vec<(String, String)> {
            let mut q: Vec<(String, String)> = extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            if let Some(s) = &start {
                q.push(("from".to_owned(), s.clone()));
            }
            q
        };
        let pages = match resource.name.as_str() {
            "flows" => self.listing("draw/1/flow", Vec::new()),
            "flow" => self.per_flow("draw/1/flow"),
            "flow_active" => self.listing("draw/1/flow/active", Vec::new()),
            "graph_flow" => self.per_flow("draw/1/graph/flow"),
            "runtimes" => self.listing("admin/1/tenant/runtimes", Vec::new()),
            "users" => self.listing("admin/1/users", Vec::new()),
            "api_keys" => self.listing("admin/1/users/me/keys", Vec::new()),
            "states" => self.listing("admin/1/states", from(&[])),
            "audit_search" => self.listing(
                "audit/1/search",
                from(&[("orderBy", "occurredAt"), ("orderDirection", "ASC")]),
            ),
            "translations" => self.listing("translate/1/flow", Vec::new()),
            other => {
                let e = SourceError::UnknownResource {
                    name: other.to_owned(),
                    known: RESOURCES.join(", "),
                };
                return stream::once(async move { Err(e) }).boxed();
            }
        };
        pages.map_err(SourceError::from).boxed()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_resource_has_defaults_and_unknown_names_have_none() {
        for name in RESOURCES {
            assert!(resource(name).is_some(), "{name}");
        }
        assert!(DEFAULT_RESOURCES.iter().all(|r| RESOURCES.contains(r)));
        assert!(!DEFAULT_RESOURCES.contains(&"flow") && !DEFAULT_RESOURCES.contains(&"api_keys"));
        assert!(resource("runtime").is_none());
        let audit = resource("audit_search").expect("known");
        assert_eq!(audit.write_disposition, WriteDisposition::Append);
        assert_eq!(
            audit.incremental.map(|i| i.cursor_field),
            Some("occurredAt".to_owned())
        );
    }

    #[test]
    fn secrets_never_reach_a_row() {
        let config =
            bdi_api_client::BoomiFlowConfig::new("http://127.0.0.1:9", "the-key-itself", None)
                .unwrap();
        let source = BoomiFlowSource::new(BoomiFlowClient::new(config).unwrap());
        assert!(!format!("{:?}", source.scrub()).contains("the-key-itself"));
        let item = serde_json::value::to_raw_value(&json!({
            "id": "s1",
            "authorizationHeader": "Bearer abc",
            "values": [{"apiKey": "k", "name": "n"}, "the-key-itself"],
            "note": "the-key-itself",
            "nested": {"Password": "p", "kept": 1},
            "bearer": "Bearer the-key-itself",
            "padded": "  the-key-itself  ",
            "the-key-itself": 1,
            "authorization_header": "h1",
            "authorization-header": "h2",
            " authorizationHeader": "h3",
            "api-key": "k2",
            "x-api-key": "k3",
            "userPassword": "p2",
            "password_policy": "kept too"
        }))
        .unwrap();
        let mut schema = crate::schema::Schema::default();
        let mut batch = crate::normalize::Batch::default();
        crate::normalize::Normalizer::with_scrub("1", source.scrub())
            .normalize_raw(&mut schema, "states", &[item], None, &mut batch)
            .unwrap();
        let names = |t: &str| -> Vec<&str> {
            schema.tables[t]
                .columns
                .keys()
                .map(String::as_str)
                .collect()
        };
        assert_eq!(
            names("states"),
            [
                "id",
                "nested__kept",
                "password_policy",
                "_dlt_load_id",
                "_dlt_id"
            ]
        );
        // Nor in the stored schema, nor any of the values.
        let stored = serde_json::to_string(&schema).unwrap();
        assert!(
            !stored.contains("the-key-itself") && !stored.contains("the_key_itself"),
            "{stored}"
        );
        assert_eq!(
            names("states__values"),
            ["name", "_dlt_parent_id", "_dlt_list_idx", "_dlt_id"]
        );
        assert_eq!(
            batch.rows_of("states__values"),
            1,
            "the key's own value is gone"
        );
    }
}
