//! `outcry analyze`: read inputs, decode in parallel batches, print.

use crate::input::{self, Item};
use crate::{AnalyzeArgs, Format};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use outcry_bounce::Record;
use rayon::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

const BATCH: usize = 1024;

/// The outcome of one message.
struct Outcome {
    file: String,
    position: usize,
    result: Result<Vec<Record>, String>,
    /// The records as JSON lines, rendered by the worker (`--format jsonl`)
    /// without their `index` values: the index counts records across an
    /// mbox's messages, so only the writer knows it.
    rendered: Vec<u8>,
    /// Where each record's `index` value goes in `rendered`.
    index_at: Vec<usize>,
}

/// What the writer needs to know about the command line.
#[derive(Clone, Copy)]
struct Output {
    format: Format,
    empty: bool,
}

/// Run `outcry analyze`.
///
/// Three stages overlap: a reader thread splits the inputs into batches, the
/// worker pool decodes one batch (and renders its JSON lines) while a writer
/// thread prints the previous one. Two batches in flight on each side bound
/// the memory.
pub fn run(args: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    // The engine's rule tables are built on another thread meanwhile (the
    // workers wait for them only if they get there first).
    let prepared = std::thread::spawn(outcry_bounce::prepare);
    let (files, unreadable) = input::expand(&args.paths);
    // Progress in bytes: a single 1 GiB mbox moves the bar too.
    let files = with_sizes(files);
    let bar = progress(files.iter().map(|f| f.1).sum(), Unit::Bytes, args.quiet);
    let output = Output {
        format: args.format,
        empty: args.empty,
    };

    let (to_workers, batches) = std::sync::mpsc::sync_channel::<Vec<Item>>(2);
    let reader_bar = bar.clone();
    let reader = std::thread::spawn(move || read_batches(&files, &reader_bar, &to_workers));
    let (to_writer, decoded) = std::sync::mpsc::sync_channel::<Vec<Outcome>>(2);
    let writer = std::thread::spawn(move || write_all(output, decoded, unreadable));

    for mut batch in batches {
        let outcomes: Vec<Outcome> = pool.install(|| {
            batch
                .par_drain(..)
                .map(|item| decode(item, output.format))
                .collect()
        });
        if to_writer.send(outcomes).is_err() {
            break; // the writer stopped (an error it reports below)
        }
    }
    drop(to_writer);
    let written = writer
        .join()
        .map_err(|_| anyhow::anyhow!("the output writer thread failed"))?;
    reader
        .join()
        .map_err(|_| anyhow::anyhow!("the input reader thread failed"))?;
    prepared
        .join()
        .map_err(|_| anyhow::anyhow!("building the engine's rule tables failed"))?;
    bar.finish_and_clear();
    let failures = written?;
    for (f, e) in &failures {
        eprintln!("outcry: {f}: {e}");
    }
    if !failures.is_empty() {
        eprintln!(
            "outcry: {} input(s) could not be read or parsed; the rest were analysed",
            failures.len()
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Each file with its size (0 when it cannot be read: reading it will
/// say why).
fn with_sizes(files: Vec<PathBuf>) -> Vec<(PathBuf, u64)> {
    files
        .into_iter()
        .map(|f| {
            let size = std::fs::metadata(&f).map_or(0, |m| m.len());
            (f, size)
        })
        .collect()
}

/// The reader thread: the messages of `files` (each with its size) in
/// batches of [`BATCH`] to `to_workers`, moving `bar` by the bytes read (by
/// each message's size within a file, to the file's exact size at its end).
/// Stops early when the workers have gone.
fn read_batches(
    files: &[(PathBuf, u64)],
    bar: &ProgressBar,
    to_workers: &std::sync::mpsc::SyncSender<Vec<Item>>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut done = 0;
    for (path, size) in files {
        for item in input::messages(path) {
            if let Ok(b) = &item.bytes {
                bar.inc(b.len() as u64);
            }
            batch.push(item);
            if batch.len() >= BATCH
                && to_workers
                    .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                    .is_err()
            {
                return;
            }
        }
        done += size;
        bar.set_position(done);
    }
    let _ = to_workers.send(batch);
}

/// Decode one message (on a worker) and, for JSON Lines, render its records.
fn decode(item: Item, format: Format) -> Outcome {
    let result = item.bytes.and_then(|b| input::analyze(&b));
    let mut rendered = Vec::new();
    let mut index_at = Vec::new();
    if format == Format::Jsonl
        && let Ok(records) = &result
    {
        for r in records {
            index_at.push(JsonRecord::new(&item.file, 0, r).write_line(&mut rendered));
        }
    }
    Outcome {
        file: item.file,
        position: item.position,
        result,
        rendered,
        index_at,
    }
}

/// The writer thread: prints every batch in input order, then the summary
/// (table) or the whole document (JSON). Returns the inputs that could not
/// be read or parsed, with why.
fn write_all(
    output: Output,
    decoded: std::sync::mpsc::Receiver<Vec<Outcome>>,
    mut failures: Vec<(String, String)>,
) -> anyhow::Result<Vec<(String, String)>> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut summary = Summary::default();
    let mut all: Vec<Value> = Vec::new();
    // `index` counts records per file, across the messages of an mbox (as
    // Sisimai numbers them): the file being written and its records so far.
    let mut numbering: (String, usize) = (String::new(), 0);
    if output.format == Format::Table {
        writeln!(
            out,
            "{:<32} {:<15} {:<8} {:<5} {:<16} {:<15} FILE",
            "RECIPIENT", "REASON", "STATUS", "REPLY", "SENDING IP", "BLOCKLIST"
        )?;
    }
    for batch in decoded {
        for o in batch {
            let records = match o.result {
                Ok(records) => records,
                Err(e) => {
                    let place = if o.position > 0 {
                        format!("{} (message {})", o.file, o.position)
                    } else {
                        o.file.clone()
                    };
                    failures.push((place, e));
                    continue;
                }
            };
            if numbering.0 != o.file {
                numbering = (o.file.clone(), 0);
            }
            let offset = numbering.1;
            numbering.1 += records.len();
            summary.messages += 1;
            if records.is_empty() {
                summary.not_bounces += 1;
                if output.empty && output.format == Format::Jsonl {
                    writeln!(out, "{}", json!({"file": o.file, "index": 0, "records": 0}))?;
                }
            }
            let mut written = 0;
            for (i, &at) in o.index_at.iter().enumerate() {
                out.write_all(&o.rendered[written..at])?;
                write!(out, "{}", offset + i + 1)?;
                written = at;
            }
            out.write_all(&o.rendered[written..])?;
            for (i, r) in records.iter().enumerate() {
                match output.format {
                    // JSON Lines has no summary.
                    Format::Jsonl => {}
                    Format::Json => {
                        summary.add(r);
                        all.push(serde_json::to_value(JsonRecord::new(
                            &o.file,
                            offset + i + 1,
                            r,
                        ))?);
                    }
                    Format::Table => {
                        summary.add(r);
                        table_row(&mut out, &o.file, r)?;
                    }
                }
            }
        }
    }
    match output.format {
        Format::Table => summary.print(&mut out, failures.len())?,
        Format::Json => {
            let doc = json!({
                "records": all,
                "summary": summary.to_json(),
                "unreadable": failures.iter().map(|(f, e)| json!({"file": f, "error": e})).collect::<Vec<_>>(),
            });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        Format::Jsonl => {}
    }
    out.flush()?;
    Ok(failures)
}

/// What a progress bar counts.
#[derive(Clone, Copy)]
pub(crate) enum Unit {
    /// Bytes read, shown with their rate.
    Bytes,
    /// Things of the given name ("addresses").
    Items(&'static str),
}

/// A progress bar on stderr of `len` units, hidden when stderr is not a
/// terminal or `quiet` is set; coloured unless `NO_COLOR` is set.
pub(crate) fn progress(len: u64, unit: Unit, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    }
    let colour = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(&progress_template(unit, colour))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// The bar's `indicatif` template.
fn progress_template(unit: Unit, colour: bool) -> String {
    let bar = if colour {
        "{bar:40.cyan/blue}"
    } else {
        "{bar:40}"
    };
    let counts = match unit {
        Unit::Bytes => {
            "{binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, {eta} left)".to_string()
        }
        Unit::Items(name) => format!("{{pos}}/{{len}} {name}"),
    };
    format!("{bar} {counts} {{elapsed}}")
}

/// One record as a Sisimai-compatible JSON object, plus outcry's fields.
/// Serialised directly (no intermediate `serde_json::Value`); the fields are
/// in alphabetical order, the order the output has always had.
#[derive(serde::Serialize)]
struct JsonRecord<'a> {
    action: &'static str,
    addresser: &'a str,
    blocklist: Option<&'static str>,
    command: &'static str,
    decodedby: &'static str,
    deliverystatus: &'a str,
    diagnosticcode: &'a str,
    diagnostictype: &'a str,
    feedbacktype: &'a str,
    file: &'a str,
    hardbounce: bool,
    index: usize,
    messageid: &'a str,
    reason: &'static str,
    recipient: &'a str,
    remote_mta: &'a str,
    replycode: ReplyCode,
    reporting_mta: &'a str,
    /// (`serde` writes an address as its text.)
    sending_ip: Option<std::net::IpAddr>,
    timestamp: Option<i64>,
}

/// An SMTP reply code as Sisimai writes it: a string, empty when unknown.
struct ReplyCode(Option<u16>);

impl serde::Serialize for ReplyCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(c) => s.collect_str(&c),
            None => s.serialize_str(""),
        }
    }
}

impl<'a> JsonRecord<'a> {
    /// The JSON view of record `r`, the `index`-th of `file`.
    fn new(file: &'a str, index: usize, r: &'a Record) -> JsonRecord<'a> {
        JsonRecord {
            action: r.action.map(|a| a.as_str()).unwrap_or(""),
            addresser: &r.sender,
            blocklist: r.blocklist.map(|b| b.as_str()),
            command: r.command.map(|c| c.as_str()).unwrap_or(""),
            decodedby: r.decoded_by.as_str(),
            deliverystatus: &r.status,
            diagnosticcode: &r.diagnostic,
            diagnostictype: &r.diagnostic_type,
            feedbacktype: r.feedback_type.as_deref().unwrap_or(""),
            file,
            hardbounce: r.hard_bounce,
            index,
            messageid: &r.message_id,
            reason: r.reason.as_str(),
            recipient: &r.recipient,
            remote_mta: &r.remote_mta,
            replycode: ReplyCode(r.reply_code),
            reporting_mta: &r.reporting_mta,
            sending_ip: r.sending_ip,
            timestamp: r.timestamp,
        }
    }

    /// Append this record as one JSON line, `index` left out, and return
    /// the offset where its value belongs.
    ///
    /// Byte for byte what `serde_json::to_string` writes (a proptest holds
    /// them equal) plus the newline, written by hand for speed alone:
    /// `serde_json` looks up every byte of a string in its escape table, and
    /// this was a twentieth of `outcry analyze --format jsonl`'s
    /// instructions; [`push_json_str`] copies runs that need no escape at
    /// once.
    fn write_line(&self, out: &mut Vec<u8>) -> usize {
        use std::io::Write as _;
        let str_field = |out: &mut Vec<u8>, key: &str, value: &str| {
            out.extend_from_slice(key.as_bytes());
            push_json_str(out, value);
        };
        let opt_field = |out: &mut Vec<u8>, key: &str, value: Option<&str>| match value {
            Some(v) => str_field(out, key, v),
            None => {
                out.extend_from_slice(key.as_bytes());
                out.extend_from_slice(b"null");
            }
        };
        str_field(out, "{\"action\":", self.action);
        str_field(out, ",\"addresser\":", self.addresser);
        opt_field(out, ",\"blocklist\":", self.blocklist);
        str_field(out, ",\"command\":", self.command);
        str_field(out, ",\"decodedby\":", self.decodedby);
        str_field(out, ",\"deliverystatus\":", self.deliverystatus);
        str_field(out, ",\"diagnosticcode\":", self.diagnosticcode);
        str_field(out, ",\"diagnostictype\":", self.diagnostictype);
        str_field(out, ",\"feedbacktype\":", self.feedbacktype);
        str_field(out, ",\"file\":", self.file);
        out.extend_from_slice(if self.hardbounce {
            b",\"hardbounce\":true,\"index\":"
        } else {
            b",\"hardbounce\":false,\"index\":"
        });
        let index_at = out.len();
        str_field(out, ",\"messageid\":", self.messageid);
        str_field(out, ",\"reason\":", self.reason);
        str_field(out, ",\"recipient\":", self.recipient);
        str_field(out, ",\"remote_mta\":", self.remote_mta);
        out.extend_from_slice(b",\"replycode\":\"");
        if let Some(c) = self.replycode.0 {
            let _ = write!(out, "{c}");
        }
        out.push(b'"');
        str_field(out, ",\"reporting_mta\":", self.reporting_mta);
        out.extend_from_slice(b",\"sending_ip\":");
        match self.sending_ip {
            // An address needs no escaping.
            Some(ip) => {
                let _ = write!(out, "\"{ip}\"");
            }
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"timestamp\":");
        match self.timestamp {
            Some(t) => {
                let _ = write!(out, "{t}");
            }
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b"}\n");
        index_at
    }
}

