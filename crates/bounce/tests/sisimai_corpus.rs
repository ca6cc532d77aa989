//! Accuracy against the Sisimai corpus in `../shared/corpus/sisimai` (the
//! reference analyser's own test e-mails and expectations).
//!
//! Pairs records with expected rows the way `shared/tools/score_against_expected.py`
//! does (by recipient, then by position) and fails when an accuracy figure
//! drops below the floor reached so far. Raise the floors as the engine
//! improves; never lower them to make a change pass.
//!
//! The corpus location can be overridden with `OUTCRY_SISIMAI_CORPUS`. A
//! missing corpus is a failure, not a skip.

use outcry_bounce::{Record, analyze};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Floors, in percent of expected rows (LF originals).
const FLOOR_REASON: f64 = 99.7;
const FLOOR_STATUS: f64 = 99.2;
const FLOOR_RECIPIENT: f64 = 99.0;
const FLOOR_REPLY: f64 = 99.5;
/// The reporting MTA (Sisimai's `lhost`). Not a target of the issue, but a
/// field `outcry analyze` prints: 59.2% until session 10, when the
/// bounce's own `Received:` line was found never to be read (a backspace
/// had taken the place of a `\b` in its pattern).
const FLOOR_REPORTING_MTA: f64 = 81.0;

fn corpus() -> PathBuf {
    if let Ok(p) = std::env::var("OUTCRY_SISIMAI_CORPUS") {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/sisimai");
    assert!(
        p.join("dev-expected.jsonl").exists(),
        "the Sisimai corpus is not at {} (set OUTCRY_SISIMAI_CORPUS to its folder)",
        p.display()
    );
    p
}

#[derive(Default)]
struct Score {
    rows: usize,
    reason: usize,
    status: usize,
    recipient: usize,
    reply: usize,
    both: usize,
    reporting_mta: usize,
}

impl Score {
    fn pct(&self, n: usize) -> f64 {
        if self.rows == 0 {
            0.0
        } else {
            100.0 * n as f64 / self.rows as f64
        }
    }
}

fn score(variant: &str) -> (Score, Vec<String>) {
    let dir = corpus();
    let text = std::fs::read_to_string(dir.join("dev-expected.jsonl")).unwrap();
    let mut by_file: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap();
        if v["variant"].as_str().unwrap_or("lf") == variant {
            by_file
                .entry(v["file"].as_str().unwrap().to_string())
                .or_default()
                .push(v);
        }
    }
    let mut s = Score::default();
    let mut misses = Vec::new();
    for (file, expected) in &by_file {
        let raw = std::fs::read(dir.join(file)).unwrap();
        let got: Vec<Record> = messages(&raw)
            .into_iter()
            .flat_map(|m| analyze(m).unwrap_or_default())
            .collect();
        let mut used = vec![false; got.len()];
        for (i, e) in expected.iter().enumerate() {
            let rcpt = e["recipient"].as_str().unwrap_or("").to_lowercase();
            let mut pick = got.iter().position(|r| r.recipient.to_lowercase() == rcpt);
            if pick.is_some_and(|j| used[j]) {
                pick = None;
            }
            if pick.is_none() {
                let j = e["index"].as_u64().map(|x| x as usize - 1).unwrap_or(i);
                pick = (j < got.len() && !used[j])
                    .then_some(j)
                    .or_else(|| used.iter().position(|u| !u));
            }
            s.rows += 1;
            let Some(j) = pick else {
                misses.push(format!("{file}: no record for {rcpt}"));
                continue;
            };
            used[j] = true;
            let r = &got[j];
            let ok_reason = r.reason.as_str() == e["reason"].as_str().unwrap();
            let ok_status = r.status == e["deliverystatus"].as_str().unwrap();
            s.reason += ok_reason as usize;
            s.status += ok_status as usize;
            s.both += (ok_reason && ok_status) as usize;
            s.recipient += (r.recipient.to_lowercase() == rcpt) as usize;
            let reply = r.reply_code.map(|c| c.to_string()).unwrap_or_default();
            s.reply += (reply == e["replycode"].as_str().unwrap_or("")) as usize;
            let lhost = e["reporting_mta"].as_str().unwrap_or("").to_lowercase();
            s.reporting_mta += (r.reporting_mta == lhost) as usize;
            if !ok_reason {
                misses.push(format!(
                    "{file}: reason {} expected {}",
                    r.reason, e["reason"]
                ));
            }
        }
    }
    (s, misses)
}

