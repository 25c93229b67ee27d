//! The CLI reference (`docs/cli.md`), generated from the clap command tree, so that it never
//! drifts from `bdi --help`. `cargo xtask codegen` rewrites it; a test fails when it is stale.

use std::fmt::Write as _;

use crate::exit::ExitStatus;

fn walk(cmd: &clap::Command, path: &str, out: &mut String, toc: &mut String, depth: usize) {
    let anchor: String = path.replace(' ', "-");
    let _ = writeln!(toc, "{}- [`{path}`](#{anchor})", "  ".repeat(depth));
    let _ = writeln!(out, "## `{path}`\n");
    let help = if depth == 0 {
        cmd.clone().render_long_help()
    } else {
        cmd.clone().render_help()
    }
    .to_string();
    let _ = writeln!(out, "```text\n{}\n```\n", help.trim_end());
    for sub in cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        walk(
            sub,
            &format!("{path} {}", sub.get_name()),
            out,
            toc,
            depth + 1,
        );
    }
}

/// The Markdown reference of every command, with the exit codes.
pub fn cli_reference() -> String {
    let mut cmd = crate::command();
    cmd.build();
    let mut body = String::new();
    let mut toc = String::new();
    walk(&cmd, "bdi", &mut body, &mut toc, 0);
    let mut out = String::new();
    out.push_str("# `bdi` command-line reference\n\n");
    out.push_str("<!-- Generated from the clap definitions in crates/cli by `cargo xtask codegen`; do not edit by hand. -->\n\n");
    out.push_str("`bdi` drives Boomi Data Integration from a terminal or a CI job.\n");
    out.push_str("Data goes to stdout (a table, or `-o json` / `-o yaml`); progress, notes and errors go to stderr.\n");
    out.push_str("Every example works without an account with `--sandbox`.\n\n");
    out.push_str("## Configuration\n\n");
    out.push_str("Values are taken from the flags, then the `DATA_INTEGRATION_API_URL`, `DATA_INTEGRATION_API_TOKEN`, `DATA_INTEGRATION_ACCOUNT_ID` and `DATA_INTEGRATION_ENVIRONMENT_ID` variables, then a profile of the config file.\n");
    out.push_str("The config file is `$BDI_CONFIG`, else `$XDG_CONFIG_HOME/bdi/config.toml`, else `~/.config/bdi/config.toml`; `bdi configure` writes it with mode 0600 and reads the token from stdin.\n");
    out.push_str("\nRun limits (2 runs a minute per data flow, 15 per account) are shared by every `bdi` process of the user through `$BDI_STATE_DIR/run-limits.json`, else `$XDG_STATE_HOME/bdi/run-limits.json`, else `~/.local/state/bdi/run-limits.json`: a run over the limit exits with code 5 before any request, saying when the next run is allowed.\n");
    out.push_str("`--profile NAME` (or `BDI_PROFILE`) picks a profile. The API URL is a URL or a region: `us`, `eu`, `il`, `au`.\n");
    out.push_str("`NO_COLOR` turns colour off; spinners show only when stderr is a terminal.\n\n");
    out.push_str("## Exit codes\n\n| code | meaning |\n| --- | --- |\n");
    for s in ExitStatus::ALL {
        let _ = writeln!(out, "| {} | {} |", s.code(), s.meaning());
    }
    out.push_str("\n## Commands\n\n");
    out.push_str(&toc);
    out.push('\n');
    out.push_str(&body);
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}
