//! The shape of the crate, checked from its sources (`/shared/architecture.md`
//! in the project's words: "a module imports only from layers above it"): the
//! module-level import graph of `crates/tp4/src` has no cycle, every import goes to
//! the module's own layer or a lower one, and no exercise imports another exercise.
//! Reading the sources keeps this true as the code changes: a new `use` that breaks
//! the layering fails here with the offending file named.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers of the library, lowest first; a module may import its own layer or a
/// lower one.
const LAYERS: &[&[&str]] = &[
    // 1. foundation
    &[
        "error", "fr", "alloc", "progress", "output", "plot", "measure", "models", "machine", "cpu",
    ],
    // 2. inputs and workloads
    &["data", "workloads", "procs", "run"],
    // 3. runs and reports
    &["context", "results", "environment", "bench"],
    // 4. teaching material
    &["verif", "exercises"],
    // 5. drivers
    &["lab", "notebook"],
];

/// Names that `lib.rs` re-exports from `exercises`.
const EXERCISES: &[&str] = &["ex1", "ex2", "ex3", "ex4", "ex5", "ex6", "ex7", "warmup"];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable src dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The graph node of a source file: its top-level module, or `exercises::exN`.
fn node_of(file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src_dir()).ok()?;
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    match parts.as_slice() {
        [only] if only == "lib" => None,
        [first, second, ..] if first == "exercises" && second != "mod" => {
            Some(format!("exercises::{second}"))
        }
        [first, ..] => Some(first.clone()),
        [] => None,
    }
}

/// The code of a file without comments and without its `#[cfg(test)]` module
/// (tests may use any module).
fn code_of(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            break;
        }
        if t.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The modules a piece of code names through `crate::`.
fn imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if ident == "exercises" {
            let after = &rest[ident.len()..];
            if let Some(sub) = after.strip_prefix("::") {
                let sub: String = sub
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if EXERCISES.contains(&sub.as_str()) {
                    found.insert(format!("exercises::{sub}"));
                    continue;
                }
            }
            found.insert(ident);
        } else if EXERCISES.contains(&ident.as_str()) {
            found.insert(format!("exercises::{ident}"));
        } else if !ident.is_empty() && ident != "Result" && ident != "Error" {
            found.insert(ident);
        }
    }
    found
}

fn layer_of(node: &str) -> Option<usize> {
    let top = node.split("::").next()?;
    LAYERS.iter().position(|l| l.contains(&top))
}

/// node → (imported node → a file that imports it).
fn graph() -> BTreeMap<String, BTreeMap<String, PathBuf>> {
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    let mut g: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
    for file in files {
        let Some(node) = node_of(&file) else { continue };
        let text = std::fs::read_to_string(&file).expect("readable source");
        let entry = g.entry(node.clone()).or_default();
        for target in imports(&code_of(&text)) {
            if target != node {
                entry.entry(target).or_insert_with(|| file.clone());
            }
        }
    }
    g
}

fn find_cycle(g: &BTreeMap<String, BTreeMap<String, PathBuf>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeMap<String, PathBuf>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for next in g
            .get(n)
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            match state.get(&next).copied().unwrap_or(0) {
                1 => {
                    let start = stack.iter().position(|s| *s == next).unwrap_or(0);
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next);
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(&next, g, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if state.get(n).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(n, g, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn the_module_graph_has_no_cycle() {
    let g = graph();
    assert!(g.len() > 15, "too few modules found: {:?}", g.keys());
    if let Some(cycle) = find_cycle(&g) {
        let edges: Vec<String> = cycle
            .windows(2)
            .map(|w| format!("{} → {} ({})", w[0], w[1], g[&w[0]][&w[1]].display()))
            .collect();
        panic!("import cycle:\n  {}", edges.join("\n  "));
    }
}

#[test]
fn every_import_goes_to_the_same_or_a_lower_layer() {
    let mut wrong = Vec::new();
    for (from, targets) in graph() {
        let Some(lf) = layer_of(&from) else {
            wrong.push(format!("{from}: module missing from LAYERS"));
            continue;
        };
        for (to, file) in targets {
            match layer_of(&to) {
                Some(lt) if lt <= lf => {}
                Some(lt) => wrong.push(format!(
                    "{from} (layer {}) imports {to} (layer {}) in {}",
                    lf + 1,
                    lt + 1,
                    file.display()
                )),
                None => wrong.push(format!(
                    "{to} (imported in {}) missing from LAYERS",
                    file.display()
                )),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "layering broken:\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn no_exercise_imports_another_exercise() {
    let mut wrong = Vec::new();
    for (from, targets) in graph() {
        if !from.starts_with("exercises::") {
            continue;
        }
        for (to, file) in targets {
            if to.starts_with("exercises::") {
                wrong.push(format!("{from} imports {to} in {}", file.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_parser_sees_imports_and_ignores_comments_and_tests() {
    let code = code_of(
        "use crate::fr;\n// crate::lab\nfn f() { crate::ex1::g(); crate::exercises::ex2::h(); }\n\
         #[cfg(test)]\nmod tests { use crate::bench; }\n",
    );
    let found = imports(&code);
    let want: BTreeSet<String> = ["fr", "exercises::ex1", "exercises::ex2"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(found, want);
}
