//! The code's shape as ARCHITECTURE.md states it: no import runs back up
//! the layers, and no source file grows past about 700 lines.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Paths named in code (not in comments) of one file.
fn code_lines(p: &Path) -> Vec<(usize, String)> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect()
}

/// Where the engine names a module that sits on it.
fn upward_imports(files: &[PathBuf], above: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for f in files {
        for (n, l) in code_lines(f) {
            for m in above {
                if l.contains(&format!("crate::{m}::")) || l.contains(&format!("crate::{m};")) {
                    found.push(format!("{}:{n}: {}", f.display(), l.trim()));
                }
            }
        }
    }
    found
}

#[test]
fn the_engine_never_imports_what_sits_on_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut engine = Vec::new();
    for d in ["topology", "kinds", "sim", "metrics"] {
        rust_files(&root.join(d), &mut engine);
    }
    for f in [
        "model.rs",
        "report/mod.rs",
        "report/groups.rs",
        "report/keyed.rs",
    ] {
        engine.push(root.join(f));
    }
    let above = [
        "analysis",
        "budget",
        "scenario",
        "reference",
        "share",
        "cli",
    ];
    let found = upward_imports(&engine, &above);
    assert!(
        found.is_empty(),
        "imports that run back up:\n{}",
        found.join("\n")
    );

    // The vocabulary imports none of our modules.
    let kind = code_lines(&root.join("kind.rs"));
    let up: Vec<_> = kind.iter().filter(|(_, l)| l.contains("crate::")).collect();
    assert!(up.is_empty(), "kind.rs imports: {up:?}");
}

#[test]
fn the_check_finds_an_upward_import() {
    // The scan above must be able to fail: a file naming `crate::scenario::`
    // in code is found, the same text in a comment is not.
    let dir = std::env::temp_dir().join(format!("bottleneck-layers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("x.rs");
    std::fs::write(&f, "// crate::scenario::Plan\nuse crate::scenario::Plan;\n").unwrap();
    let found = upward_imports(&[f], &["scenario"]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].ends_with(":2: use crate::scenario::Plan;"));
}

#[test]
fn no_source_file_grows_past_about_700_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("app/src"), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).unwrap().lines().count();
            (n > 750).then(|| format!("{}: {n} lines", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these by job:\n{}", long.join("\n"));
}
