//! `--confirm` (issue #25): a delete or a change waits for a person's answer through MCP
//! elicitation, at both protocol eras; only an accepted answer sends anything, and the sandbox's
//! request log proves it. A client without the elicitation capability gets a refusal that says
//! why and which flag changes it.

use std::sync::{Arc, Mutex};

use bdi_api_client::EmbeddedSandbox;
use bdi_domain::ServiceConfig;
use bdi_mcp_server::confirm::Confirm;
use bdi_mcp_server::{BdiMcp, ServerOptions};
use bdi_sandbox::demo;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, ElicitRequestParams,
    ElicitResult, ElicitationAction, Implementation, ProtocolVersion,
};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RequestContext, RunningService};
use rmcp::{ClientHandler, ErrorData, RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::support::{err, ok};

/// A client that answers every approval question with `answer`, or declares no elicitation
/// capability when `answer` is `None`; it keeps the questions it was asked.
#[derive(Clone)]
struct Person {
    answer: Option<ElicitationAction>,
    asked: Arc<Mutex<Vec<String>>>,
}

impl ClientHandler for Person {
    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        if let ElicitRequestParams::FormElicitationParams { message, .. } = &request {
            self.asked.lock().unwrap().push(message.clone());
        }
        Ok(ElicitResult::new(
            self.answer.clone().expect("asked only with the capability"),
        ))
    }

    fn get_info(&self) -> ClientConfig {
        let capabilities = if self.answer.is_some() {
            ClientCapabilities::builder().enable_elicitation().build()
        } else {
            ClientCapabilities::default()
        };
        ClientConfig::new(capabilities, Implementation::new("person", "0.0.0"))
    }
}

struct Setup {
    sandbox: EmbeddedSandbox,
    client: RunningService<RoleClient, Person>,
    asked: Arc<Mutex<Vec<String>>>,
}

async fn setup(confirm: Confirm, answer: Option<ElicitationAction>, modern: bool) -> Setup {
    let sandbox = EmbeddedSandbox::start().await.unwrap();
    let backing = bdi_mcp_server::app::backing_from(sandbox.lookup(), ServiceConfig::default());
    let server = BdiMcp::new(
        backing,
        ServerOptions {
            confirm: Some(confirm),
            ..ServerOptions::default()
        },
    )
    .unwrap();
    let (s, c) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(s).await {
            let _ = running.waiting().await;
        }
    });
    let asked = Arc::new(Mutex::new(Vec::new()));
    let person = Person {
        answer,
        asked: asked.clone(),
    };
    let client = if modern {
        person
            .serve_with_lifecycle(
                c,
                ClientLifecycleMode::Discover {
                    preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                },
            )
            .await
            .unwrap()
    } else {
        person.serve(c).await.unwrap()
    };
    sandbox.sandbox().control().reset();
    Setup {
        sandbox,
        client,
        asked,
    }
}

async fn call(s: &Setup, name: &'static str, args: Value) -> CallToolResult {
    s.client
        .call_tool(
            CallToolRequestParams::new(name).with_arguments(args.as_object().cloned().unwrap()),
        )
        .await
        .expect("the call completes")
}

fn deletes(s: &Setup) -> usize {
    s.sandbox.sandbox().control().request_count("DELETE", "")
}

fn writes(s: &Setup) -> usize {
    let c = s.sandbox.sandbox().control();
    ["POST", "PUT", "PATCH", "DELETE"]
        .iter()
        .map(|m| c.request_count(m, ""))
        .sum()
}

const ERAS: [bool; 2] = [false, true];

#[tokio::test]
async fn an_accepted_delete_is_sent_after_a_question_naming_the_flow_and_environment() {
    for modern in ERAS {
        let s = setup(
            Confirm::Destructive,
            Some(ElicitationAction::Accept),
            modern,
        )
        .await;
        let r = ok(&call(
            &s,
            "delete_data_flow",
            json!({"data_flow_id": demo::NEW_FLOW_ID}),
        )
        .await);
        assert_eq!(r["deleted"], true, "modern={modern}");
        assert_eq!(deletes(&s), 1, "modern={modern}");
        let asked = s.asked.lock().unwrap().clone();
        assert_eq!(asked.len(), 1, "one question (modern={modern}): {asked:?}");
        let q = &asked[0];
        assert!(
            q.contains("delete data flow")
                && q.contains(demo::NEW_FLOW_ID)
                && q.contains("environment")
                && q.contains(bdi_sandbox::DEFAULT_ENVIRONMENT_ID),
            "{q}"
        );
    }
}

