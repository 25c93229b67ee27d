//! Test harness: a sandbox on a loopback port plus a small authenticated HTTP helper.

use bdi_sandbox::{
    Control, DEFAULT_ACCOUNT_ID, DEFAULT_ENVIRONMENT_ID, DEFAULT_TOKEN, Sandbox, SandboxConfig,
};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// A response: status, headers and body (JSON when it parses, else a string).
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: StatusCode,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) text: String,
}

impl Resp {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The `detail` message of a non-422 error.
    pub(crate) fn detail(&self) -> String {
        self.json()["detail"]
            .as_str()
            .expect("detail is a string")
            .to_owned()
    }

    /// The first item of a 422 detail list.
    pub(crate) fn first_error(&self) -> Value {
        assert_eq!(
            self.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            self.text
        );
        self.json()["detail"][0].clone()
    }
}

pub(crate) struct Harness {
    pub(crate) sandbox: Sandbox,
    pub(crate) control: Control,
    pub(crate) http: reqwest::Client,
    pub(crate) token: String,
}

impl Harness {
    pub(crate) async fn start() -> Harness {
        Harness::with(SandboxConfig::default()).await
    }

    pub(crate) async fn with(config: SandboxConfig) -> Harness {
        let sandbox = Sandbox::start(config).await.expect("sandbox starts");
        let control = sandbox.control();
        // reqwest is built with `rustls-no-provider`; even a plain-http client needs one installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Harness {
            sandbox,
            control,
            http: reqwest::Client::new(),
            token: DEFAULT_TOKEN.to_owned(),
        }
    }

    /// `{base}/v1/accounts/{A}/environments/{E}{suffix}`.
    pub(crate) fn e(&self, suffix: &str) -> String {
        format!(
            "{}/v1/accounts/{DEFAULT_ACCOUNT_ID}/environments/{DEFAULT_ENVIRONMENT_ID}{suffix}",
            self.sandbox.base_url()
        )
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    pub(crate) async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> Resp {
        let mut req = self.http.request(method, url);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.expect("request is sent");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body is read");
        Resp {
            status,
            headers,
            text,
        }
    }

    pub(crate) async fn get(&self, url: &str) -> Resp {
        self.send(Method::GET, url, None, Some(&self.token)).await
    }

    pub(crate) async fn post(&self, url: &str, body: &Value) -> Resp {
        self.send(Method::POST, url, Some(body), Some(&self.token))
            .await
    }

    pub(crate) async fn post_empty(&self, url: &str) -> Resp {
        self.send(Method::POST, url, None, Some(&self.token)).await
    }

    pub(crate) async fn put(&self, url: &str, body: &Value) -> Resp {
        self.send(Method::PUT, url, Some(body), Some(&self.token))
            .await
    }

    pub(crate) async fn delete(&self, url: &str) -> Resp {
        self.send(Method::DELETE, url, None, Some(&self.token))
            .await
    }

    /// Polls an operation until it is D or E (bounded).
    pub(crate) async fn poll_op(&self, op_id: &str) -> Value {
        for _ in 0..20 {
            let r = self.get(&self.e(&format!("/operations/{op_id}"))).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            let op = r.json();
            if matches!(op["status"].as_str(), Some("D" | "E")) {
                return op;
            }
        }
        panic!("operation {op_id} never finished");
    }

    /// Polls a run until it is terminal (bounded).
    pub(crate) async fn poll_run(&self, river: &str, run_id: &str) -> Value {
        for _ in 0..20 {
            let r = self
                .get(&self.e(&format!("/rivers/{river}/runs/{run_id}")))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            let run = r.json();
            if !matches!(run["status"].as_str(), Some("pending" | "running")) {
                return run;
            }
        }
        panic!("run {run_id} never finished");
    }

    /// Creates a flow by POST, then PUTs the same body once (so it can be activated).
    pub(crate) async fn create_flow(&self, body: &Value, put_after: bool) -> String {
        let r = self.post(&self.e("/rivers"), body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let id = r.json()["cross_id"].as_str().expect("cross_id").to_owned();
        if put_after {
            let r = self.put(&self.e(&format!("/rivers/{id}")), body).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        }
        id
    }

    /// Activates a flow and polls the operation to D.
    pub(crate) async fn activate(&self, id: &str) {
        let r = self
            .post_empty(&self.e(&format!("/rivers/{id}/activate_river")))
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
        let op = self
            .poll_op(r.json()["operation_id"].as_str().expect("operation_id"))
            .await;
        assert_eq!(op["status"], "D", "{op}");
    }
}

/// A minimal valid MySQL -> Snowflake flow body selecting `tables` in schema `sales`.
pub(crate) fn flow_body(name: &str, tables: &[&str]) -> Value {
    let tables: Vec<Value> = tables
        .iter()
        .map(|t| serde_json::json!({"run_type_and_datasource": "multi_tables", "details": {"name": t, "is_selected": true}}))
        .collect();
    serde_json::json!({
        "name": name,
        "type": "source_to_target",
        "kind": "main_river",
        "metadata": {"description": "made by a test"},
        "settings": {},
        "properties": {
            "properties_type": "source_to_target",
            "source": {"name": "mysql", "connection_id": bdi_sandbox::demo::MYSQL_CONNECTION_ID, "run_type": "multi_tables"},
            "target": {"name": "snowflake", "connection_id": bdi_sandbox::demo::SNOWFLAKE_CONNECTION_ID, "loading_method": "append"},
            "schemas": if tables.is_empty() { serde_json::json!([]) } else { serde_json::json!([{"name": "sales", "tables": tables}]) },
        },
    })
}

/// A query window wide enough for every seeded and new run.
pub(crate) const WINDOW: &str = "start_time=2000-01-01T00:00:00&end_time=2100-01-01T00:00:00";
