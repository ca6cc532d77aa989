//! The real `outcry` binary on real files.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn outcry() -> Command {
    Command::new(env!("CARGO_BIN_EXE_outcry"))
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/bounces")
}

fn jsonl(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn analyze_the_samples_as_jsonl() {
    let out = outcry()
        .args(["analyze", "--format", "jsonl"])
        .arg(samples())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = jsonl(&out.stdout);
    assert_eq!(rows.len(), 6, "six records in the sample bounces");
    let office = rows
        .iter()
        .find(|r| r["recipient"] == "accounts@fabrikam-foods.example")
        .unwrap();
    assert_eq!(office["reason"], "blocked");
    assert_eq!(office["deliverystatus"], "5.7.606");
    assert_eq!(office["replycode"], "550");
    assert_eq!(office["sending_ip"], "40.107.22.93");
    assert_eq!(office["blocklist"], "microsoft");
    assert!(
        office["file"]
            .as_str()
            .unwrap()
            .ends_with("/office365-banned-ip.eml")
    );
    let spamhaus = rows
        .iter()
        .find(|r| r["recipient"] == "buyer@northwind-traders.example")
        .unwrap();
    assert_eq!(spamhaus["blocklist"], "spamhaus");
    assert_eq!(spamhaus["sending_ip"], "203.0.113.77");
    assert_eq!(spamhaus["command"], "RCPT");
    let vacation = rows.iter().find(|r| r["reason"] == "vacation").unwrap();
    assert_eq!(vacation["recipient"], "maria@fourth-coffee.example");
}

#[test]
fn file_names_join_the_argument_and_the_path_below_it() {
    let dir = samples();
    let out = outcry()
        .current_dir(&dir)
        .args(["analyze", "--format", "jsonl", "."])
        .output()
        .unwrap();
    let rows = jsonl(&out.stdout);
    assert!(
        rows.iter().any(|r| r["file"] == "./qmail-mailbox-full.eml"),
        "{rows:?}"
    );
}

#[test]
fn the_table_has_a_summary() {
    let out = outcry().arg("analyze").arg(samples()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("By reason:"));
    assert!(text.contains("By sending IP (failures):"));
    assert!(text.contains("40.107.22.93"));
    assert!(
        text.contains("7 messages read, 6 records (5 failures), 1 not bounces, 0 unreadable"),
        "{text}"
    );
}

#[test]
fn unreadable_inputs_are_reported_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        samples().join("qmail-mailbox-full.eml"),
        dir.path().join("a.eml"),
    )
    .unwrap();
    std::fs::write(dir.path().join("b.eml"), b"").unwrap();
    std::fs::write(dir.path().join("c.eml"), b"\x00\x01\x02 not mail").unwrap();
    let out = outcry()
        .args(["analyze", "--format", "jsonl"])
        .arg(dir.path())
        .arg("/no/such/path")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("b.eml: empty input"), "{err}");
    assert!(
        err.contains("c.eml: not an e-mail message: line 1 is not a header field"),
        "{err}"
    );
    assert!(
        err.contains("/no/such/path: no such file or folder"),
        "{err}"
    );
    assert_eq!(
        jsonl(&out.stdout).len(),
        1,
        "the readable bounce is still analysed"
    );
}

#[test]
fn a_maildir_is_read_without_its_mail_store_files() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
    }
    std::fs::copy(
        samples().join("qmail-mailbox-full.eml"),
        dir.path().join("new/1764000000.M1P2.mx:2,S"),
    )
    .unwrap();
    // What Dovecot and the quota code keep beside the messages.
    std::fs::write(
        dir.path().join("dovecot-uidlist"),
        "3 V1764000000 N2\n1 a\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("dovecot.index.log"),
        b"\x01\x02\x00\x00\xff",
    )
    .unwrap();
    std::fs::write(dir.path().join("maildirsize"), "0S\n").unwrap();
    let out = outcry().arg("analyze").arg(dir.path()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.is_empty(), "{err}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1 messages read, 1 records"), "{text}");
    // Named on the command line, such a file is read, and is not mail.
    let out = outcry()
        .arg("analyze")
        .arg(dir.path().join("dovecot-uidlist"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("dovecot-uidlist: not an e-mail message"),
        "{err}"
    );
}

