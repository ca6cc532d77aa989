//! `outcry check` against a real rbldnsd on loopback.

use outcry_testsupport::rbldnsd;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const ZEN: &str = ":127.0.0.2:Listed in SBL $\n40.107.22.93\n203.0.113.0/24 :127.0.0.11:PBL $\n198.51.100.254 :127.255.255.254:refused\n";

fn outcry() -> Command {
    Command::new(env!("CARGO_BIN_EXE_outcry"))
}

fn check(port: u16, extra: &[&str]) -> (Option<i32>, Value, String) {
    let out = outcry()
        .args([
            "check",
            "--quiet",
            "--format",
            "json",
            "--lists",
            "spamhaus-zen",
            "--timeout",
            "1",
        ])
        .arg("--resolver")
        .arg(format!("127.0.0.1:{port}"))
        .args(extra)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code(),
        v,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn exit_status_tells_listed_clear_and_errors_apart() {
    let server = rbldnsd(&[("zen.spamhaus.org", "ip4set", ZEN)]);

    let (code, v, _) = check(server.port, &["198.51.100.1"]);
    assert_eq!(code, Some(0));
    assert_eq!(v[0]["lists"][0]["status"], "clear");

    let (code, v, _) = check(server.port, &["198.51.100.1", "40.107.22.93"]);
    assert_eq!(code, Some(1));
    let listed = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ip"] == "40.107.22.93")
        .unwrap();
    assert_eq!(listed["lists"][0]["status"], "listed");
    assert_eq!(listed["lists"][0]["codes"][0], "127.0.0.2");
    assert_eq!(listed["owner"]["provider"], "microsoft365");
    assert_eq!(listed["shared_pool"], true);
    assert!(
        listed["lists"][0]["txt"][0]
            .as_str()
            .unwrap()
            .contains("40.107.22.93")
    );

    let (code, v, _) = check(server.port, &["198.51.100.254"]);
    assert_eq!(code, Some(2), "an operator error code is an error: {v}");
    assert_eq!(v[0]["lists"][0]["status"], "error");
}

#[test]
fn sending_ips_from_bounces() {
    let server = rbldnsd(&[("zen.spamhaus.org", "ip4set", ZEN)]);
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/bounces");
    let (code, v, _) = check(server.port, &["--from-bounces", samples.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    let ips: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ip"].as_str().unwrap())
        .collect();
    assert!(
        ips.contains(&"40.107.22.93") && ips.contains(&"203.0.113.77"),
        "{ips:?}"
    );
    let pbl = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ip"] == "203.0.113.77")
        .unwrap();
    assert_eq!(pbl["bounces_citing"], 1);
    assert!(
        pbl["lists"][0]["meanings"][0]
            .as_str()
            .unwrap()
            .contains("PBL")
    );
}

#[test]
fn a_silent_resolver_gives_errors_not_clear() {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let (code, v, err) = check(port, &["192.0.2.1"]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(v[0]["lists"][0]["status"], "error");
}

#[test]
fn bad_arguments_are_explained() {
    let out = outcry()
        .args(["check", "--resolver", "nonsense", "192.0.2.1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected ADDR or ADDR:PORT"));
    let out = outcry().args(["check", "not a target"]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("neither an IP address nor a domain name")
    );
}
