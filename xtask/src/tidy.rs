//! Tidy checks that run as plain tests (`cargo test -p xtask`), in rust-analyzer's style: the
//! house rules and the architecture's invariants, enforced rather than hoped for.

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::fs;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use crate::project_root;

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if name == "target" || name.to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    fn sources() -> Vec<PathBuf> {
        let root = project_root();
        let mut files = Vec::new();
        for dir in ["crates", "xtask", "tests"] {
            rust_files(&root.join(dir), &mut files);
        }
        files
    }

    #[test]
    fn every_file_opens_with_a_doc_comment() {
        let mut missing = Vec::new();
        for file in sources() {
            let text = fs::read_to_string(&file).unwrap();
            let is_test_file =
                file.components().any(|c| c.as_os_str() == "tests") || file.ends_with("tests.rs");
            if !text.starts_with("//!") && !is_test_file {
                missing.push(file.display().to_string());
            }
        }
        assert!(
            missing.is_empty(),
            "these files do not open with a `//!` comment:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn no_stubs_or_ignored_tests() {
        let needles = [
            concat!("todo", "!("),
            concat!("unimplemented", "!("),
            concat!("#[", "ignore"),
        ];
        let mut found = Vec::new();
        for file in sources() {
            let text = fs::read_to_string(&file).unwrap();
            for (i, line) in text.lines().enumerate() {
                if needles.iter().any(|n| line.contains(n)) {
                    found.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
                }
            }
        }
        assert!(
            found.is_empty(),
            "stubs or ignored tests:\n{}",
            found.join("\n")
        );
    }

    fn depends_on(package: &str, dependency: &str) -> bool {
        let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
            .args(["tree", "-e", "normal", "-p", package, "-i", dependency])
            .current_dir(project_root())
            .output()
            .unwrap();
        // `cargo tree -i X` fails when X is not in the graph at all, and prints nothing when it is
        // there but not reachable from `package`; any other failure must not pass silently.
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            assert!(
                stderr.contains("did not match any packages"),
                "cargo tree failed: {stderr}"
            );
            return false;
        }
        !String::from_utf8_lossy(&out.stdout).trim().is_empty()
    }

    #[test]
    fn the_dependency_check_sees_real_edges() {
        assert!(depends_on("bdi-api-client", "reqwest"));
        assert!(depends_on("bdi-api-client", "bdi-domain"));
    }

    #[test]
    fn domain_does_no_io() {
        for dep in ["reqwest", "hyper", "axum", "bdi-api-client", "bdi-sandbox"] {
            assert!(
                !depends_on("bdi-domain", dep),
                "bdi-domain must not depend on {dep}"
            );
        }
        // tokio, yes, for its clock and its sync types: never its I/O.
        let manifest = fs::read_to_string(project_root().join("crates/domain/Cargo.toml")).unwrap();
        let dependencies: String = manifest
            .split("\n[")
            .filter(|section| section.starts_with("dependencies]"))
            .collect();
        let tokio = dependencies
            .lines()
            .find(|l| l.starts_with("tokio "))
            .expect("tokio among the domain's dependencies");
        for feature in ["\"net\"", "\"fs\"", "\"full\"", "\"process\"", "\"io-std\""] {
            assert!(
                !tokio.contains(feature),
                "the domain's tokio has feature {feature}"
            );
        }
        let mut offenders = Vec::new();
        let mut files = Vec::new();
        rust_files(&project_root().join("crates/domain/src"), &mut files);
        assert!(files.len() > 10, "the domain's sources were found");
        for file in files {
            let text = fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                for needle in [
                    "std::fs",
                    "tokio::fs",
                    "tokio::net",
                    "std::net",
                    "reqwest",
                    "hyper::",
                    "axum::",
                ] {
                    if code.contains(needle) {
                        offenders.push(format!("{}:{}: {needle}", file.display(), n + 1));
                    }
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "the domain does no I/O:\n{}",
            offenders.join("\n")
        );
    }

    /// The names of the MCP server's tools (each `#[tool(...)]` method).
    fn mcp_tool_names() -> Vec<String> {
        let mut files = Vec::new();
        rust_files(&project_root().join("crates/mcp-server/src"), &mut files);
        let mut names = Vec::new();
        for file in files {
            let text = fs::read_to_string(&file).unwrap();
            let mut after_tool = false;
            for line in text.lines().map(str::trim) {
                if line.starts_with("#[tool(") {
                    after_tool = true;
                } else if after_tool && let Some(rest) = line.strip_prefix("async fn ") {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    names.push(name);
                    after_tool = false;
                }
            }
        }
        names
    }

    /// The string literals of a line of Rust (comments skipped, escapes kept).
    fn string_literals(line: &str) -> Vec<String> {
        let code = match line.trim_start() {
            l if l.starts_with("//") => return Vec::new(),
            l => l,
        };
        let mut out = Vec::new();
        let mut current: Option<String> = None;
        let mut escaped = false;
        let mut previous = ' ';
        for c in code.chars() {
            if current.is_none() && previous == '/' && c == '/' {
                break;
            }
            previous = c;
            match (&mut current, c) {
                (Some(s), _) if escaped => {
                    s.push(c);
                    escaped = false;
                }
                (Some(s), '\\') => {
                    s.push(c);
                    escaped = true;
                }
                (Some(_), '"') => out.push(current.take().unwrap_or_default()),
                (Some(s), _) => s.push(c),
                (None, '"') => current = Some(String::new()),
                (None, _) => {}
            }
        }
        out
    }

    fn names_word(text: &str, word: &str) -> bool {
        let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        text.match_indices(word).any(|(at, _)| {
            !text[..at].chars().next_back().is_some_and(is_word)
                && !text[at + word.len()..].chars().next().is_some_and(is_word)
        })
    }

    #[test]
    fn the_domain_speaks_no_front_ends_language() {
        let tools = mcp_tool_names();
        assert!(
            tools.len() > 20 && tools.iter().any(|t| t == "list_runs"),
            "the tools were found: {tools:?}"
        );
        let mut files = Vec::new();
        rust_files(&project_root().join("crates/domain/src"), &mut files);
        let mut offenders = Vec::new();
        for file in files {
            let text = fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                for literal in string_literals(line) {
                    for tool in tools.iter().filter(|t| names_word(&literal, t)) {
                        offenders.push(format!("{}:{}: {tool}", file.display(), n + 1));
                    }
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "the domain's messages name no MCP tool (advice is a NextStep, worded by each front end):\n{}",
            offenders.join("\n")
        );
        assert_eq!(
            string_literals(r#"f("a \"b\" c", 'x', "list_runs") // "not this""#),
            [r#"a \"b\" c"#, "list_runs"]
        );
        assert!(names_word("see list_runs.", "list_runs"));
        assert!(!names_word("list_runs_extra", "list_runs"));
    }

    #[test]
    fn the_documents_the_code_points_at_are_in_the_repository() {
        let root = project_root();
        let mut missing = Vec::new();
        // Spelled in two parts, so that this file does not find itself.
        let outside = ["shared", "reference/"].join("/");
        for file in sources() {
            let text = fs::read_to_string(&file).unwrap();
            assert!(
                !text.contains(&outside),
                "{} points outside the repository; the contracts are in docs/",
                file.display()
            );
            for (at, _) in text.match_indices("docs/") {
                let name: String = text[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'))
                    .collect();
                let name = name.trim_end_matches('.');
                let markdown = Path::new(name)
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("md"));
                if markdown && !root.join(name).exists() {
                    missing.push(format!("{}: {name}", file.display()));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "missing documents:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn the_library_returns_typed_errors() {
        // A public function of the library crates fails with a type a caller can match on.
        let mut offenders = Vec::new();
        for dir in [
            "crates/domain/src",
            "crates/api-client/src",
            "crates/load/src",
        ] {
            let mut files = Vec::new();
            rust_files(&project_root().join(dir), &mut files);
            for file in files {
                let text = fs::read_to_string(&file).unwrap();
                // The signature may span lines: join each public fn's up to its body.
                for (at, _) in text
                    .match_indices("pub fn ")
                    .chain(text.match_indices("pub async fn "))
                {
                    let signature = text[at..].split('{').next().unwrap_or_default();
                    let compact: String =
                        signature.split_whitespace().collect::<Vec<_>>().join(" ");
                    if compact.contains(", String>") && compact.contains("Result<") {
                        let line = text[..at].lines().count() + 1;
                        offenders.push(format!("{}:{line}: {compact}", file.display()));
                    }
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "public functions of the library return a typed error, not a String:\n{}",
            offenders.join("\n")
        );
    }

    #[test]
    fn sandbox_is_written_from_the_contract_not_the_client() {
        for dep in ["bdi-domain", "bdi-api-client"] {
            assert!(
                !depends_on("bdi-sandbox", dep),
                "bdi-sandbox must not depend on {dep}"
            );
        }
    }

    /// DuckDB's C++ takes minutes to build: only the loader and the front ends that load (the
    /// CLI, and `bdi-mcp` for its history tools) may pull it in; the library and the gateway
    /// build without it.
    #[test]
    fn every_program_that_runs_other_peoples_sql_can_be_its_worker() {
        // A SQL surface starts the program it runs in again as a worker
        // (`bdi_load::sql_worker`): a binary that did not answer first would start itself over,
        // and a test binary without the test `bdi_sql_worker` would run no query at all.
        let root = project_root();
        let mut entries = Vec::new();
        // Every binary that links the loader ...
        for krate in fs::read_dir(root.join("crates")).unwrap().flatten() {
            let manifest = fs::read_to_string(krate.path().join("Cargo.toml")).unwrap_or_default();
            let main = krate.path().join("src/main.rs");
            if main.exists() && manifest.contains("\nbdi-load") {
                entries.push(main);
            }
        }
        // ... and every test binary whose tests run a SQL surface.
        for file in sources() {
            let text = fs::read_to_string(&file).unwrap_or_default();
            let in_tests = file.components().any(|c| c.as_os_str() == "tests");
            if in_tests
                && !file.starts_with(root.join("xtask"))
                && (text.contains("SqlWorkers")
                    || text.contains("History::new")
                    || text.contains("testing::hostile"))
            {
                let krate: PathBuf = file
                    .strip_prefix(&root)
                    .unwrap()
                    .components()
                    .take(2)
                    .collect();
                entries.push(root.join(krate).join("tests/it/main.rs"));
            }
        }
        entries.sort();
        entries.dedup();
        assert!(
            entries.len() >= 5,
            "positive control: the binaries and test binaries were found: {entries:?}"
        );
        let missing: Vec<String> = entries
            .iter()
            .filter(|e| {
                !fs::read_to_string(e)
                    .unwrap_or_default()
                    .contains("sql_worker::serve_if_asked()")
            })
            .map(|e| e.display().to_string())
            .collect();
        assert!(
            missing.is_empty(),
            "call bdi_load::sql_worker::serve_if_asked() first in main (a binary) or in a test named bdi_sql_worker (a test binary):\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn duckdb_stays_in_the_loader() {
        // The loader, and the front ends that load or read a dataset (the CLI, the dashboard, the
        // MCP server's history tools).
        for package in ["bdi-load", "bdi-cli", "bdi-dashboard", "bdi-mcp-server"] {
            assert!(
                depends_on(package, "libduckdb-sys"),
                "positive control: {package} does depend on DuckDB"
            );
        }
        for package in [
            "bdi-domain",
            "bdi-api-client",
            "bdi-sandbox",
            "bdi-rest-proxy",
        ] {
            assert!(
                !depends_on(package, "libduckdb-sys"),
                "{package} must not depend on DuckDB"
            );
        }
    }

    /// `cargo tree` over `args`: each dependency (the workspace's own crates left out) with the
    /// feature sets it is built with (two when the host's build scripts and macros use it with
    /// other features than the target code).
    fn features(args: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
        let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
            .args([
                "tree", "--locked", "--prefix", "none", "--format", "{p}|{f}",
            ])
            .args(args)
            .current_dir(project_root())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cargo tree {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let line = line.trim_end_matches(" (*)");
            let Some((package, features)) = line.split_once('|') else {
                continue;
            };
            // The workspace's crates print their path: `bdi-domain v0.0.0 (/.../crates/domain)`.
            if package.contains(" (/") {
                continue;
            }
            map.entry(package.to_owned())
                .or_default()
                .insert(features.to_owned());
        }
        map
    }

    /// The crates that depend on the workspace-hack: the applications and the end-to-end tests
    /// (`.config/hakari.toml` leaves the library crates out).
    const HACKED: [&str; 6] = [
        "bdi-mcp-server",
        "bdi-cli",
        "bdi-load",
        "bdi-dashboard",
        "bdi-rest-proxy",
        "bdi-tests",
    ];

    /// One build (docs/build.md): `cargo build -p X` and `cargo test -p X` of every application
    /// give each dependency the features the workspace's test build and clippy give it, so that
    /// all of them reuse one compile of it, and of DuckDB's C++ (its build script's dependencies
    /// are among them). Fails when a change of dependencies needs the workspace-hack regenerated.
    #[test]
    fn every_build_resolves_the_same_features() {
        let workspace = features(&["--workspace", "-e", "normal,build,dev"]);
        assert!(
            workspace.keys().any(|p| p.starts_with("libduckdb-sys v")),
            "positive control: the workspace builds DuckDB"
        );
        let mut differ = Vec::new();
        for package in HACKED {
            for (build, edges) in [("build", "normal,build"), ("test", "normal,build,dev")] {
                for (dependency, sets) in features(&["-p", package, "-e", edges]) {
                    // Test-only features kept out of the main job on purpose.
                    if crate::TEST_ONLY_FEATURES
                        .iter()
                        .any(|name| dependency.starts_with(&format!("{name} v")))
                    {
                        continue;
                    }
                    let all = workspace.get(&dependency).cloned().unwrap_or_default();
                    if !sets.is_subset(&all) {
                        differ.push(format!(
                            "cargo {build} -p {package}: {dependency} with [{}], the workspace with [{}]",
                            sets.into_iter().collect::<Vec<_>>().join("] ["),
                            all.into_iter().collect::<Vec<_>>().join("] [")
                        ));
                    }
                }
            }
        }
        assert!(
            differ.is_empty(),
            "these builds give a dependency other features than the workspace's build, so they compile it (and what depends on it) again:\n{}\n\
             Regenerate the workspace-hack: `cargo install cargo-hakari --locked` (once), then `cargo hakari generate && cargo hakari manage-deps` (docs/build.md).",
            differ.join("\n")
        );
    }

    /// The workspace-hack only unifies features: the main job builds no crate that only the
    /// hack asks for (one that only tests or another binary use).
    #[test]
    fn the_hack_adds_no_crate_to_the_main_job() {
        let with = features(&["-p", "bdi-mcp-server", "-e", "normal,build"]);
        let without = features(&[
            "-p",
            "bdi-mcp-server",
            "-e",
            "normal,build",
            "--prune",
            "bdi-workspace-hack",
        ]);
        let added: Vec<&String> = with.keys().filter(|p| !without.contains_key(*p)).collect();
        assert!(
            added.is_empty(),
            "bdi-mcp-server builds these only because the workspace-hack lists them: {added:?}; \
             leave them out in .config/hakari.toml's [final-excludes]"
        );
    }

    /// The library crates stay free of the workspace-hack: it would give Rust users and the
    /// domain the servers' dependencies.
    #[test]
    fn no_front_end_decides_on_an_errors_text() {
        // Layers speak in types: a front end words an error's variant or next step, it never
        // reads the text of a message to decide what happened (the text changes, the engine
        // words it differently, and the decision silently stops matching).
        let root = project_root();
        let pattern = regex_lite(&[
            "message.contains(",
            "msg.contains(",
            "m.contains(",
            "err.contains(",
            "e.to_string().contains(",
            "err.to_string().contains(",
            "error.to_string().contains(",
        ]);
        let caught = |line: &str| pattern.iter().any(|p| line.contains(p.as_str()));
        assert!(caught(
            r#"Err(Failed(m)) if m.contains("holds no dataset") => {"#
        ));
        assert!(
            !caught("if perm.contains(&x) {"),
            "positive and negative controls"
        );
        let mut offenders = Vec::new();
        for dir in [
            "crates/mcp-server/src",
            "crates/cli/src",
            "crates/dashboard/src",
            "crates/rest-proxy/src",
        ] {
            let mut files = Vec::new();
            rust_files(&root.join(dir), &mut files);
            for file in files.iter().filter(|f| !f.ends_with("tests.rs")) {
                let text = fs::read_to_string(file).unwrap();
                // Test modules may assert on text; production code may not decide on it.
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                for (n, line) in code.lines().enumerate() {
                    if caught(line) {
                        offenders.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                    }
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "decide on the error's type (a variant, its next step), not its text:\n{}",
            offenders.join("\n")
        );
    }

    /// The needles of [`no_front_end_decides_on_an_errors_text`], each preceded by a space,
    /// `(` or `!` so that `perm.contains(` is not `m.contains(`.
    fn regex_lite(needles: &[&str]) -> Vec<String> {
        needles
            .iter()
            .flat_map(|n| [" ", "(", "!", "|"].map(|p| format!("{p}{n}")))
            .collect()
    }

    #[test]
    fn no_data_file_is_in_git() {
        // A DuckDB file a load or a test wrote (`boomi_flow_pipeline.duckdb` was once committed
        // at the root): data files are ignored, never tracked. Outside a git checkout (a source
        // archive) there is nothing to check.
        let Ok(out) = Command::new("git")
            .args(["ls-files"])
            .current_dir(project_root())
            .output()
        else {
            return;
        };
        if !out.status.success() {
            return;
        }
        let files = String::from_utf8_lossy(&out.stdout);
        assert!(files.lines().any(|f| f == "Cargo.toml"), "positive control");
        let data: Vec<&str> = files
            .lines()
            .filter(|f| {
                [".duckdb", ".duckdb.wal", ".parquet", ".sqlite", ".db"]
                    .iter()
                    .any(|e| f.ends_with(e))
            })
            .collect();
        assert!(
            data.is_empty(),
            "data files are tracked by git; `git rm --cached` them (.gitignore ignores *.duckdb): {data:?}"
        );
    }

    #[test]
    fn the_library_takes_no_hack() {
        for package in ["bdi-domain", "bdi-api-client", "bdi-sandbox", "bdi-redis"] {
            assert!(
                !depends_on(package, "bdi-workspace-hack"),
                "{package} must not depend on bdi-workspace-hack"
            );
        }
        for package in HACKED {
            assert!(
                depends_on(package, "bdi-workspace-hack"),
                "{package} must depend on bdi-workspace-hack (`cargo hakari manage-deps`)"
            );
        }
    }
}
