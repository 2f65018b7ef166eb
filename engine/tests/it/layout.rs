//! The engine's folders depend on each other as ARCHITECTURE.md draws them: each uses only
//! the folders its row of the table names, so the import graph has no cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each folder with the folders it may use, as ARCHITECTURE.md's table has it.
const LAYERS: [(&str, &[&str]); 10] = [
    ("store", &[]),
    ("access", &["store"]),
    ("audit", &["store"]),
    ("org", &["audit", "access", "store"]),
    ("workflow", &["store"]),
    ("cycle", &["workflow", "access", "store"]),
    ("calendar", &["cycle", "workflow", "access", "store"]),
    ("evidence", &["cycle", "org", "audit", "access", "store"]),
    ("plan", &["evidence", "calendar", "cycle", "audit", "access", "store"]),
    ("io", &["plan", "evidence", "calendar", "cycle", "workflow", "audit", "access", "store"]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("the folder reads") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The folders each folder's code (tests left out) names as `crate::FOLDER`.
fn uses() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let folders: BTreeSet<&str> = LAYERS.iter().map(|(folder, _)| *folder).collect();
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (folder, _) in LAYERS {
        let mut files = Vec::new();
        rust_files(&src.join(folder), &mut files);
        assert!(!files.is_empty(), "engine/src/{folder} holds no code");
        let used = uses.entry(folder.to_owned()).or_default();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("the file reads");
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for (at, _) in code.match_indices("crate::") {
                let name: String =
                    code[at + "crate::".len()..].chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                if name != folder && folders.contains(name.as_str()) {
                    used.insert(name);
                }
            }
        }
    }
    uses
}

#[test]
fn every_folder_uses_only_the_folders_below_it() {
    let allowed: BTreeMap<&str, BTreeSet<&str>> =
        LAYERS.iter().map(|(folder, below)| (*folder, below.iter().copied().collect())).collect();
    for (folder, used) in uses() {
        let beyond: Vec<&String> = used.iter().filter(|u| !allowed[folder.as_str()].contains(u.as_str())).collect();
        assert!(beyond.is_empty(), "engine/src/{folder} uses {beyond:?}, which ARCHITECTURE.md does not allow it");
    }
}

#[test]
fn the_folders_in_the_table_are_the_folders_of_the_engine() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&src)
        .expect("src reads")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().expect("a name").to_string_lossy().into_owned())
        .collect();
    let in_table: BTreeSet<String> = LAYERS.iter().map(|(folder, _)| (*folder).to_owned()).collect();
    assert_eq!(on_disk, in_table, "a folder of engine/src is missing from the layers (and ARCHITECTURE.md)");
}
