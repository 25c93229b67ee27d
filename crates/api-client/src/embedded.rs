//! The embedded sandbox behind every front end's `--sandbox` flag: one in-process emulator of
//! both APIs, and the configurations that reach it, so that `bdi`, `bdi-mcp` and `bdi-gateway`
//! start it the same way (feature `sandbox`).

use bdi_domain::Result;
use bdi_sandbox::{Sandbox, SandboxConfig};

use crate::config::{ENV_ACCOUNT_ID, ENV_API_TOKEN, ENV_API_URL, ENV_ENVIRONMENT_ID};
use crate::{BoomiFlowConfig, BoomiFlowError, ClientConfig};

/// A running in-process sandbox with its demo data. Dropping it stops it.
#[derive(Debug)]
pub struct EmbeddedSandbox {
    sandbox: Sandbox,
}

impl EmbeddedSandbox {
    /// Starts the sandbox on a free loopback port.
    pub async fn start() -> Result<Self> {
        let sandbox = Sandbox::start(SandboxConfig::default())
            .await
            .map_err(|e| bdi_domain::Error::Config(format!("could not start the sandbox: {e}")))?;
        Ok(Self { sandbox })
    }

    /// Stops the sandbox and waits for its server to end.
    pub async fn shutdown(self) {
        self.sandbox.shutdown().await;
    }

    /// The sandbox itself (its URLs, its control handle, its configuration).
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// The `DATA_INTEGRATION_*` settings that reach the sandbox (its URL, token, account and
    /// default environment), for a front end that resolves its configuration from a lookup.
    pub fn lookup(&self) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
        let config = self.sandbox.config().clone();
        let base = self.sandbox.base_url();
        move |name: &str| match name {
            ENV_API_URL => Some(base.clone()),
            ENV_API_TOKEN => Some(config.token.clone()),
            ENV_ACCOUNT_ID => Some(config.account_id.clone()),
            ENV_ENVIRONMENT_ID => Some(config.environment_id.clone()),
            _ => None,
        }
    }

    /// The Data Integration client configuration that reaches the sandbox.
    pub fn client_config(&self) -> Result<ClientConfig> {
        ClientConfig::from_lookup(self.lookup())
    }

    /// The Boomi Flow client configuration that reaches the sandbox's Boomi Flow API.
    pub fn boomi_flow_config(&self) -> std::result::Result<BoomiFlowConfig, BoomiFlowError> {
        let flow = &self.sandbox.config().boomi_flow;
        BoomiFlowConfig::new(
            &self.sandbox.boomi_flow_base_url(),
            &flow.api_key,
            Some(&flow.tenant_id),
        )
    }
}

#[cfg(test)]
mod tests {
    use bdi_domain::Backend;
    use bdi_domain::models::PageQuery;

    use super::*;
    use crate::{BoomiFlowClient, HttpBackend};

    #[tokio::test]
    async fn both_configurations_reach_the_sandbox() {
        let embedded = EmbeddedSandbox::start().await.unwrap();
        let config = embedded.client_config().unwrap();
        assert_eq!(
            config.account_id.to_string(),
            embedded.sandbox().config().account_id
        );
        let backend = HttpBackend::new(config).unwrap();
        let environments = backend
            .list_environments(PageQuery::default(), false)
            .await
            .unwrap();
        assert!(!environments.items.is_empty());
        let flows = BoomiFlowClient::new(embedded.boomi_flow_config().unwrap())
            .unwrap()
            .get_json("draw/1/flow", &[])
            .await
            .unwrap();
        assert!(flows.as_array().is_some_and(|f| !f.is_empty()));
    }
}
