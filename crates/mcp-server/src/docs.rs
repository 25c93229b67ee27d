//! The tool reference in `docs/mcp-tools.md`, generated from the tool router so it cannot drift
//! (a test fails when the committed file is stale; `cargo xtask codegen` rewrites it).

use std::fmt::Write as _;

use serde_json::Value;

use crate::server::BdiMcp;
use crate::toolset::{GROUPS, ToolSelection};

fn schema_type(p: &Value) -> String {
    match &p["type"] {
        Value::String(s) if s == "array" => format!("array of {}", schema_type(&p["items"])),
        Value::String(s) => s.clone(),
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" or "),
        _ if p.get("$ref").is_some() => "object".to_owned(),
        _ => "any".to_owned(),
    }
}

/// The byte budget of `tools/list` with every tool (issue #25).
pub const FULL_BUDGET: usize = 16 * 1024;
/// The byte budget of `tools/list` with `--read-only` (issue #25).
pub const READ_ONLY_BUDGET: usize = 8 * 1024;
/// `tools/list` before issue #25, as measured then: every tool, and `--read-only`.
pub const BEFORE: (usize, usize) = (37_692, 19_066);

/// The size of one tool's definition in `tools/list`, as compact JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolSize {
    /// The tool's name.
    pub name: String,
    /// The whole definition.
    pub total: usize,
    /// Its description (the JSON string).
    pub description: usize,
    /// Its input schema.
    pub input_schema: usize,
    /// Its output schema, if it has one.
    pub output_schema: usize,
    /// Its annotations.
    pub annotations: usize,
}

/// What `tools/list` weighs: the tools' array as compact JSON, and each tool's share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListSize {
    /// The `tools` array, in bytes.
    pub bytes: usize,
    /// Each tool, in `tools/list` order.
    pub tools: Vec<ToolSize>,
}

fn json_len(v: &Value) -> usize {
    if v.is_null() {
        return 0;
    }
    serde_json::to_string(v)
        .map(|s| s.len())
        .unwrap_or_default()
}

/// The size of `tools/list` for `tools`.
pub fn list_size(tools: &[rmcp::model::Tool]) -> ListSize {
    let json: Vec<Value> = tools
        .iter()
        .map(|t| serde_json::to_value(t).unwrap_or_default())
        .collect();
    ListSize {
        bytes: json_len(&Value::Array(json.clone())),
        tools: json
            .iter()
            .map(|t| ToolSize {
                name: t["name"].as_str().unwrap_or_default().to_owned(),
                total: json_len(t),
                description: json_len(&t["description"]),
                input_schema: json_len(&t["inputSchema"]),
                output_schema: json_len(&t["outputSchema"]),
                annotations: json_len(&t["annotations"]),
            })
            .collect(),
    }
}

/// The tools a selection exposes at startup.
pub fn selected_tools(selection: &ToolSelection) -> Vec<rmcp::model::Tool> {
    selection
        .apply(BdiMcp::all_router())
        .map(|r| r.list_all())
        .unwrap_or_default()
}

/// The size of `tools/list` with every tool and with `--read-only`.
pub fn sizes() -> (ListSize, ListSize) {
    let read_only = ToolSelection {
        read_only: true,
        ..ToolSelection::default()
    };
    (
        list_size(&BdiMcp::all_tools()),
        list_size(&selected_tools(&read_only)),
    )
}

