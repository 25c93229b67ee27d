//! Flows as code against an environment: its data flows read as documents, and documents checked
//! and planned against them (`crate::plan` computes; this reads what it needs).

use futures::{StreamExt, TryStreamExt};

use super::*;
use crate::models::DataFlowQuery;
use crate::plan::connections::ConnectionDocument;
use crate::plan::variables::VariablesDocument;
use crate::plan::{self, Current, Desired, Identity, Plan, Problem};

/// Data flows read at once: within the platform's read limits, with the client's 429 handling.
const READ_CONCURRENCY: usize = 4;
/// Data flows listed per page (the most the platform gives).
const PER_PAGE: u32 = 500;
/// Pages listed at most (250,000 data flows): longer is [`Error::PagingCap`], never a cut.
const MAX_PAGES: u32 = 500;

/// An environment's data flows as documents.
#[derive(Clone, Debug, Default)]
pub struct Upstream {
    /// The data flows the API can read, in clean form.
    pub flows: Vec<Current>,
    /// The names of those made in the legacy console, which the API cannot read.
    pub legacy: Vec<String>,
    /// The groups its data flows are in: id → name.
    pub groups: BTreeMap<String, String>,
}

/// An environment's connections and variables, as far as a plan reads them.
#[derive(Clone, Debug, Default)]
pub struct UpstreamSettings {
    /// Every connection: id → name.
    pub listed: BTreeMap<String, String>,
    /// The connections read in full (the ones documents may be), in document form.
    pub connections: Vec<Current>,
    /// The secret fields each of those stores (id → fields).
    pub stored_secrets: BTreeMap<String, Vec<String>>,
    /// Its variables (`None`: the token may not read them, scope `variables:list`).
    pub variables: Option<crate::models::Variables>,
}

/// The documents of a directory: data flows, connections, variables.
#[derive(Clone, Debug, Default)]
pub struct Documents {
    /// The data flows.
    pub flows: Vec<Desired>,
    /// The connections.
    pub connections: Vec<ConnectionDocument>,
    /// The variables, if the directory has them.
    pub variables: Option<VariablesDocument>,
}

/// The identity record's part for one environment: file → id, per kind.
#[derive(Clone, Debug, Default)]
pub struct Identities {
    /// Data flow files.
    pub flows: Identity,
    /// Connection files.
    pub connections: Identity,
}

/// What checking and planning documents against an environment gives.
#[derive(Clone, Debug)]
pub enum Checked {
    /// The documents hold problems: nothing may be sent.
    Refused(Vec<Problem>),
    /// The plan, and the data flows it was computed against.
    Planned {
        /// The plan.
        plan: Plan,
        /// The environment's data flows, as read.
        upstream: Upstream,
        /// Its connections and variables, as read.
        settings: UpstreamSettings,
    },
}

impl Service {
    /// Every data flow of `env` as a clean document: the list (every page, up to 250,000
    /// flows), then each flow read, four at once. Flows made in the legacy console are named
    /// apart.
    pub async fn data_flow_documents(&self, env: &Env) -> Result<Upstream> {
        let summaries = crate::paging::sweep(PER_PAGE, MAX_PAGES, |page| async move {
            let query = DataFlowQuery {
                page,
                ..Default::default()
            };
            self.backend.list_data_flows(env, &query).await
        })
        .await?;
        let (readable, legacy): (Vec<_>, Vec<_>) = summaries.into_iter().partition(|s| s.is_api_v2);
        let read: Vec<(Current, Option<(String, String)>)> = futures::stream::iter(readable)
            .map(|s| async move {
                let id = DataFlowId::parse(&s.river_cross_id)?;
                let raw = self.backend.get_data_flow(env, &id).await?.to_document();
                let text = |k: &str| raw.get(k).and_then(Value::as_str).map(str::to_owned);
                let group = text("group_id").zip(text("group_name"));
                Ok::<_, Error>((
                    Current {
                        id: s.river_cross_id,
                        body: plan::clean(&raw),
                    },
                    group,
                ))
            })
            .buffered(READ_CONCURRENCY)
            .try_collect()
            .await?;
        let groups = read.iter().filter_map(|(_, g)| g.clone()).collect();
        Ok(Upstream {
            flows: read.into_iter().map(|(c, _)| c).collect(),
            legacy: legacy.into_iter().map(|s| s.name).collect(),
            groups,
        })
    }

