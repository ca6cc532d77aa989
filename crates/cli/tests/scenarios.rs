//! The incident scenarios in `samples/scenarios` (written by
//! `samples/make_scenarios.py`): each folder of real-format bounces is
//! ingested by the real binary into a store, SQLite and PostgreSQL, and
//! `outcry incidents` over the store must find what `expect.json` says.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn scenarios() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/scenarios");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expect.json").exists())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 5, "the scenarios are missing from {root:?}");
    dirs
}

fn outcry(db: &str, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_outcry"))
        .args(args)
        .args(["--db", db])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("cannot open the store"),
        "{args:?}: {stderr}"
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// Check one scenario against the store at `db` (a fresh one).
fn run(dir: &Path, db: &str) {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let expect: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expect.json")).unwrap()).unwrap();
    // Ingest twice: the second run must change nothing.
    for _ in 0..2 {
        let (code, out) = outcry(db, &["ingest", "--offline", dir.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{name}: ingest: {out}");
    }
    let now = expect["now"].as_i64().unwrap().to_string();
    let mut args = vec!["incidents", "--format", "json", "--now", now.as_str()];
    let own = strings(&expect["own_networks"]);
    let important = strings(&expect["important"]);
    for n in &own {
        args.extend(["--own-network", n]);
    }
    for d in &important {
        args.extend(["--important", d]);
    }
    let (code, out) = outcry(db, &args);
    let found: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{name}: {e}: {out}"));
    let found = found.as_array().unwrap();
    let wanted = expect["incidents"].as_array().unwrap();
    assert_eq!(found.len(), wanted.len(), "{name}: {found:#?}");
    assert_eq!(
        code,
        Some(i32::from(found.iter().any(|i| i["state"] == "open"))),
        "{name}: exit status"
    );
    for (want, got) in wanted.iter().zip(found) {
        for key in ["verdict", "state", "failures"] {
            if !want[key].is_null() {
                assert_eq!(got[key], want[key], "{name}: {key}: {got:#}");
            }
        }
        if let Some(n) = want["recipient_domains"].as_u64() {
            assert_eq!(
                got["recipient_domains"].as_array().unwrap().len() as u64,
                n,
                "{name}: {got:#}"
            );
        }
        if !want["sending_ips"].is_null() {
            assert_eq!(got["sending_ips"], want["sending_ips"], "{name}: {got:#}");
        }
        for d in &important {
            assert!(
                strings(&got["important"]).contains(d),
                "{name}: {d} is a key correspondent: {got:#}"
            );
        }
    }
    // A vendor's "fixed" claim, stored on a ticket, checked by the packet.
    if let Some(claim) = expect["claim"].as_object() {
        let id = found[0]["id"].as_str().unwrap();
        let (code, _) = outcry(
            db,
            &[
                "ticket",
                "add",
                "--party",
                "provider",
                "--number",
                "T-1",
                "--incident",
                id,
            ],
        );
        assert_eq!(code, Some(0));
        let at = claim["at"].as_i64().unwrap();
        let fixed = format!("{}Z", &outcry_report::utc(at).replace(' ', "T")[..16]);
        let (code, _) = outcry(
            db,
            &[
                "ticket",
                "claim",
                "1",
                "--fixed-at",
                &fixed,
                "--text",
                "resolved",
            ],
        );
        assert_eq!(code, Some(0), "{name}: claim at {fixed}");
        let (code, out) = outcry(db, &["report", "--format", "json", "--now", &now]);
        assert_eq!(code, Some(0), "{name}: {out}");
        let packet: Value = serde_json::from_str(&out).unwrap();
        let checked = &packet["claims"][0];
        assert_eq!(checked[0]["at"].as_i64(), Some(at), "{name}: {checked:#}");
        assert_eq!(
            checked[1]["failures_after"], claim["failures_after"],
            "{name}: {checked:#}"
        );
    }
}

#[test]
fn scenarios_on_sqlite() {
    for dir in scenarios() {
        let tmp = tempfile::tempdir().unwrap();
        run(&dir, tmp.path().join("outcry.db").to_str().unwrap());
    }
}

#[test]
fn scenarios_on_postgres() {
    for (n, dir) in scenarios().iter().enumerate() {
        let Some(db) = outcry_testsupport::pg_database(&format!("scenario{n}")) else {
            return;
        };
        run(dir, &db.url);
    }
}
