//! End to end over real HTTP on 127.0.0.1: a service holding only a gateway key lists, creates,
//! selects tables, activates, runs and waits, and reads logs through the gateway in front of the
//! sandbox; the throttle refuses before the upstream is touched; writes are audited.

use bdi_api_client::{ClientConfig, HttpBackend, RetryPolicy};
use bdi_domain::models::DataFlowQuery;
use bdi_domain::service::source_to_target_body;
use bdi_domain::{AccountId, Backend, DataFlowId, Env, EnvironmentId, NewDataFlow, RunId};
use bdi_rest_proxy::audit::Audit;
use bdi_rest_proxy::serve::RunningGateway;
use bdi_rest_proxy::{AppState, Limits};
use bdi_sandbox::{Sandbox, SandboxConfig, demo};
use serde_json::{Value, json};

use crate::support::fast_poll;

const KEY: &str = "bdig_e2e_service_key";

fn http() -> reqwest::Client {
    // reqwest is built without a default TLS provider; plain HTTP needs none, but building a
    // client still asks for one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_with_only_a_gateway_key_does_everything_through_the_gateway() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    sandbox.control().set_steps(1);
    let sc = sandbox.config().clone();
    let account = AccountId::parse(&sc.account_id).unwrap();
    let env_id = EnvironmentId::parse(&sc.environment_id).unwrap();

    // The gateway holds the upstream token.
    let (audit, records) = Audit::capturing();
    let mut config = crate::support::sandbox_gateway(&sandbox, "etl-service", KEY);
    config.audit = audit;
    config.limits = Limits {
        poll: fast_poll(),
        ..Limits::default()
    };
    let state = AppState::new(config);
    let gw = RunningGateway::start("127.0.0.1:0".parse().unwrap(), state.clone())
        .await
        .unwrap();

    // The service: the project's own client, pointed at the gateway with the gateway key.
    let client = HttpBackend::new(
        ClientConfig::new(&gw.base_url(), KEY, account.clone())
            .unwrap()
            .with_default_environment(Some(env_id.clone()))
            .with_retry(RetryPolicy::none()),
    )
    .unwrap();
    let env = Env::Default;

    let listed = client
        .list_data_flows(&env, &DataFlowQuery::default())
        .await
        .unwrap();
    assert!(
        listed
            .items
            .iter()
            .any(|f| f.river_cross_id == demo::ORDERS_FLOW_ID)
    );
    let body = source_to_target_body(&NewDataFlow {
        name: "gateway e2e".into(),
        source_name: "mysql".into(),
        source_connection_id: demo::MYSQL_CONNECTION_ID.parse().unwrap(),
        target_name: "snowflake".into(),
        target_connection_id: demo::SNOWFLAKE_CONNECTION_ID.parse().unwrap(),
        loading_method: None,
        target_settings: Some(
            json!({"database_name": "DW", "schema_name": "RAW"})
                .as_object()
                .unwrap()
                .clone(),
        ),
        description: None,
    })
    .unwrap();
    let created = client.create_data_flow(&env, &body).await.unwrap();
    let flow = DataFlowId::parse(&created.cross_id).unwrap();

    let http = http();
    let base = format!(
        "{}/bdi/v1/environments/{env_id}/data_flows/{flow}",
        gw.base_url()
    );
    let r = http
        .put(format!("{base}/source_tables"))
        .bearer_auth(KEY)
        .json(&json!({"tables": ["orders", "sales.customers"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let tables: Value = r.json().await.unwrap();
    assert_eq!(
        tables["tables"],
        json!([{"schema": "sales", "table": "orders"}, {"schema": "sales", "table": "customers"}])
    );

    let r = http
        .post(format!("{base}/activate?timeout_seconds=30"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let activation: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{activation}");
    assert_eq!(activation["succeeded"], true, "{activation}");

    let r = http
        .post(format!("{base}/run?timeout_seconds=30"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let ran: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{ran}");
    assert_eq!(ran["outcome"], "finished", "{ran}");
    let run_id = RunId::parse(ran["run_id"].as_str().unwrap()).unwrap();
    let logs = client.get_run_logs(&env, &flow, &run_id).await.unwrap();
    assert!(!logs.is_empty(), "the sandbox keeps logs of finished runs");

    // A second run through the pass-through; the third within the minute is refused by the
    // gateway, and the sandbox never sees it.
    client.run_data_flow(&env, &flow, false).await.unwrap();
    let run_path = format!("/rivers/{flow}/run");
    assert_eq!(sandbox.control().request_count("POST", &run_path), 2);
    let r = http
        .post(format!(
            "{}/v1/accounts/{account}/environments/{env_id}/rivers/{flow}/run",
            gw.base_url()
        ))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&after), "{after}");
    assert_eq!(
        sandbox.control().request_count("POST", &run_path),
        2,
        "the upstream was not touched"
    );

    // No key, no service.
    let r = http
        .get(format!(
            "{}/v1/accounts/{account}/environments/{env_id}/rivers",
            gw.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // The audit: one line per write, with the key's name and never a secret.
    let audit = records.lock().unwrap().clone();
    let writes: Vec<(String, u16)> = audit
        .iter()
        .map(|a| (a.method.clone() + " " + &a.route, a.status))
        .collect();
    assert_eq!(
        writes,
        vec![
            (
                "POST /v1/accounts/{account}/environments/{env}/rivers".to_owned(),
                201
            ),
            (
                "PUT /bdi/v1/environments/{env}/data_flows/{flow}/source_tables".to_owned(),
                200
            ),
            (
                "POST /bdi/v1/environments/{env}/data_flows/{flow}/activate".to_owned(),
                200
            ),
            (
                "POST /bdi/v1/environments/{env}/data_flows/{flow}/run".to_owned(),
                200
            ),
            (
                "POST /v1/accounts/{account}/environments/{env}/rivers/{flow}/run".to_owned(),
                202
            ),
            (
                "POST /v1/accounts/{account}/environments/{env}/rivers/{flow}/run".to_owned(),
                429
            ),
        ]
    );
    assert!(
        audit
            .iter()
            .all(|a| a.key == "etl-service" && a.target.as_deref() == Some(flow.as_str()))
    );
    let text = serde_json::to_string(&audit).unwrap();
    assert!(!text.contains(KEY) && !text.contains(&sc.token), "{text}");

    gw.shutdown().await.unwrap();
    sandbox.shutdown().await;
}

#[test]
fn a_stop_signal_right_after_start_drains_and_exits_cleanly() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.toml");
    bdi_rest_proxy::keys::add_key(
        &keys,
        &bdi_rest_proxy::keys::NewKey {
            name: "etl".into(),
            scopes: bdi_rest_proxy::scopes::Scope::ALL.to_vec(),
            environments: Vec::new(),
        },
    )
    .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bdi-gateway"))
        .args(["--sandbox", "--addr", "127.0.0.1:0", "--keys"])
        .arg(&keys)
        .env("BDI_CONFIG", dir.path().join("no-config.toml"))
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("bdi-gateway listening") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "bdi-gateway stopped before listening"
        );
    }
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    // At once, as a supervisor that stops what it just started.
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    assert_eq!(child.wait().unwrap().code(), Some(0), "a clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ci_job_plans_documents_through_the_gateway_without_the_account_token() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let sc = sandbox.config().clone();
    let env_id = sc.environment_id.clone();
    let state = AppState::new(crate::support::sandbox_gateway(&sandbox, "ci-plan", KEY));
    let gw = RunningGateway::start("127.0.0.1:0".parse().unwrap(), state)
        .await
        .unwrap();
    // The documents, as a pull would have written them.
    let upstream = HttpBackend::new(
        ClientConfig::new(
            &sandbox.base_url(),
            &sc.token,
            AccountId::parse(&sc.account_id).unwrap(),
        )
        .unwrap()
        .with_default_environment(Some(EnvironmentId::parse(&env_id).unwrap())),
    )
    .unwrap();
    let found = bdi_domain::Service::new(std::sync::Arc::new(upstream))
        .data_flow_documents(&Env::Default)
        .await
        .unwrap();
    let mut documents: Vec<Value> = found
        .flows
        .iter()
        .enumerate()
        .map(|(i, f)| json!({"file": format!("flows/{i}.yaml"), "document": f.body}))
        .collect();
    let identity: serde_json::Map<String, Value> = found
        .flows
        .iter()
        .enumerate()
        .map(|(i, f)| (format!("flows/{i}.yaml"), json!(f.id)))
        .collect();
    let url = format!("{}/bdi/v1/environments/{env_id}/plan", gw.base_url());
    let plan = |body: Value| {
        let url = url.clone();
        async move {
            let r = http()
                .post(url)
                .bearer_auth(KEY)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };

    let (status, body) = plan(json!({"documents": documents, "identity": identity})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["changes"], json!([]));
    assert_eq!(body["pending"], false);
    assert_eq!(body["unchanged"].as_u64(), Some(found.flows.len() as u64));

    documents[0]["document"]["name"] = json!("renamed in a pull request");
    let (status, body) = plan(json!({"documents": documents, "identity": identity})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["pending"], true);
    assert_eq!(body["changes"][0]["action"], "rename");
    assert_eq!(body["changes"][0]["id"], json!(found.flows[0].id));

    // Connections and variables too: a parameter and a value changed in git, a secret in a file
    // refused, and a variable from the job's environment neither sent nor compared.
    let service = bdi_domain::Service::new(std::sync::Arc::new(
        HttpBackend::new(
            ClientConfig::new(
                &sandbox.base_url(),
                &sc.token,
                AccountId::parse(&sc.account_id).unwrap(),
            )
            .unwrap()
            .with_default_environment(Some(EnvironmentId::parse(&env_id).unwrap())),
        )
        .unwrap(),
    ));
    let used: std::collections::BTreeSet<String> = found
        .flows
        .iter()
        .flat_map(|f| bdi_domain::plan::connections_of(&f.body))
        .collect();
    let read = service
        .connection_documents(&Env::Default, used)
        .await
        .unwrap();
    let mut connections: Vec<Value> = read
        .iter()
        .map(|(c, stored)| {
            json!({"file": format!("connections/{}.yaml", c.id),
                "document": bdi_domain::plan::connections::file_value(&c.body, stored)})
        })
        .collect();
    let mut with_ids = identity.clone();
    for (c, _) in &read {
        with_ids.insert(format!("connections/{}.yaml", c.id), json!(c.id));
    }
    connections[0]["document"]["parameters"]["database"] = json!("changed_in_git");
    let variables = json!({"variables": {"days_ago": "9", "api_token": {"env": "CI_ONLY"}}});
    documents[0]["document"]["name"] = found.flows[0].body["name"].clone();
    let (status, body) = plan(json!({"documents": documents, "connections": connections,
        "variables": variables, "identity": with_ids}))
    .await;
    assert_eq!(status, 200, "{body}");
    let summary: Vec<(String, String, String)> = body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["resource"].as_str().unwrap().to_owned(),
                c["action"].as_str().unwrap().to_owned(),
                c["fields"][0]["path"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let owned = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        summary,
        [
            owned("variable", "create", "value"),
            owned("variable", "update", "value"),
            owned("connection", "update", "parameters.database"),
        ],
        "{body}"
    );
    assert_eq!(body["changes"][0]["fields"][0]["after"], "(from CI_ONLY)");
    connections[1]["document"]["parameters"]["password"] = json!("hunter2");
    let (status, body) = plan(json!({"documents": documents, "connections": connections,
        "identity": with_ids}))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["valid"], false, "{body}");
    assert_eq!(body["problems"][0]["path"], "parameters.password", "{body}");
    assert!(!body.to_string().contains("hunter2"), "{body}");

    documents.push(json!({"file": "flows/bad.yaml", "document": {"name": "bad", "type": "logic", "colour": 1}}));
    let (status, body) = plan(json!({"documents": documents, "identity": identity})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["valid"], false);
    assert_eq!(body["pending"], false);
    assert_eq!(
        body["problems"][0],
        json!({"file": "flows/bad.yaml", "path": "colour", "message": "unknown key: a document holds name, type, kind, group_id, metadata, settings, properties, schedulers"}),
        "{body}"
    );
    // `variables: null` is not the object the schema names (schemathesis found it accepted).
    let (status, body) = plan(json!({"documents": [], "variables": null})).await;
    assert_eq!(status, 422, "{body}");
    // A record whose id is not one is refused as a bad request.
    let (status, body) = plan(json!({"documents": [], "identity": {"flows/a.yaml": "nope"}})).await;
    assert_eq!(status, 422, "{body}");
    gw.shutdown().await.unwrap();
    sandbox.shutdown().await;
}