/// The Markdown tool reference.
pub fn tool_reference() -> String {
    let tools = BdiMcp::all_tools();
    let json: Vec<Value> = tools
        .iter()
        .map(|t| serde_json::to_value(t).unwrap_or_default())
        .collect();
    let (all, ro) = sizes();

    let mut out = String::new();
    let _ = writeln!(out, "# bdi-mcp tool reference\n");
    let _ = writeln!(
        out,
        "Generated from the code by `cargo xtask codegen`; a test fails when this file is stale.\n"
    );
    let _ = writeln!(
        out,
        "{} tools. `tools/list` weighs {} bytes of JSON with every tool (budget {FULL_BUDGET}; {} before issue #25) and {} bytes for the {} read-only tools of `--read-only` (budget {READ_ONLY_BUDGET}; {} before). `cargo xtask tools-size` prints these figures; a test fails when a budget is exceeded.\n",
        json.len(),
        all.bytes,
        BEFORE.0,
        ro.bytes,
        ro.tools.len(),
        BEFORE.1,
    );
    let dynamic = BdiMcp::new(
        crate::server::Backing::Misconfigured("docs".into()),
        crate::server::ServerOptions {
            selection: ToolSelection {
                dynamic: true,
                ..ToolSelection::default()
            },
            ..crate::server::ServerOptions::default()
        },
    )
    .map(|s| list_size(&s.tools()))
    .ok();
    if let Some(d) = dynamic {
        let _ = writeln!(
            out,
            "With `--toolsets dynamic` (stdio only) the server starts with the {} tools of `--read-only` and `enable_toolset`: {} bytes. `enable_toolset` lists the groups below and enables one; the client hears `notifications/tools/list_changed`.\n",
            d.tools.len() - 1,
            d.bytes
        );
    }
    let _ = writeln!(
        out,
        "Descriptions are terse (when to use the tool, what to check first, what comes back); each tool's detailed guidance is the resource `{}` (below, under each tool). Input schemas are compact (`crate::schema`): no `\"default\": null`, no `null` in optional types, no integer formats, and `environment_id` and `data_flow_id` are explained once in the server instructions. Output schemas are not listed: every result still carries `structuredContent` and its JSON as text.\n",
        crate::guide::URI
    );
    let _ = writeln!(
        out,
        "| tool | bytes | description | input schema | annotations |\n| --- | ---: | ---: | ---: | ---: |"
    );
    for t in &all.tools {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            t.name, t.total, t.description, t.input_schema, t.annotations
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "Groups for `--tools`:\n");
    for (g, members) in GROUPS {
        let _ = writeln!(
            out,
            "- `{g}`: {}",
            members
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(out, "\n## Argument limits\n");
    let _ = writeln!(
        out,
        "Every call's arguments are checked before they are parsed, whatever the tool; an argument over its limit is a tool error that names the limit, and no request is made.\n"
    );
    for line in crate::limits::describe() {
        let _ = writeln!(out, "- {line}");
    }
    let _ = writeln!(
        out,
        "\nError messages quote at most {} characters of a value, then `…` and the value's length; the error of arguments that do not parse (a wrong type) is cut to {} characters.",
        bdi_domain::error::QUOTE_CHARS,
        crate::server::MAX_PARSE_ERROR_CHARS
    );
    let _ = writeln!(out, "\n## Results stay bounded\n");
    let _ = writeln!(
        out,
        "A tool result's JSON text is at most {} bytes (issue #25's figure: every read tool met it on the demo account before any cut, the largest being `list_connections` at 5.7 KB). A larger result is cut once, at the one place every call passes (`bounded.rs`), so `structuredContent` and its text stay the same JSON; the cut result gains `truncated`: what was left out (`omitted_items`, `omitted_lines`, `omitted_rows` or `elided_fields`), `reason`, and `next`, the argument or tool that gets it. A list whose surroundings are still too large is cut as a document too. An elided field holds the text `{} N bytes, see truncated>`; a list inside a document keeps its first items that fit and ends with such a text saying how many more there were (`elided_fields` names it: `properties.schemas[0].tables (92 of 120 items)`); `update_data_flow` and `patch_data_flow` refuse a body that holds either. `get_run_logs` and `query_history` also say in `truncated` what `tail_lines`, `errors_only` or the query's own cap (200 rows, 64 KB) left out.\n",
        crate::bounded::BUDGET,
        crate::bounded::ELIDED,
    );
    let mut names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
    names.sort();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    for line in crate::bounded::describe(&names) {
        let _ = writeln!(out, "- {line}");
    }
    let _ = writeln!(out, "\n## Approval by a person\n");
    let _ = writeln!(
        out,
        "`--confirm destructive` (the deletes: {}) or `--confirm writes` (every tool that changes the account: {}) makes the server ask the person through MCP elicitation before the call sends anything, naming the tool, its target's name and id, and the environment. Only an accepted answer lets the call go on; declined or cancelled, and nothing is sent. A client that did not declare the elicitation capability gets a tool error that says so and names the flag; no tool argument can approve.\n",
        confirm_covered(crate::confirm::Confirm::Destructive),
        confirm_covered(crate::confirm::Confirm::Writes),
    );
    let _ = writeln!(
        out,
        "- Clients of MCP 2026-07-28, over stdio or Streamable HTTP: the call returns an `InputRequiredResult` with the question (MRTR); the client asks and calls again with the answer and the `requestState`, which names the exact call, so an answer never approves another call. Each round is one request: this works on the stateless HTTP endpoint.\n- Earlier clients over stdio: the server sends `elicitation/create` within the call and waits for the answer.\n- Earlier clients over Streamable HTTP: refused, with the reason. The endpoint keeps no MCP session, so the answer to `elicitation/create` would arrive as a new HTTP request that nothing ties to the waiting call (rmcp's stateless endpoint refuses responses). Use a 2026-07-28 client, stdio, or no `--confirm`.\n\nElicitation is the client's word: a dishonest client can answer for the person. `--read-only` and `--no-destructive` remain the operator's boundary."
    );
    let _ = writeln!(out, "\n## Logs\n");
    let _ = writeln!(
        out,
        "Logs go to stderr, filtered by `{}` (`tracing` filter syntax, default `{}`).",
        crate::logging::FILTER_VAR,
        crate::logging::DEFAULT_FILTER
    );
    let _ = writeln!(
        out,
        "Each tool call is logged at `debug` with its arguments as JSON, cut to {} characters (strings to {}), and the value of every field whose name contains {} (case and separators ignored), or is `pwd`, at any depth, replaced by `{}`.",
        crate::logging::MAX_LOGGED_ARGUMENTS_CHARS,
        crate::logging::MAX_LOGGED_STRING_CHARS,
        crate::logging::SECRET_WORDS
            .iter()
            .map(|w| format!("`{w}`"))
            .collect::<Vec<_>>()
            .join(", "),
        crate::logging::REDACTED
    );
    let _ = writeln!(
        out,
        "rmcp logs whole protocol messages, tool arguments included, at `debug` and `trace` on {}: those events are dropped at any `{}`.",
        crate::logging::QUIET_RMCP_TARGETS
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", "),
        crate::logging::FILTER_VAR
    );
    let _ = writeln!(out, "\n## Tools\n");
    let _ = writeln!(out, "| tool | kind |\n| --- | --- |");
    for t in &json {
        let _ = writeln!(
            out,
            "| [`{0}`](#{0}) | {1} |",
            t["name"].as_str().unwrap_or_default(),
            kind(&t["annotations"])
        );
    }
    for t in &json {
        let name = t["name"].as_str().unwrap_or_default();
        let _ = writeln!(out, "\n## {name}\n");
        let _ = writeln!(
            out,
            "{}\n",
            t["annotations"]["title"].as_str().unwrap_or(name)
        );
        let _ = writeln!(out, "Kind: {}.\n", kind(&t["annotations"]));
        for line in t["description"].as_str().unwrap_or_default().lines() {
            let _ = writeln!(out, "> {line}");
        }
        if let Some((_, guide)) = crate::descriptions::GUIDE.iter().find(|(n, _)| *n == name) {
            let _ = writeln!(out, "\nGuide (`{}`):\n", crate::guide::URI);
            for line in guide.lines() {
                let _ = writeln!(out, "{line}");
            }
        }
        let required: Vec<&str> = t["inputSchema"]["required"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(props) = t["inputSchema"]["properties"]
            .as_object()
            .filter(|p| !p.is_empty())
        {
            let _ = writeln!(
                out,
                "\n| parameter | type | required | description |\n| --- | --- | --- | --- |"
            );
            for (p, s) in props {
                let _ = writeln!(
                    out,
                    "| `{p}` | {} | {} | {} |",
                    schema_type(s),
                    if required.contains(&p.as_str()) {
                        "yes"
                    } else {
                        "no"
                    },
                    s["description"]
                        .as_str()
                        .unwrap_or_default()
                        .replace('|', "\\|")
                );
            }
        }
    }
    out
}

fn kind(a: &Value) -> &'static str {
    if a["readOnlyHint"] == true {
        "read-only"
    } else if a["destructiveHint"] == true {
        "destructive write"
    } else if a["idempotentHint"] == true {
        "idempotent write"
    } else {
        "write"
    }
}

/// The tools a `--confirm` mode asks about, as a Markdown list of names.
fn confirm_covered(mode: crate::confirm::Confirm) -> String {
    BdiMcp::all_tools()
        .iter()
        .filter(|t| mode.covers(t))
        .map(|t| format!("`{}`", t.name))
        .collect::<Vec<_>>()
        .join(", ")
}
