//! Flows as code against an environment: its data flows read as documents, and documents checked
//! and planned against them (`crate::plan` computes; this reads what it needs).

use futures::{StreamExt, TryStreamExt};

use super::*;
use crate::models::DataFlowQuery;
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
        let flows = futures::stream::iter(readable)
            .map(|s| async move {
                let id = DataFlowId::parse(&s.river_cross_id)?;
                let flow = self.backend.get_data_flow(env, &id).await?;
                Ok::<_, Error>(Current {
                    id: s.river_cross_id,
                    body: plan::clean(&flow.to_document()),
                })
            })
            .buffered(READ_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(Upstream {
            flows,
            legacy: legacy.into_iter().map(|s| s.name).collect(),
        })
    }

    /// Checks `desired` against `env` ([`plan::validate`], with the connections the environment
    /// lists or its data flows use) and plans it ([`plan::plan`]): every problem at once, or the
    /// plan. Reads only.
    pub async fn check_documents(
        &self,
        env: &Env,
        desired: &[Desired],
        identity: &Identity,
    ) -> Result<Checked> {
        let connections = self.list_all_connections(env, 500).await?;
        if !connections.incomplete_pages.is_empty() {
            return Err(Error::Unavailable(
                "the environment's connections could not all be listed, so the documents' connections cannot be checked".to_owned(),
            ));
        }
        let upstream = self.data_flow_documents(env).await?;
        // A connection a data flow there already uses counts as had: a document is never refused
        // for what the platform holds already.
        let mut ids: std::collections::BTreeSet<String> =
            connections.items.into_iter().map(|c| c.cross_id).collect();
        ids.extend(
            upstream
                .flows
                .iter()
                .flat_map(|c| plan::connections_of(&c.body)),
        );
        let mut problems = plan::validate(desired, &ids);
        match plan::plan(desired, identity, &upstream.flows) {
            Ok(plan) if problems.is_empty() => Ok(Checked::Planned { plan, upstream }),
            Ok(_) => Ok(Checked::Refused(problems)),
            Err(more) => {
                problems.extend(more);
                Ok(Checked::Refused(problems))
            }
        }
    }
}
