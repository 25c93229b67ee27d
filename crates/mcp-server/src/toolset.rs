//! Which tools are exposed: `--read-only` keeps only tools that cannot change anything and wins
//! over everything else; `--no-destructive` drops the delete tools; `--tools` picks tools by name
//! or group and `--exclude-tools` removes some. Unknown names fail at startup. Every option only
//! narrows the set, and `tools/list` shows exactly what is callable.

use rmcp::handler::server::router::tool::ToolRouter;

/// Tool groups for `--tools`.
pub const GROUPS: &[(&str, &[&str])] = &[
    (
        "flows",
        &[
            "list_data_flows",
            "get_data_flow",
            "create_data_flow",
            "update_data_flow",
            "patch_data_flow",
            "set_data_flow_source_tables",
            "delete_data_flow",
            "activate_data_flow",
            "disable_data_flow",
            "run_data_flow",
            "get_operation",
        ],
    ),
    (
        "runs",
        &["list_runs", "get_run", "get_run_logs", "run_data_flow"],
    ),
    (
        "connections",
        &[
            "list_connections",
            "create_connection",
            "update_connection",
            "delete_connection",
        ],
    ),
    ("environments", &["list_environments"]),
    ("variables", &["list_variables", "upsert_variables"]),
    ("operations", &["get_operation"]),
    (
        "activity",
        &[
            "get_activity_summary",
            "get_data_flow_activity",
            "list_run_groups",
            "get_run_group",
        ],
    ),
    (
        "history",
        &["sync_history", "query_history", "describe_history"],
    ),
];

/// The startup selection of tools.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ToolSelection {
    /// Only read-only tools.
    pub read_only: bool,
    /// Tool names or group names; `None` means all.
    pub tools: Option<Vec<String>>,
    /// Tool names or group names to leave out.
    pub exclude: Vec<String>,
    /// Leave out the destructive tools (the deletes).
    pub no_destructive: bool,
    /// `--toolsets dynamic`: list the read-only tools and `enable_toolset` at first, and the
    /// rest of the selection as toolsets are enabled.
    pub dynamic: bool,
}

/// The tools named by `names` (tool or group names); an unknown name is an error naming `flag`.
fn resolve_names<'a>(
    names: &'a [String],
    all: &'a [rmcp::model::Tool],
    flag: &str,
) -> Result<Vec<&'a str>, String> {
    let mut out: Vec<&str> = Vec::new();
    for w in names.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
        if let Some((_, members)) = GROUPS.iter().find(|(g, _)| *g == w) {
            out.extend(members.iter().copied());
        } else if all.iter().any(|t| t.name == w) {
            out.push(w);
        } else {
            let groups: Vec<&str> = GROUPS.iter().map(|(g, _)| *g).collect();
            return Err(format!(
                "unknown tool or group `{w}` in {flag}; groups: {}; tools: {}",
                groups.join(", "),
                all.iter()
                    .map(|t| t.name.as_ref())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    Ok(out)
}

impl ToolSelection {
    /// Removes from `router` every tool the selection leaves out.
    pub fn apply<S: Send + Sync + 'static>(
        &self,
        mut router: ToolRouter<S>,
    ) -> Result<ToolRouter<S>, String> {
        let all = router.list_all();
        if let Some(wanted) = &self.tools {
            let keep = resolve_names(wanted, &all, "--tools")?;
            for t in &all {
                if !keep.contains(&t.name.as_ref()) {
                    router.remove_route(&t.name);
                }
            }
        }
        for name in resolve_names(&self.exclude, &all, "--exclude-tools")? {
            router.remove_route(name);
        }
        if self.no_destructive {
            for t in &all {
                let read_only = t
                    .annotations
                    .as_ref()
                    .and_then(|a| a.read_only_hint)
                    .unwrap_or(false);
                // The spec's default for destructiveHint is true: absent means destructive.
                let destructive = t
                    .annotations
                    .as_ref()
                    .and_then(|a| a.destructive_hint)
                    .unwrap_or(true);
                if !read_only && destructive {
                    router.remove_route(&t.name);
                }
            }
        }
        if self.read_only {
            for t in &all {
                let read_only = t
                    .annotations
                    .as_ref()
                    .and_then(|a| a.read_only_hint)
                    .unwrap_or(false);
                if !read_only {
                    router.remove_route(&t.name);
                }
            }
        }
        Ok(router)
    }
}
