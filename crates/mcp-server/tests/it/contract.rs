//! The agent-facing contract: `tools/list` as a client sees it (names, descriptions, schemas,
//! annotations), pinned by a snapshot and checked for the rules every tool must follow.

use std::collections::BTreeSet;

use bdi_mcp_server::{Backing, ServerOptions, ToolSelection};
use serde_json::Value;

use crate::support::*;

const VENDOR_TOOLS: [&str; 21] = [
    "get_operation",
    "list_runs",
    "get_run",
    "get_run_logs",
    "create_data_flow",
    "list_data_flows",
    "update_data_flow",
    "set_data_flow_source_tables",
    "patch_data_flow",
    "delete_data_flow",
    "get_data_flow",
    "activate_data_flow",
    "disable_data_flow",
    "run_data_flow",
    "list_environments",
    "list_connections",
    "create_connection",
    "update_connection",
    "delete_connection",
    "list_variables",
    "upsert_variables",
];

async fn listed(options: ServerOptions) -> Vec<Value> {
    let client = client_with(Backing::Misconfigured("not needed".into()), options).await;
    let tools = client.list_all_tools().await.unwrap();
    tools
        .into_iter()
        .map(|t| serde_json::to_value(t).unwrap())
        .collect()
}

#[tokio::test]
async fn tools_list_snapshot() {
    let tools = listed(ServerOptions::default()).await;
    insta::assert_json_snapshot!("tools_list", tools);
}