/// A few corpus files are mboxes of two messages, as `outcry analyze` reads
/// them: split at each `From ` line (LF files only; that is all `score` reads).
fn messages(raw: &[u8]) -> Vec<&[u8]> {
    if !raw.starts_with(b"From ") {
        return vec![raw];
    }
    let mut starts: Vec<usize> = raw
        .windows(6)
        .enumerate()
        .filter(|(_, w)| w == b"\nFrom ")
        .map(|(i, _)| i + 1)
        .collect();
    starts.insert(0, 0);
    starts.push(raw.len());
    starts.windows(2).map(|w| &raw[w[0]..w[1]]).collect()
}

#[test]
fn lf_originals_meet_the_floors() {
    let (s, misses) = score("lf");
    eprintln!(
        "LF rows {}: reason {:.2}%  status {:.2}%  both {:.2}%  recipient {:.2}%  reply code {:.2}%",
        s.rows,
        s.pct(s.reason),
        s.pct(s.status),
        s.pct(s.both),
        s.pct(s.recipient),
        s.pct(s.reply)
    );
    for m in misses.iter().take(40) {
        eprintln!("  {m}");
    }
    assert!(
        s.rows >= 400,
        "expected about 407 LF rows, found {}",
        s.rows
    );
    assert!(
        s.pct(s.reason) >= FLOOR_REASON,
        "reason accuracy {:.2}% < {FLOOR_REASON}%",
        s.pct(s.reason)
    );
    assert!(
        s.pct(s.status) >= FLOOR_STATUS,
        "status accuracy {:.2}% < {FLOOR_STATUS}%",
        s.pct(s.status)
    );
    assert!(
        s.pct(s.recipient) >= FLOOR_RECIPIENT,
        "recipient accuracy {:.2}% < {FLOOR_RECIPIENT}%",
        s.pct(s.recipient)
    );
    assert!(
        s.pct(s.reply) >= FLOOR_REPLY,
        "reply code accuracy {:.2}% < {FLOOR_REPLY}%",
        s.pct(s.reply)
    );
    assert!(
        s.pct(s.reporting_mta) >= FLOOR_REPORTING_MTA,
        "reporting MTA agreement {:.2}% < {FLOOR_REPORTING_MTA}%",
        s.pct(s.reporting_mta)
    );
}

/// CRLF and bare-CR copies must decode exactly as well as their LF twins.
#[test]
fn crlf_and_cr_copies_match_their_originals() {
    let dir = corpus();
    let files = std::fs::read_to_string(dir.join("dev-files.jsonl")).unwrap();
    let mut compared = 0;
    for line in files.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap();
        let (Some(file), Some(twin)) = (v["file"].as_str(), v["twin_of"].as_str()) else {
            continue;
        };
        let copy = analyze(&std::fs::read(dir.join(file)).unwrap()).unwrap();
        let original = analyze(&std::fs::read(dir.join(twin)).unwrap()).unwrap();
        let key = |r: &Record| {
            (
                r.recipient.clone(),
                r.reason,
                r.status.clone(),
                r.reply_code,
            )
        };
        assert_eq!(
            copy.iter().map(key).collect::<Vec<_>>(),
            original.iter().map(key).collect::<Vec<_>>(),
            "{file} decodes differently from {twin}"
        );
        compared += 1;
    }
    assert!(
        compared >= 50,
        "expected about 58 CRLF/CR copies, compared {compared}"
    );
}

#[test]
fn a_message_that_is_not_a_bounce_gives_no_record() {
    let dir = corpus().join("maildir/not");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let got = analyze(&std::fs::read(&p).unwrap()).unwrap();
        assert!(got.is_empty(), "{} gave {} records", p.display(), got.len());
        n += 1;
    }
    assert!(n >= 1);
}