/// Append `s` as a JSON string the way `serde_json` writes it: `"` and `\`
/// backslashed, U+0008, U+0009, U+000A, U+000C and U+000D as `\b \t \n \f
/// \r`, the other characters below U+0020 as `\u00xx`, everything else as
/// it is.
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let special = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    let bytes = s.as_bytes();
    out.push(b'"');
    let (mut copied, mut i) = (0, 0);
    while i < bytes.len() {
        // Sixteen bytes at a time while none needs escaping (a fold with no
        // early exit, which the compiler turns into vector compares).
        if let Some(chunk) = bytes.get(i..i + 16)
            && !chunk.iter().fold(false, |any, &b| any | special(b))
        {
            i += 16;
            continue;
        }
        let b = bytes[i];
        if special(b) {
            out.extend_from_slice(&bytes[copied..i]);
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x09 => out.extend_from_slice(b"\\t"),
                0x0a => out.extend_from_slice(b"\\n"),
                0x0c => out.extend_from_slice(b"\\f"),
                0x0d => out.extend_from_slice(b"\\r"),
                _ => out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ]),
            }
            copied = i + 1;
        }
        i += 1;
    }
    out.extend_from_slice(&bytes[copied..]);
    out.push(b'"');
}

fn table_row(out: &mut dyn Write, file: &str, r: &Record) -> std::io::Result<()> {
    let trunc = |s: &str, n: usize| -> String {
        if s.chars().count() > n {
            format!("{}…", s.chars().take(n - 1).collect::<String>())
        } else {
            s.to_string()
        }
    };
    writeln!(
        out,
        "{:<32} {:<15} {:<8} {:<5} {:<16} {:<15} {}",
        trunc(&r.recipient, 32),
        r.reason.as_str(),
        r.status,
        r.reply_code.map(|c| c.to_string()).unwrap_or_default(),
        r.sending_ip.map(|i| i.to_string()).unwrap_or_default(),
        r.blocklist.map(|b| b.as_str()).unwrap_or(""),
        file
    )
}

