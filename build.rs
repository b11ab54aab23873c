//! Embeds every file under `lessons/` into the binary (as `OUT_DIR/lessons.rs`), so the tutor
//! works from any directory without a lessons folder next to it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR")).join("lessons");
    println!("cargo:rerun-if-changed=lessons");
    let mut files = Vec::new();
    walk(&root, &mut files);
    let mut code = String::from("/// Files under `lessons/`: (path relative to `lessons/`, contents).\npub(crate) static FILES: &[(&str, &str)] = &[\n");
    for f in &files {
        let rel = f.strip_prefix(&root).expect("under lessons/").to_string_lossy().replace('\\', "/");
        if rel.ends_with(".md") || rel.ends_with(".yaml") || rel.ends_with(".yml") || rel.ends_with(".txt") {
            writeln!(code, "    ({rel:?}, include_str!({:?})),", f.display().to_string()).unwrap();
        }
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("lessons.rs");
    std::fs::write(out, code).expect("write lessons.rs");
}
