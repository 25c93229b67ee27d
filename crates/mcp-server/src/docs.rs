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

/// The Markdown tool reference.
pub fn tool_reference() -> String {
    let tools = BdiMcp::all_tools();
    let json: Vec<Value> = tools
        .iter()
        .map(|t| serde_json::to_value(t).unwrap_or_default())
        .collect();
    let all_bytes = serde_json::to_string(&json)
        .map(|s| s.len())
        .unwrap_or_default();
    let read_only_router = ToolSelection {
        read_only: true,
        tools: None,
        ..ToolSelection::default()
    }
    .apply(BdiMcp::all_router());
    let ro: Vec<Value> = read_only_router
        .map(|r| {
            r.list_all()
                .iter()
                .map(|t| serde_json::to_value(t).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default();
    let ro_bytes = serde_json::to_string(&ro)
        .map(|s| s.len())
        .unwrap_or_default();

    let mut out = String::new();
    let _ = writeln!(out, "# bdi-mcp tool reference\n");
    let _ = writeln!(
        out,
        "Generated from the code by `cargo xtask codegen`; a test fails when this file is stale.\n"
    );
    let _ = writeln!(
        out,
        "{} tools. `tools/list` weighs {all_bytes} bytes of JSON ({} read-only tools with `--read-only`: {ro_bytes} bytes).\n",
        json.len(),
        ro.len()
    );
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
