//! The hub end to end with the real binary: `outcry hub serve` on
//! loopback, three organisations with the demo's bounces in their own
//! stores register, share, and see one public joint incident with count 3,
//! their tickets and the escalation text; the page renders in headless
//! Chromium; `--dry-run` shows exactly what is sent and holds no recipient
//! domain or address.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

fn outcry() -> Command {
    Command::new(env!("CARGO_BIN_EXE_outcry"))
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(db: &Path) -> Server {
    let mut child = outcry()
        .args(["hub", "serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Server { child, url }
}

fn run(args: &[&str]) -> String {
    let out = outcry().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn three_organisations_share_the_demo_incident_and_see_one_public_joint_incident() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/demo");
    let demo = demo.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let hub = serve(&dir.path().join("hub.db"));

    let mut stores = Vec::new();
    for n in 1..=3 {
        let db = dir.path().join(format!("org{n}.db"));
        let db = db.to_str().unwrap().to_string();
        run(&["ingest", "--offline", "--db", &db, demo]);
        run(&[
            "ticket",
            "add",
            "--db",
            &db,
            "--party",
            "provider",
            "--number",
            &format!("MS-{n}{n}{n}"),
        ]);
        run(&[
            "ticket",
            "claim",
            "1",
            "--db",
            &db,
            "--fixed-at",
            "2026-11-05T10:00Z",
            "--text",
            "resolved",
        ]);
        let reg = run(&[
            "hub",
            "register",
            "--hub",
            &hub.url,
            "--name",
            &format!("Org {n}"),
            "--format",
            "json",
        ]);
        let token = serde_json::from_str::<Value>(&reg).unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string();

        if n == 1 {
            // What would be sent: no recipient domain, no address, no name.
            let dry = run(&["share", "--all", "--dry-run", "--with-ticket", "--db", &db]);
            let v: Value = serde_json::from_str(&dry).unwrap();
            assert_eq!(v.as_array().unwrap().len(), 1);
            assert_eq!(v[0]["scope"], "pool:40.107.22.0/24");
            assert_eq!(v[0]["ticket"]["number"], "MS-111");
            assert_eq!(
                v[0]["claims"],
                serde_json::json!([]),
                "claims only with --with-claims"
            );
            for secret in ["fabrikam", "northwind", "contoso", "@", "accounts"] {
                assert!(!dry.contains(secret), "{secret} in {dry}");
            }
        }
        let out = run(&[
            "share",
            "--all",
            "--with-ticket",
            "--with-claims",
            "--db",
            &db,
            "--hub",
            &hub.url,
            "--token",
            &token,
        ]);
        assert!(out.contains(&format!("with {n} organisation(s)")), "{out}");
        assert_eq!(out.contains("public"), n == 3, "{out}");
        stores.push(db);
    }

    let status = run(&[
        "hub", "status", "--format", "json", "--db", &stores[0], "--hub", &hub.url,
    ]);
    let v: Value = serde_json::from_str(&status).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v:#}");
    let j = &v[0]["joint_incident"];
    assert_eq!(j["organisations"], 3);
    assert_eq!(
        j["evidence"]["tickets"],
        serde_json::json!(["MS-111", "MS-222", "MS-333"])
    );
    let text = j["evidence"]["escalation"].as_str().unwrap();
    assert!(
        text.starts_with(
            "3 organisations report the same delivery problem since 2026-11-04 14:02 UTC"
        ),
        "{text}"
    );
    assert!(
        text.contains("3 organisation(s) reported failures after that"),
        "{text}"
    );

    // The incident page in a real browser.
    let id = j["id"].as_i64().unwrap();
    let dom = Command::new(outcry_testsupport::chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("{}/incidents/{id}", hub.url))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("<span class=\"n\">3</span> organisations affected"),
        "{dom}"
    );
    assert!(
        dom.contains("<path d=\"M") && dom.matches("<circle").count() == 3,
        "{dom}"
    );
    assert!(dom.contains("MS-111, MS-222, MS-333"), "{dom}");
}