#[tokio::test]
async fn every_vendor_tool_is_there_with_its_parameter_names() {
    let tools = listed(ServerOptions::default()).await;
    let names: BTreeSet<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    for t in VENDOR_TOOLS {
        assert!(names.contains(t), "missing vendor tool {t}");
    }
    let props = |name: &str| -> BTreeSet<String> {
        let t = tools.iter().find(|t| t["name"] == name).unwrap();
        t["inputSchema"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    for p in [
        "name",
        "source_name",
        "source_connection_id",
        "target_name",
        "target_connection_id",
        "loading_method",
        "target_settings",
    ] {
        assert!(
            props("create_data_flow").contains(p),
            "create_data_flow lacks {p}"
        );
    }
    for p in ["data_flow_id", "source_connection_id", "table_names"] {
        assert!(props("set_data_flow_source_tables").contains(p));
    }
    assert!(props("patch_data_flow").contains("patch"));
    assert!(props("run_data_flow").contains("wait"));
    assert!(props("activate_data_flow").contains("wait"));
    assert!(props("upsert_variables").contains("variables"));
}

#[tokio::test]
async fn annotations_are_explicit_and_right() {
    for t in listed(ServerOptions::default()).await {
        let name = t["name"].as_str().unwrap();
        let a = &t["annotations"];
        // Every tool reaches the platform but the two that read the local history dataset.
        let local = name == "query_history" || name == "describe_history";
        // openWorldHint defaults to true (the spec): only the local tools say false.
        if local {
            assert_eq!(a["openWorldHint"], false, "{name}");
        } else {
            assert!(a.get("openWorldHint").is_none(), "{name}");
        }
        let read_only = a["readOnlyHint"] == true;
        let is_delete = name.starts_with("delete_");
        if read_only {
            assert!(
                ["get_", "list_", "query_", "describe_"]
                    .iter()
                    .any(|p| name.starts_with(p)),
                "{name} is read-only but named like a write"
            );
        } else {
            assert_eq!(
                a["readOnlyHint"], false,
                "{name}: readOnlyHint must be explicit"
            );
            assert_eq!(
                a["destructiveHint"], is_delete,
                "{name}: destructiveHint must be explicit"
            );
            assert!(
                a["idempotentHint"].is_boolean(),
                "{name}: idempotentHint must be explicit"
            );
        }
        // Output schemas do not earn their bytes (`BdiMcp::all_router`).
        assert!(
            t.get("outputSchema").is_none(),
            "{name} lists an output schema"
        );
        let desc = t["description"].as_str().unwrap();
        assert!(
            desc.len() <= 240,
            "{name}: description is {} bytes; keep it terse and move detail to the guide",
            desc.len()
        );
        // What a model needs: when to use it, and what comes back or what to do next.
        assert!(!desc.contains('\n'), "{name}: one paragraph");
    }
}

#[tokio::test]
async fn read_only_exposes_only_read_only_tools() {
    let tools = listed(ServerOptions {
        selection: ToolSelection {
            read_only: true,
            tools: None,
            ..ToolSelection::default()
        },
        ..Default::default()
    })
    .await;
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    insta::assert_snapshot!(names.join("\n"), @r"
    describe_history
    get_activity_summary
    get_data_flow
    get_data_flow_activity
    get_operation
    get_run
    get_run_group
    get_run_logs
    list_connections
    list_data_flows
    list_environments
    list_run_groups
    list_runs
    list_variables
    query_history
    ");
}

#[tokio::test]
async fn tools_selects_by_name_and_group_and_read_only_wins() {
    let sel = ToolSelection {
        read_only: true,
        tools: Some(vec!["runs".into(), "delete_data_flow".into()]),
        ..ToolSelection::default()
    };
    let tools = listed(ServerOptions {
        selection: sel,
        ..Default::default()
    })
    .await;
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["get_run", "get_run_logs", "list_runs"]);
}

#[tokio::test]
async fn no_destructive_and_exclude_narrow_the_set() {
    let sel = ToolSelection {
        no_destructive: true,
        exclude: vec!["activity".into(), "create_connection".into()],
        ..ToolSelection::default()
    };
    let tools = listed(ServerOptions {
        selection: sel,
        ..Default::default()
    })
    .await;
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(!names.iter().any(|n| n.starts_with("delete_")), "{names:?}");
    assert!(
        !names.contains(&"create_connection") && !names.contains(&"get_activity_summary"),
        "{names:?}"
    );
    assert!(
        names.contains(&"run_data_flow") && names.contains(&"patch_data_flow"),
        "{names:?}"
    );
    assert_eq!(names.len(), 28 - 2 - 1 - 4);
    let err = bdi_mcp_server::BdiMcp::new(
        Backing::Misconfigured("x".into()),
        ServerOptions {
            selection: ToolSelection {
                exclude: vec!["nope".into()],
                ..ToolSelection::default()
            },
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(err.contains("in --exclude-tools"), "{err}");
}

#[test]
fn unknown_tool_names_fail_at_startup() {
    let sel = ToolSelection {
        read_only: false,
        tools: Some(vec!["run_everything".into()]),
        ..ToolSelection::default()
    };
    let err = bdi_mcp_server::BdiMcp::new(
        Backing::Misconfigured("x".into()),
        ServerOptions {
            selection: sel,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        err.contains("unknown tool or group `run_everything`"),
        "{err}"
    );
}

/// Issue #25: `tools/list` within its budgets, as a client receives it (at both protocol
/// eras, since `modern_clients_get_the_same_tools_and_results` pins them equal). `cargo xtask
/// tools-size` runs this test and shows the table it prints.
#[tokio::test]
async fn tools_list_sizes_stay_within_budget() {
    use bdi_mcp_server::docs::{FULL_BUDGET, READ_ONLY_BUDGET, sizes};
    let all = listed(ServerOptions::default()).await;
    let read_only = listed(ServerOptions {
        selection: ToolSelection {
            read_only: true,
            ..ToolSelection::default()
        },
        ..Default::default()
    })
    .await;
    let bytes = |v: &Vec<Value>| serde_json::to_string(v).unwrap().len();
    let (generated_all, generated_ro) = sizes();
    // The generator measures what a client receives.
    assert_eq!(bytes(&all), generated_all.bytes);
    assert_eq!(bytes(&read_only), generated_ro.bytes);
    eprintln!("tool                          bytes  description  input  annotations");
    for t in &generated_all.tools {
        eprintln!(
            "{:<28} {:>6} {:>12} {:>6} {:>12}",
            t.name, t.total, t.description, t.input_schema, t.annotations
        );
    }
    let sum = |f: fn(&bdi_mcp_server::docs::ToolSize) -> usize| -> usize {
        generated_all.tools.iter().map(f).sum()
    };
    eprintln!(
        "tools/list: {} bytes, {} tools (descriptions {}, input schemas {}, output schemas {}, annotations {}); --read-only: {} bytes, {} tools",
        generated_all.bytes,
        generated_all.tools.len(),
        sum(|t| t.description),
        sum(|t| t.input_schema),
        sum(|t| t.output_schema),
        sum(|t| t.annotations),
        generated_ro.bytes,
        generated_ro.tools.len()
    );
    assert!(
        generated_all.bytes <= FULL_BUDGET,
        "tools/list is {} bytes, over its budget of {FULL_BUDGET}",
        generated_all.bytes
    );
    assert!(
        generated_ro.bytes <= READ_ONLY_BUDGET,
        "tools/list with --read-only is {} bytes, over its budget of {READ_ONLY_BUDGET}",
        generated_ro.bytes
    );
}

#[test]
fn generated_docs_are_fresh() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/mcp-tools.md");
    let want = bdi_mcp_server::docs::tool_reference();
    if std::env::var_os("BDI_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/mcp-tools.md is stale: run `cargo xtask codegen` and commit"
    );
}

#[tokio::test]
async fn modern_clients_get_the_same_tools_and_results() {
    use bdi_domain::MockBackend;
    use rmcp::model::{CallToolRequestParams, ProtocolVersion};
    use rmcp::service::{ClientLifecycleMode, ClientServiceExt};
    let mut mock = MockBackend::new();
    mock.expect_list_variables()
        .returning(|_| Ok([("A".to_owned(), "1".to_owned())].into_iter().collect()));
    let server = bdi_mcp_server::BdiMcp::new(
        Backing::Ready(bdi_domain::Service::new(std::sync::Arc::new(mock))),
        ServerOptions::default(),
    )
    .unwrap();
    let (s, c) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(r) = rmcp::ServiceExt::serve(server, s).await {
            let _ = r.waiting().await;
        }
    });
    let modern = ()
        .serve_with_lifecycle(
            c,
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .expect("server/discover handshake");
    let legacy = listed(ServerOptions::default()).await;
    let tools: Vec<Value> = modern
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| serde_json::to_value(t).unwrap())
        .collect();
    assert_eq!(
        tools, legacy,
        "tools/list must not depend on the protocol era"
    );
    let r = modern
        .call_tool(
            CallToolRequestParams::new("list_variables").with_arguments(serde_json::Map::new()),
        )
        .await
        .unwrap();
    assert_eq!(
        ok(&r),
        serde_json::json!({"variables": {"A": "1"}, "count": 1})
    );
}

/// `--toolsets dynamic` (issue #25): the read-only core and enable_toolset at first; enabling a
/// toolset lists its tools (within the other selection flags), tells the client, and makes them
/// callable; a tool not enabled yet is not callable.
#[tokio::test]
async fn dynamic_toolsets_start_small_and_grow_on_request() {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use rmcp::model::CallToolRequestParams;
    use rmcp::service::NotificationContext;
    use rmcp::{ClientHandler, RoleClient, ServiceExt};

    #[derive(Clone, Default)]
    struct Listener(Arc<AtomicUsize>);
    impl ClientHandler for Listener {
        async fn on_tool_list_changed(&self, _: NotificationContext<RoleClient>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    use std::sync::Arc;

    let mut mock = bdi_domain::MockBackend::new();
    mock.expect_upsert_variables().returning(|_, _| Ok(()));
    mock.expect_list_variables()
        .returning(|_| Ok(std::collections::BTreeMap::new()));
    let server = bdi_mcp_server::BdiMcp::new(
        Backing::Ready(bdi_domain::Service::new(Arc::new(mock))),
        ServerOptions {
            selection: ToolSelection {
                dynamic: true,
                no_destructive: true,
                ..ToolSelection::default()
            },
            ..Default::default()
        },
    )
    .unwrap();
    let (s, c) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(r) = server.serve(s).await {
            let _ = r.waiting().await;
        }
    });
    let listener = Listener::default();
    let heard = listener.0.clone();
    let client = listener.serve(c).await.unwrap();
    let names = |tools: Vec<rmcp::model::Tool>| -> Vec<String> {
        tools.into_iter().map(|t| t.name.to_string()).collect()
    };
    let first = names(client.list_all_tools().await.unwrap());
    assert_eq!(first.len(), 16, "{first:?}");
    assert!(first.contains(&"enable_toolset".to_owned()));
    let call = |name: &'static str, args: Value| {
        client.call_tool(
            CallToolRequestParams::new(name).with_arguments(args.as_object().cloned().unwrap()),
        )
    };
    let refused = call(
        "upsert_variables",
        serde_json::json!({"variables": [{"name": "A", "value": "1"}]}),
    )
    .await
    .unwrap_err();
    assert!(refused.to_string().contains("enable_toolset"), "{refused}");

    let r = ok(
        &call("enable_toolset", serde_json::json!({"toolset": "flows"}))
            .await
            .unwrap(),
    );
    // --no-destructive still holds: delete_data_flow is not added.
    let added: Vec<&str> = r["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        added.contains(&"run_data_flow") && !added.contains(&"delete_data_flow"),
        "{added:?}"
    );
    let r = ok(&call(
        "enable_toolset",
        serde_json::json!({"toolset": "variables"}),
    )
    .await
    .unwrap());
    assert_eq!(r["added"], serde_json::json!(["upsert_variables"]));
    let now = names(client.list_all_tools().await.unwrap());
    assert!(
        now.contains(&"upsert_variables".to_owned())
            && !now.contains(&"delete_data_flow".to_owned())
    );
    ok(&call(
        "upsert_variables",
        serde_json::json!({"variables": [{"name": "A", "value": "1"}]}),
    )
    .await
    .unwrap());
    // Each enabling call was announced (the notification precedes the call's answer).
    assert_eq!(heard.load(Ordering::SeqCst), 2);

    let e = err(
        &call("enable_toolset", serde_json::json!({"toolset": "nope"}))
            .await
            .unwrap(),
    );
    assert!(e.contains("flows") && e.contains("history"), "{e}");
}