/// Every LF original decodes the same after changes that must not matter:
/// CRLF and bare-CR line endings (the corpus has copies of only 29 files),
/// and its plain-text parts re-sent in base64. A rule that leans on the
/// raw bytes of a part instead of its decoded text fails here.
#[test]
fn line_endings_and_transfer_encodings_do_not_change_any_record() {
    let dir = corpus().join("maildir/bsd");
    let key = |r: &Record| {
        (
            r.recipient.clone(),
            r.reason,
            r.status.clone(),
            r.reply_code,
            r.command,
            r.sending_ip,
            r.blocklist,
        )
    };
    let decode = |raw: &[u8]| -> Vec<_> {
        messages(raw)
            .into_iter()
            .flat_map(|m| analyze(m).unwrap_or_default())
            .map(|r| key(&r))
            .collect()
    };
    let (mut files, mut reencoded) = (0, 0);
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let raw = std::fs::read(&path).unwrap();
        let lf = decode(&raw);
        // (A few originals are CRLF already: make them LF first.)
        let raw: Vec<u8> = raw
            .iter()
            .enumerate()
            .filter(|&(i, &b)| !(b == b'\r' && raw.get(i + 1) == Some(&b'\n')))
            .map(|(_, &b)| b)
            .collect();
        assert_eq!(decode(&raw), lf, "{}: LF", path.display());
        let crlf: Vec<u8> = raw
            .iter()
            .flat_map(|&b| {
                if b == b'\n' {
                    vec![b'\r', b'\n']
                } else {
                    vec![b]
                }
            })
            .collect();
        let cr: Vec<u8> = raw
            .iter()
            .map(|&b| if b == b'\n' { b'\r' } else { b })
            .collect();
        assert_eq!(decode(&crlf), lf, "{}: CRLF", path.display());
        if !raw.starts_with(b"From ") {
            // (A bare-CR mbox is split by `outcry analyze`, not here.)
            assert_eq!(decode(&cr), lf, "{}: bare CR", path.display());
        }
        if let Some(b64) = text_parts_in_base64(&raw) {
            assert_eq!(decode(&b64), lf, "{}: text parts in base64", path.display());
            reencoded += 1;
        }
        files += 1;
    }
    assert!(files >= 370, "expected about 380 files, read {files}");
    assert!(
        reencoded >= 100,
        "expected 100+ re-encoded files, made {reencoded}"
    );
}

/// The message with each plain-text MIME part of its top-level multipart
/// re-encoded in base64; `None` when it has no such part.
fn text_parts_in_base64(raw: &[u8]) -> Option<Vec<u8>> {
    let head_end = raw.windows(2).position(|w| w == b"\n\n")?;
    let boundary = regex::bytes::Regex::new(r#"(?i)boundary="?([^";\r\n]+)"?"#)
        .unwrap()
        .captures(&raw[..head_end])?[1]
        .to_vec();
    let marker = [b"--".as_slice(), &boundary].concat();
    let text_plain = regex::bytes::Regex::new(r"(?i)content-type:\s*text/plain").unwrap();
    let encoded = regex::bytes::Regex::new(
        r"(?i)content-transfer-encoding:\s*(base64|quoted-printable)|name=",
    )
    .unwrap();
    let cte = regex::bytes::Regex::new(r"(?i)\ncontent-transfer-encoding:[^\n]*").unwrap();
    let mut parts: Vec<Vec<u8>> = Vec::new();
    let mut changed = false;
    let mut rest = raw;
    while let Some(at) = rest
        .windows(marker.len())
        .position(|w| w == marker.as_slice())
    {
        parts.push(rest[..at].to_vec());
        rest = &rest[at + marker.len()..];
    }
    parts.push(rest.to_vec());
    for part in parts.iter_mut().skip(1) {
        let Some(he) = part.windows(2).position(|w| w == b"\n\n") else {
            continue;
        };
        let (head, body) = (&part[..he], &part[he + 2..]);
        if !text_plain.is_match(head) || encoded.is_match(head) {
            continue;
        }
        // The newline before the next boundary belongs to the boundary.
        let core = body.strip_suffix(b"\n").unwrap_or(body);
        let mut new = cte.replace_all(head, &b""[..]).to_vec();
        new.extend_from_slice(b"\nContent-Transfer-Encoding: base64\n\n");
        for line in base64(core).as_bytes().chunks(76) {
            new.extend_from_slice(line);
            new.push(b'\n');
        }
        *part = new;
        changed = true;
    }
    changed.then(|| parts.join(marker.as_slice()))
}

/// Standard base64 (test helper; the crate itself only decodes).
fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk.len();
        let v = u32::from(chunk[0]) << 16
            | u32::from(*chunk.get(1).unwrap_or(&0)) << 8
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= n {
                out.push(char::from(ABC[(v >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn base64_helper_is_standard() {
    assert_eq!(base64(b"Man"), "TWFu");
    assert_eq!(base64(b"Ma"), "TWE=");
    assert_eq!(base64(b"M"), "TQ==");
    assert_eq!(base64(b""), "");
}