#[test]
fn an_mbox_is_split_into_messages() {
    let dir = tempfile::tempdir().unwrap();
    let mut mbox = Vec::new();
    for f in [
        "qmail-mailbox-full.eml",
        "exim-user-unknown.eml",
        "not-a-bounce.eml",
    ] {
        mbox.extend_from_slice(b"From MAILER-DAEMON Thu Nov  5 09:15:44 2026\n");
        mbox.extend_from_slice(&std::fs::read(samples().join(f)).unwrap());
        mbox.extend_from_slice(b"\n");
    }
    let path = dir.path().join("bounces.mbox");
    std::fs::write(&path, mbox).unwrap();
    let out = outcry()
        .args(["analyze", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["messages"], 3);
    assert_eq!(doc["records"].as_array().unwrap().len(), 2);
    assert_eq!(doc["summary"]["by_reason"]["mailboxfull"], 1);
    // `index` numbers the records of the file, across its messages (as
    // Sisimai does), in both JSON and JSON Lines.
    let indexes = |v: &[Value]| v.iter().map(|r| r["index"].clone()).collect::<Vec<_>>();
    assert_eq!(indexes(doc["records"].as_array().unwrap()), [1, 2]);
    let out = outcry()
        .args(["analyze", "--format", "jsonl", "-j", "2"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(indexes(&jsonl(&out.stdout)), [1, 2]);
}

#[test]
fn help_teaches() {
    let out = outcry().args(["analyze", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Exit status"));
    assert!(text.contains("--format"));
}

#[test]
fn incidents_in_the_demo_bounces() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/demo");
    // As of Sat 7 Nov 2026 12:00 UTC, a few hours after the last bounce.
    let out = outcry()
        .args([
            "incidents",
            "--format",
            "json",
            "--now",
            "1794052800",
            "--important",
            "fabrikam-foods.example",
        ])
        .arg(&demo)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "an open incident: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let incidents = v.as_array().unwrap();
    assert_eq!(incidents.len(), 1, "the noise opens nothing: {v:#}");
    let i = &incidents[0];
    assert_eq!(i["verdict"], "provider");
    assert_eq!(i["state"], "open");
    assert_eq!(i["failures"], 14);
    assert_eq!(i["recipient_domains"].as_array().unwrap().len(), 6);
    assert_eq!(i["important"][0], "fabrikam-foods.example");
    assert!(i["blocklists"].to_string().contains("spamhaus"));
    let text = serde_json::to_string(&v).unwrap();
    assert!(
        !text.contains("accounts@"),
        "no local part leaves the engine"
    );
}

#[test]
fn the_evidence_packet_of_the_demo_story() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/demo");
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("incident.html");
    let out = outcry()
        .args([
            "report",
            "--now",
            "1794052800",
            "--claim",
            "2026-11-05T10:00Z=Microsoft (ticket 31415926)",
            "-o",
        ])
        .arg(&html)
        .arg(&demo)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("Fault: the mail provider"));
    assert!(page.contains("<svg"));
    assert!(
        page.contains("9 failure(s) of the same kind since, the first at 2026-11-05 10:02 UTC")
    );
    assert!(
        !page.contains("accounts@") && !page.contains("orders@"),
        "no local parts"
    );
    let md = outcry()
        .args(["report", "--format", "md", "--now", "1794052800"])
        .arg(&demo)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&md.stdout).starts_with("# Delivery incident"));
    let bad = outcry()
        .args(["report", "--incident", "nope"])
        .arg(&demo)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .contains("incidents found: reputation-pool-40.107.22.0_24-")
    );
}

#[test]
fn the_demo_tells_the_story_and_writes_the_packet() {
    let dir = tempfile::tempdir().unwrap();
    let out = outcry()
        .arg("demo")
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("verdict: provider"), "{text}");
    assert!(text.contains("important correspondents affected: fabrikam-foods.example"));
    for f in ["incident.html", "incident.md", "incident.json"] {
        let p = dir.path().join(f);
        assert!(
            text.contains(&p.display().to_string()),
            "prints where it wrote {f}"
        );
        assert!(std::fs::metadata(&p).unwrap().len() > 500);
    }
    let md = std::fs::read_to_string(dir.path().join("incident.md")).unwrap();
    assert!(md.contains("said fixed at 2026-11-05 10:00 UTC: 9 failure(s) of the same kind since"));
    assert!(
        md.contains("| 2026-11-05 16:00 UTC | provider 31415926 | reopened |"),
        "the ticket log: {md}"
    );
    // The demo keeps its story in its own SQLite store: a second run over
    // the same folder starts afresh rather than doubling the ticket.
    let again = outcry()
        .arg("demo")
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(again.status.success());
    let list = outcry()
        .args(["ticket", "list", "--format", "json", "--db"])
        .arg(dir.path().join("outcry.db"))
        .output()
        .unwrap();
    let tickets: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(tickets.as_array().unwrap().len(), 1, "{tickets:#}");
    assert_eq!(tickets[0]["number"], "31415926");
}

