//! Tidy checks over Strongroom's own source tree. The checks live in `tests/tidy.rs` and
//! run with every other test; this library only finds the files they read.

use std::path::{Path, PathBuf};

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every file under `dir` whose name ends with `ext`, skipping build output and packages.
pub fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in rd.flatten() {
        let p = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if p.is_dir() {
            if matches!(
                name.as_ref(),
                "target" | "node_modules" | "dist" | ".git" | "gen" | ".demo"
            ) {
                continue;
            }
            out.extend(files_with_ext(&p, ext));
        } else if name.ends_with(ext) {
            out.push(p);
        }
    }
    out.sort();
    out
}