/// Counts for the summary.
#[derive(Default)]
struct Summary {
    messages: usize,
    not_bounces: usize,
    records: usize,
    failures: usize,
    by_reason: BTreeMap<String, usize>,
    by_domain: BTreeMap<String, usize>,
    by_ip: BTreeMap<String, usize>,
    by_blocklist: BTreeMap<String, usize>,
}

impl Summary {
    fn add(&mut self, r: &Record) {
        self.records += 1;
        if !r.reason.is_failure() {
            *self
                .by_reason
                .entry(r.reason.as_str().to_string())
                .or_default() += 1;
            return;
        }
        self.failures += 1;
        *self
            .by_reason
            .entry(r.reason.as_str().to_string())
            .or_default() += 1;
        *self
            .by_domain
            .entry(r.recipient_domain.clone())
            .or_default() += 1;
        if let Some(ip) = r.sending_ip {
            *self.by_ip.entry(ip.to_string()).or_default() += 1;
        }
        if let Some(b) = r.blocklist {
            *self.by_blocklist.entry(b.as_str().to_string()).or_default() += 1;
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "messages": self.messages,
            "not_bounces": self.not_bounces,
            "records": self.records,
            "failures": self.failures,
            "by_reason": self.by_reason,
            "by_recipient_domain": self.by_domain,
            "by_sending_ip": self.by_ip,
            "by_blocklist": self.by_blocklist,
        })
    }

    fn print(&self, out: &mut dyn Write, unreadable: usize) -> std::io::Result<()> {
        writeln!(out)?;
        writeln!(
            out,
            "{} messages read, {} records ({} failures), {} not bounces, {} unreadable",
            self.messages, self.records, self.failures, self.not_bounces, unreadable
        )?;
        for (title, map) in [
            ("By reason", &self.by_reason),
            ("By recipient domain (failures)", &self.by_domain),
            ("By sending IP (failures)", &self.by_ip),
            ("By blocklist named", &self.by_blocklist),
        ] {
            if map.is_empty() {
                continue;
            }
            writeln!(out, "\n{title}:")?;
            let mut rows: Vec<_> = map.iter().collect();
            rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for (k, v) in rows.into_iter().take(15) {
                writeln!(out, "  {v:>6}  {k}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use outcry_bounce::{Action, Blocklist, Command, Decoder, Reason};
    use proptest::prelude::*;

    /// Any text, with the characters JSON escapes (quotes, backslashes,
    /// every control character) far more often than chance would give.
    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                4 => any::<char>(),
                2 => (0u8..0x20).prop_map(char::from),
                1 => Just('"'),
                1 => Just('\\'),
                1 => Just('\u{7f}'),
                4 => proptest::char::range('a', 'z'),
            ],
            0..70,
        )
        .prop_map(|c| c.into_iter().collect())
    }

    prop_compose! {
        fn record()(
            strings in proptest::collection::vec(text(), 10),
            reply_code in proptest::option::of(any::<u16>()),
            timestamp in proptest::option::of(any::<i64>()),
            sending_ip in proptest::option::of(any::<std::net::IpAddr>()),
            feedback_type in proptest::option::of(text()),
            hard_bounce in any::<bool>(),
            reason in proptest::sample::select(Reason::ALL),
            blocklist in proptest::option::of(proptest::sample::select(Blocklist::ALL)),
            action in proptest::option::of(proptest::sample::select(
                vec![Action::Failed, Action::Delayed, Action::Delivered],
            )),
            command in proptest::option::of(proptest::sample::select(
                vec![Command::Rcpt, Command::Data, Command::Mail],
            )),
            decoded_by in proptest::sample::select(
                vec![Decoder::RFC3464, Decoder::Postfix, Decoder::ARF],
            ),
        ) -> Record {
            let [recipient, recipient_domain, status, diagnostic, diagnostic_type, remote_mta,
                 reporting_mta, message_id, sender, _] =
                <[String; 10]>::try_from(strings).expect("ten strings");
            Record {
                recipient, recipient_domain, action, status, reply_code, diagnostic,
                diagnostic_type, command, remote_mta, reporting_mta, timestamp, message_id,
                sender, sending_ip, decoded_by, reason, hard_bounce, feedback_type, blocklist,
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// The hand-written JSON line is what `serde_json` writes for the
        /// same record and index.
        #[test]
        fn a_json_line_is_what_serde_json_writes(
            r in record(),
            file in text(),
            index in 0usize..100_000,
        ) {
            let mut line = Vec::new();
            let at = JsonRecord::new(&file, 0, &r).write_line(&mut line);
            line.splice(at..at, index.to_string().into_bytes());
            let expected = serde_json::to_string(&JsonRecord::new(&file, index, &r)).unwrap() + "\n";
            prop_assert_eq!(String::from_utf8(line).unwrap(), expected);
        }
    }

    #[test]
    fn the_progress_templates_are_valid() {
        for unit in [Unit::Bytes, Unit::Items("addresses")] {
            for colour in [true, false] {
                let t = progress_template(unit, colour);
                assert!(ProgressStyle::with_template(&t).is_ok(), "{t}");
                assert_eq!(t.contains("cyan"), colour, "{t}");
            }
        }
    }

    /// Every message reaches the workers; the bar moves within an mbox and
    /// ends at the inputs' total size, separator lines included.
    #[test]
    fn progress_counts_the_bytes_read() {
        let dir = tempfile::tempdir().unwrap();
        let message = "From: a@example.org\nSubject: x\n\nhello\n";
        // Over two batches: the reader must hand over the first and block
        // on the second before it reaches the end of the file.
        let n = 2 * BATCH + 50;
        let mbox: String = (0..n)
            .map(|_| format!("From a@example.org Thu Nov  5 09:15:44 2026\n{message}\n"))
            .collect();
        std::fs::write(dir.path().join("a.mbox"), &mbox).unwrap();
        std::fs::write(dir.path().join("b.eml"), message).unwrap();
        let (files, _) = input::expand(&[dir.path().to_path_buf()]);
        let files = with_sizes(files);
        let total = (mbox.len() + message.len()) as u64;
        let bar = ProgressBar::hidden();
        bar.set_length(total);
        // A channel with no room: each batch waits for its receiver.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Item>>(0);
        let (first_seen_at, count) = std::thread::scope(|s| {
            let (files, bar) = (&files, &bar);
            // The reader owns the sender: the channel closes when it is done.
            s.spawn(move || read_batches(files, bar, &tx));
            let first = rx.recv().unwrap();
            let seen_at = bar.position();
            let count = first.len() + rx.iter().map(|b| b.len()).sum::<usize>();
            (seen_at, count)
        });
        assert_eq!(count, n + 1);
        assert!(
            first_seen_at > 0 && first_seen_at < total,
            "{first_seen_at} of {total}"
        );
        assert_eq!(bar.position(), total);
    }

    #[test]
    fn strings_are_escaped_as_json_requires() {
        let mut out = Vec::new();
        push_json_str(
            &mut out,
            "a\"b\\c\nd\u{1}e\u{7f}é — a run of more than sixteen plain bytes\t",
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a\\\"b\\\\c\\nd\\u0001e\u{7f}é — a run of more than sixteen plain bytes\\t\""
        );
    }
}
