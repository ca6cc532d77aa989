//! Test helpers shared by outcry's crates. Real servers, not mocks: a
//! [`Rbldnsd`] process serving blocklist zones on loopback, and a fresh
//! database on the PostgreSQL server `.ci/run` starts ([`pg_database`]).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running rbldnsd on 127.0.0.1, killed on drop.
pub struct Rbldnsd {
    child: Child,
    /// The UDP port on 127.0.0.1.
    pub port: u16,
    _dir: PathBuf,
}

impl Drop for Rbldnsd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}

/// Where Debian installs rbldnsd.
fn rbldnsd_binary() -> PathBuf {
    for p in [
        "/usr/sbin/rbldnsd",
        "/usr/bin/rbldnsd",
        "/usr/local/sbin/rbldnsd",
    ] {
        if std::path::Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!(
        "rbldnsd is not installed: apt-get install rbldnsd (the DNS tests need a real blocklist server)"
    );
}

/// Does a DNS server answer on 127.0.0.1:`port` within 5 s? Sends a plain
/// A query for `2.0.0.127.<zone>` and waits for any reply.
pub fn answers(port: u16, zone: &str) -> bool {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in format!("2.0.0.127.{zone}").split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    let mut buf = [0u8; 512];
    for _ in 0..25 {
        let _ = sock.send_to(&q, ("127.0.0.1", port));
        if let Ok((n, _)) = sock.recv_from(&mut buf)
            && n >= 12
            && buf[0] == 0x12
            && buf[1] == 0x34
        {
            return true;
        }
    }
    false
}

/// A UDP port on 127.0.0.1 that was free a moment ago.
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Start rbldnsd serving `zones` (zone name, dataset type such as `ip4set`,
/// `ip4trie`, `ip6trie` or `dnset`, file contents). Panics with a clear
/// message when rbldnsd is not installed: tests never skip.
pub fn rbldnsd(zones: &[(&str, &str, &str)]) -> Rbldnsd {
    let dir = std::env::temp_dir().join(format!(
        "outcry-rbl-{}-{}",
        std::process::id(),
        free_udp_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    // rbldnsd drops privileges to its own user: the files must be readable.
    let mut perms = std::fs::metadata(&dir).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&dir, perms).unwrap();
    let mut args: Vec<String> = Vec::new();
    for (i, (zone, kind, data)) in zones.iter().enumerate() {
        let file = format!("z{i}");
        std::fs::write(dir.join(&file), data).unwrap();
        let mut p = std::fs::metadata(dir.join(&file)).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut p, 0o644);
        std::fs::set_permissions(dir.join(&file), p).unwrap();
        args.push(format!("{zone}:{kind}:{file}"));
    }
    for _ in 0..5 {
        let port = free_udp_port();
        let mut child = Command::new(rbldnsd_binary())
            .arg("-n")
            .arg("-b")
            .arg(format!("127.0.0.1/{port}"))
            .arg("-r")
            .arg(&dir)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("rbldnsd starts");
        // rbldnsd buffers its log when it is not on a terminal: ask it a
        // question until it answers instead of waiting for "started".
        let probe_zone = zones.first().map(|z| z.0).unwrap_or("test");
        if answers(port, probe_zone) {
            return Rbldnsd {
                child,
                port,
                _dir: dir,
            };
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("rbldnsd did not start on a free port");
}

/// A database of its own on the PostgreSQL server named by
/// `OUTCRY_TEST_PG_URL`, dropped again when this goes out of scope.
pub struct PgDatabase {
    /// Its URL, for `outcry_store::open` or `--db`.
    pub url: String,
    admin: postgres::Client,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = self.admin.batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

/// A fresh database named after `tag` and this process, or `None` when
/// `OUTCRY_TEST_PG_URL` is unset outside CI. Under CI (`CI` set) a missing
/// server is a failure, not a skip: `.ci/run` starts one and sets the URL.
pub fn pg_database(tag: &str) -> Option<PgDatabase> {
    let Ok(url) = std::env::var("OUTCRY_TEST_PG_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must provide OUTCRY_TEST_PG_URL (.ci/run starts PostgreSQL)"
        );
        eprintln!("OUTCRY_TEST_PG_URL not set: the PostgreSQL half of this test is not run");
        return None;
    };
    let mut admin = postgres::Client::connect(&url, postgres::NoTls)
        .unwrap_or_else(|e| panic!("PostgreSQL at {url} unreachable: {e}"));
    let name = format!("outcry_{tag}_{}", std::process::id());
    // Two statements: CREATE DATABASE refuses to run inside the implicit
    // transaction of a multi-statement query.
    for sql in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        admin
            .batch_execute(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
    Some(PgDatabase {
        url: format!("{base}/{name}"),
        admin,
        name,
    })
}

/// The headless Chromium binary. Panics with what to install when there is
/// none: browser tests never skip.
pub fn chromium() -> &'static str {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect("headless Chromium is needed for this test: apt-get install chromium")
}