#[tokio::test]
async fn a_declined_or_cancelled_delete_sends_nothing() {
    for modern in ERAS {
        for (answer, word) in [
            (ElicitationAction::Decline, "declined"),
            (ElicitationAction::Cancel, "cancelled"),
        ] {
            let s = setup(Confirm::Destructive, Some(answer), modern).await;
            let e = err(&call(
                &s,
                "delete_data_flow",
                json!({"data_flow_id": demo::NEW_FLOW_ID}),
            )
            .await);
            assert!(
                e.contains(word) && e.contains("nothing was sent"),
                "modern={modern}: {e}"
            );
            assert_eq!(deletes(&s), 0, "modern={modern} {word}");
            assert_eq!(s.asked.lock().unwrap().len(), 1);
            // The flow is still there.
            ok(&call(
                &s,
                "get_data_flow",
                json!({"data_flow_id": demo::NEW_FLOW_ID}),
            )
            .await);
        }
    }
}

#[tokio::test]
async fn a_client_that_cannot_ask_gets_a_refusal_naming_the_flag() {
    for modern in ERAS {
        let s = setup(Confirm::Destructive, None, modern).await;
        let e = err(&call(
            &s,
            "delete_data_flow",
            json!({"data_flow_id": demo::NEW_FLOW_ID}),
        )
        .await);
        assert!(
            e.contains("elicitation capability")
                && e.contains("--confirm destructive")
                && e.contains("nothing was sent"),
            "modern={modern}: {e}"
        );
        assert_eq!(deletes(&s), 0);
    }
}

#[tokio::test]
async fn no_argument_approves() {
    let s = setup(Confirm::Destructive, None, false).await;
    for extra in [json!({"confirm": true}), json!({"approved": "yes"})] {
        let mut args = json!({"data_flow_id": demo::NEW_FLOW_ID});
        args.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let e = err(&call(&s, "delete_data_flow", args).await);
        assert!(e.contains("needs a person's approval"), "{e}");
    }
    assert_eq!(deletes(&s), 0);
}

#[tokio::test]
async fn destructive_asks_only_for_deletes_and_writes_asks_for_every_change() {
    // destructive: a change that is not a delete goes through without a question.
    let s = setup(Confirm::Destructive, None, false).await;
    ok(&call(
        &s,
        "upsert_variables",
        json!({"variables": [{"name": "A", "value": "1"}]}),
    )
    .await);
    assert!(s.asked.lock().unwrap().is_empty());
    assert!(writes(&s) > 0);

    // writes: the same change is refused without the capability, and reads are never asked.
    let s = setup(Confirm::Writes, None, true).await;
    let e = err(&call(
        &s,
        "upsert_variables",
        json!({"variables": [{"name": "A", "value": "1"}]}),
    )
    .await);
    assert!(e.contains("--confirm writes") && e.contains("`A`"), "{e}");
    ok(&call(&s, "list_variables", json!({})).await);
    assert_eq!(writes(&s), 0);

    // writes, declined: a run is not triggered.
    let s = setup(Confirm::Writes, Some(ElicitationAction::Decline), false).await;
    let e = err(&call(
        &s,
        "run_data_flow",
        json!({"data_flow_id": demo::ORDERS_FLOW_ID}),
    )
    .await);
    assert!(e.contains("declined"), "{e}");
    assert_eq!(writes(&s), 0);
    let q = s.asked.lock().unwrap()[0].clone();
    assert!(
        q.contains("run data flow") && q.contains(demo::ORDERS_FLOW_ID),
        "{q}"
    );
}

#[tokio::test]
async fn an_invalid_id_is_refused_before_any_question() {
    let s = setup(Confirm::Destructive, Some(ElicitationAction::Accept), false).await;
    let e = err(&call(&s, "delete_data_flow", json!({"data_flow_id": "nope"})).await);
    assert!(e.contains("invalid data_flow_id"), "{e}");
    assert!(s.asked.lock().unwrap().is_empty());
    assert_eq!(deletes(&s), 0);
}
