//! `--toolsets dynamic` (issue #25): the server starts with the read-only core and
//! `enable_toolset`, which lists the groups and enables one; the tools it adds appear in
//! `tools/list` and the client hears `notifications/tools/list_changed`.

use super::*;

#[tool_router(router = dynamic_router, vis = "pub(super)")]
impl BdiMcp {
    #[tool(description = d::ENABLE_TOOLSET, annotations(title = "Enable toolset", read_only_hint = true, open_world_hint = false))]
    async fn enable_toolset(
        &self,
        Parameters(a): Parameters<EnableToolsetArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<ToolsetsResult>, String> {
        let Some(dynamic) = &self.dynamic else {
            return Err("error: enable_toolset works only with --toolsets dynamic".to_owned());
        };
        let mut added = Vec::new();
        if let Some(group) = a.toolset.as_deref().map(str::trim) {
            let Some((_, members)) = crate::toolset::GROUPS.iter().find(|(g, _)| *g == group)
            else {
                return Err(crate::errors::tool_error(&Error::invalid(
                    "toolset",
                    format!(
                        "{} is not a toolset: use one of {}",
                        quote(group),
                        crate::toolset::GROUPS
                            .iter()
                            .map(|(g, _)| *g)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )));
            };
            {
                let mut enabled = dynamic
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                for m in *members {
                    if self.tool_router.has_route(m) && enabled.insert((*m).to_owned()) {
                        added.push((*m).to_owned());
                    }
                }
            }
            if !added.is_empty()
                && let Err(e) = ctx.peer.notify_tool_list_changed().await
            {
                tracing::debug!("tools/list_changed not sent: {e}");
            }
        }
        let enabled = dynamic
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let toolsets = crate::toolset::GROUPS
            .iter()
            .map(|(g, members)| {
                let available: Vec<String> = members
                    .iter()
                    .filter(|m| self.tool_router.has_route(m))
                    .map(|m| (*m).to_owned())
                    .collect();
                ToolsetItem {
                    enabled: !available.is_empty() && available.iter().all(|m| enabled.contains(m)),
                    name: (*g).to_owned(),
                    tools: available,
                }
            })
            .collect();
        let message = match (&a.toolset, added.is_empty()) {
            (None, _) => "call enable_toolset(toolset=NAME) to add a toolset's tools".to_owned(),
            (Some(g), true) => format!("toolset {g}: its tools were already enabled"),
            (Some(g), false) => format!("toolset {g} enabled: {} are now listed", added.join(", ")),
        };
        Ok(Json(ToolsetsResult {
            toolsets,
            added,
            message,
        }))
    }
}