    /// The connections `ids` of `env` in document form, each with the secret fields it stores,
    /// read four at once, in order.
    pub async fn connection_documents(
        &self,
        env: &Env,
        ids: impl IntoIterator<Item = String>,
    ) -> Result<Vec<(Current, Vec<String>)>> {
        futures::stream::iter(ids)
            .map(|id| async move {
                let conn = self
                    .backend
                    .get_connection(env, &ConnectionId::parse(&id)?)
                    .await?;
                let (body, stored) = plan::connections::document_of(&conn);
                Ok::<_, Error>((Current { id, body }, stored))
            })
            .buffered(READ_CONCURRENCY)
            .try_collect()
            .await
    }

    /// The connections of `env` that `documents` may be ([`plan::connections::candidates`]),
    /// read in full, four at once, with every connection's name and the variables.
    pub async fn environment_settings(
        &self,
        env: &Env,
        documents: &[ConnectionDocument],
        identity: &Identity,
    ) -> Result<UpstreamSettings> {
        let (connections, variables) =
            futures::try_join!(self.list_all_connections(env, 500), async {
                // A token that may not read variables still plans data flows and connections.
                match self.backend.list_variables(env).await {
                    Ok(v) => Ok(Some(v)),
                    Err(Error::Forbidden { .. }) => Ok(None),
                    Err(e) => Err(e),
                }
            })?;
        if !connections.incomplete_pages.is_empty() {
            return Err(Error::Unavailable(
                "the environment's connections could not all be listed, so the documents' connections cannot be checked".to_owned(),
            ));
        }
        let listed: BTreeMap<String, String> = connections
            .items
            .into_iter()
            .map(|c| (c.cross_id, c.connection_name))
            .collect();
        let wanted = plan::connections::candidates(documents, identity, &listed);
        let read = self.connection_documents(env, wanted).await?;
        let stored_secrets = read
            .iter()
            .map(|(c, s)| (c.id.clone(), s.clone()))
            .collect();
        Ok(UpstreamSettings {
            listed,
            connections: read.into_iter().map(|(c, _)| c).collect(),
            stored_secrets,
            variables,
        })
    }

    /// Checks data flow documents alone against `env` ([`Service::check_environment`] with no
    /// connection or variable documents).
    pub async fn check_documents(
        &self,
        env: &Env,
        desired: &[Desired],
        identity: &Identity,
    ) -> Result<Checked> {
        let documents = Documents {
            flows: desired.to_vec(),
            ..Documents::default()
        };
        let identities = Identities {
            flows: identity.clone(),
            ..Identities::default()
        };
        self.check_environment(env, &documents, &identities).await
    }

    /// Checks a directory's documents against `env` and plans them: every problem at once
    /// ([`plan::validate`] with the connections the environment lists or its data flows use,
    /// and the variables the data flows name), or the plan: variables,
    /// then connections, then data flows. Reads only.
    pub async fn check_environment(
        &self,
        env: &Env,
        documents: &Documents,
        identity: &Identities,
    ) -> Result<Checked> {
        let (settings, upstream) = futures::try_join!(
            self.environment_settings(env, &documents.connections, &identity.connections),
            self.data_flow_documents(env)
        )?;
        Ok(checked(documents, identity, settings, upstream, true))
    }