#[test]
fn ingest_twice_then_tickets_and_a_report_from_the_store() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/demo");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("outcry.db");
    let run = |args: &[&str]| {
        let out = outcry().args(args).env("OUTCRY_DB", &db).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let demo_s = demo.to_str().unwrap();
    // A real DNS server on loopback: Spamhaus ZEN lists one of the two
    // sending IPs; every other list is refused (an error, not "clear").
    let dns = outcry_testsupport::rbldnsd(&[(
        "zen.spamhaus.org",
        "ip4set",
        ":127.0.0.3:Listed in CSS $\n40.107.22.93\n",
    )]);
    let resolver = format!("127.0.0.1:{}", dns.port);
    let ingest = ["ingest", "--resolver", &resolver, "--timeout", "1", demo_s];
    let (code, first, err) = run(&ingest);
    assert_eq!(code, Some(0), "{err}");
    assert!(first.contains(" 0 already in the store"), "{first}");
    assert!(
        first.contains("2 sending IP(s) checked against the blocklists: 1 listed"),
        "{first}"
    );
    let (_, second, _) = run(&ingest);
    assert!(
        second.contains(": 0 new,"),
        "ingesting again adds nothing: {second}"
    );
    assert!(
        !second.contains("checked against"),
        "IPs checked within the hour are not asked again: {second}"
    );

    // Incidents from the store alone, as from the files.
    let (code, json, err) = run(&["incidents", "--format", "json", "--now", "1794052800"]);
    assert_eq!(code, Some(1), "{err}");
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["failures"], 14, "each failure counted once: {v:#}");
    let id = v[0]["id"].as_str().unwrap().to_string();

    let (code, out, err) = run(&[
        "ticket",
        "add",
        "--party",
        "provider",
        "--number",
        "31415926",
        "--incident",
        &id,
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("ticket #1"), "{out}");
    let (code, _, err) = run(&[
        "ticket",
        "claim",
        "1",
        "--fixed-at",
        "2026-11-05T10:00Z",
        "--text",
        "resolved",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = run(&[
        "ticket",
        "update",
        "1",
        "--status",
        "escalated",
        "--note",
        "joint",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let (_, list, _) = run(&["ticket", "list", "--format", "json"]);
    let t: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(t[0]["status"], "escalated");
    assert_eq!(t[0]["claims"][0]["fixed_at"], 1793872800);

    // The stored claim is checked against the stored bounces.
    let (code, md, err) = run(&["report", &id, "--format", "md", "--now", "1794052800"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(md.contains("31415926"), "the claim names the ticket: {md}");
    assert!(
        md.contains("9 failure(s) of the same kind since"),
        "the claim is refuted by later bounces: {md}"
    );
    // The stored blocklist answers are in the packet and the evidence.
    assert!(
        md.contains("| 40.107.22.93 | Microsoft 365 / Exchange Online Protection (shared pool) | no PTR | listed on Spamhaus ZEN (CSS"),
        "{md}"
    );
    assert!(
        md.contains("40.107.22.93 is listed on Spamhaus ZEN"),
        "{md}"
    );

    let (code, _, err) = run(&["report", "no-such-incident", "--now", "1794052800"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("no incident \"no-such-incident\" (and no file or folder")
            && err.contains(&id),
        "{err}"
    );

    let (code, _, err) = run(&[
        "ticket", "update", "99", "--status", "closed", "--note", "x",
    ]);
    assert_ne!(code, Some(0));
    assert!(err.contains("99"), "the error names the ticket: {err}");
}

#[test]
fn key_correspondents_come_from_message_volume_in_the_logs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples");
    let out = outcry()
        .args([
            "incidents",
            "--format",
            "json",
            "--now",
            "1794052800",
            "--logs",
        ])
        .arg(root.join("message-trace.csv"))
        .args(["--key-correspondents", "3"])
        .arg(root.join("demo"))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The three biggest domains in four weeks of message trace.
    assert_eq!(
        v[0]["important"],
        serde_json::json!([
            "fabrikam-foods.example",
            "northwind-traders.example",
            "wingtip-restaurants.example"
        ]),
        "{v:#}"
    );

    // A Postfix log works the same; a file that is neither is a clear error.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mail.log");
    std::fs::write(
        &log,
        "Nov  3 09:00:01 mx postfix/smtp[11]: A1B2C3: to=<x@tailspin-toys.example>, relay=mx.tailspin-toys.example[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)\n",
    )
    .unwrap();
    let out = outcry()
        .args([
            "incidents",
            "--format",
            "json",
            "--now",
            "1794052800",
            "--logs",
        ])
        .arg(&log)
        .arg(root.join("demo"))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v[0]["important"],
        serde_json::json!(["tailspin-toys.example"])
    );
    let out = outcry()
        .args(["incidents", "--logs"])
        .arg(root.join("demo/01-20261104-1402.eml"))
        .arg(root.join("demo"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--logs ") && err.contains("01-20261104-1402.eml: not a Postfix mail log"),
        "{err}"
    );
}
