//! The resource `bdi://guide`: each tool's detailed guidance (prerequisites, errors and their
//! fixes), which the terse tool descriptions leave out so that `tools/list` stays small
//! (issue #25). A model or a person reads it once, when a tool's description is not enough.

use std::fmt::Write as _;

use crate::descriptions::{GUIDE, INSTRUCTIONS};

/// The resource's URI.
pub const URI: &str = "bdi://guide";

/// What the resource is, in `resources/list`.
pub const DESCRIPTION: &str = "Each bdi-mcp tool's detailed guidance: prerequisites, what comes back, errors and their fixes.";

/// How long a client may keep the guide: it changes only with the server's version.
pub const TTL_MS: u64 = 3_600_000;

/// The guide as Markdown: the server instructions, then one section per tool.
pub fn markdown() -> String {
    let mut out = String::from("# bdi-mcp tool guide\n\n");
    let _ = writeln!(out, "{INSTRUCTIONS}\n");
    for (tool, text) in GUIDE {
        let _ = writeln!(out, "## {tool}\n\n{text}\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_its_section_once() {
        let guide = markdown();
        for tool in crate::server::BdiMcp::all_tools() {
            let heading = format!("\n## {}\n", tool.name);
            assert_eq!(guide.matches(&heading).count(), 1, "{}", tool.name);
        }
        // And enable_toolset, which only --toolsets dynamic lists.
        assert_eq!(GUIDE.len(), crate::server::BdiMcp::all_tools().len() + 1);
        assert_eq!(guide.matches("\n## enable_toolset\n").count(), 1);
    }
}