    /// Checks data flow documents pulled from another environment against the target `env`
    /// and plans them there: the documents translated first ([`plan::promotion::translate`]:
    /// connections and groups mapped by name, every connection and variable the target lacks a
    /// problem), then checked as [`Service::check_environment`] checks. The environment is read
    /// once. Connection and variable documents are not promoted: their values are each
    /// environment's own. Reads only. Returns the translated documents too: what an apply
    /// sends.
    pub async fn check_promotion(
        &self,
        env: &Env,
        flows: &[Desired],
        identity: &Identity,
        source: &plan::promotion::SourceNames,
        overrides: &plan::promotion::Overrides,
    ) -> Result<(Checked, Vec<plan::promotion::Notice>, Vec<Desired>)> {
        let none = Identity::default();
        let (settings, upstream) = futures::try_join!(
            self.environment_settings(env, &[], &none),
            self.data_flow_documents(env)
        )?;
        let target = plan::promotion::Target {
            connections: settings
                .listed
                .iter()
                .map(|(id, name)| (name.clone(), id.clone()))
                .collect(),
            groups: upstream
                .groups
                .iter()
                .map(|(id, name)| (name.clone(), id.clone()))
                .collect(),
            variables: settings
                .variables
                .as_ref()
                .map(|v| v.keys().cloned().collect()),
        };
        let mut translated = flows.to_vec();
        let notices = match plan::promotion::translate(&mut translated, source, &target, overrides)
        {
            Ok(notices) => notices,
            Err(problems) => return Ok((Checked::Refused(problems), Vec::new(), Vec::new())),
        };
        let documents = Documents {
            flows: translated,
            ..Documents::default()
        };
        let identities = Identities {
            flows: identity.clone(),
            ..Identities::default()
        };
        Ok((
            checked(&documents, &identities, settings, upstream, false),
            notices,
            documents.flows,
        ))
    }
}

/// The checks and the plan, on what was read (`references`: whether to check the variables the
/// data flows name; a promotion checked them against the target already).
fn checked(
    documents: &Documents,
    identity: &Identities,
    settings: UpstreamSettings,
    upstream: Upstream,
    references: bool,
) -> Checked {
    // A connection a data flow there already uses counts as had: a document is never refused
    // for what the platform holds already.
    let mut ids: std::collections::BTreeSet<String> = settings.listed.keys().cloned().collect();
    ids.extend(
        upstream
            .flows
            .iter()
            .flat_map(|c| plan::connections_of(&c.body)),
    );
    let mut problems = plan::validate(&documents.flows, &ids);
    match (&settings.variables, &documents.variables) {
        (Some(current), vars) => {
            let mut known: std::collections::BTreeSet<String> = current.keys().cloned().collect();
            if let Some(vars) = vars {
                known.extend(vars.values.keys().cloned());
            }
            if references {
                problems.extend(plan::variables::check_references(&documents.flows, &known));
            }
        }
        (None, Some(vars)) => problems.push(Problem {
            file: vars.file.clone(),
            path: None,
            message: "the token may not read the environment's variables (scope variables:list), so they cannot be compared: give it the scope, or move the file away".to_owned(),
        }),
        // Nothing to compare, and the variables the data flows name cannot be checked.
        (None, None) => {}
    }
    let mut whole = Plan::default();
    if let (Some(vars), Some(current)) = (&documents.variables, &settings.variables) {
        whole.extend(plan::variables::plan(vars, current));
    }
    match plan::connections::plan(
        &documents.connections,
        &identity.connections,
        &settings.connections,
    ) {
        Ok(p) => whole.extend(p),
        Err(more) => problems.extend(more),
    }
    match plan::plan(&documents.flows, &identity.flows, &upstream.flows) {
        Ok(p) => whole.extend(p),
        Err(more) => problems.extend(more),
    }
    if problems.is_empty() {
        Checked::Planned {
            plan: whole,
            upstream,
            settings,
        }
    } else {
        Checked::Refused(problems)
    }
}
