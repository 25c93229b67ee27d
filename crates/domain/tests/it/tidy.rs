//! Tidy checks of the crate's invariants: no I/O of its own (no HTTP client, sockets or files),
//! and every source file opens with a `//!` comment.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_domain_does_no_io_of_its_own() {
    let mut files = Vec::new();
    sources(&crate_dir().join("src"), &mut files);
    assert!(files.len() > 10, "sources not found");
    let banned = [
        "reqwest",
        "std::fs",
        "tokio::net",
        "std::net",
        "hyper::",
        "axum::",
    ];
    let mut offences = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for b in banned {
                if code.contains(b) {
                    offences.push(format!("{}:{}: {b}", f.display(), n + 1));
                }
            }
        }
        if !text.starts_with("//!") {
            offences.push(format!("{}: does not open with a //! comment", f.display()));
        }
    }
    assert!(offences.is_empty(), "{}", offences.join("\n"));
}

#[test]
fn the_domain_depends_on_no_http_stack() {
    let manifest = std::fs::read_to_string(crate_dir().join("Cargo.toml")).expect("manifest");
    let deps: String = manifest
        .split("\n[")
        .filter(|section| section.starts_with("dependencies]"))
        .collect();
    assert!(!deps.is_empty(), "no [dependencies] section found");
    for banned in ["reqwest", "hyper", "axum"] {
        assert!(!deps.contains(banned), "[dependencies] mentions {banned}");
    }
    let tokio = deps
        .lines()
        .find(|l| l.starts_with("tokio "))
        .expect("tokio dependency");
    for feature in ["\"net\"", "\"fs\"", "\"full\"", "\"process\""] {
        assert!(
            !tokio.contains(feature),
            "tokio feature {feature} in [dependencies]"
        );
    }
}
