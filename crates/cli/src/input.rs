//! Turning command-line paths into a stream of messages: single files,
//! folders (recursive, Maildir included) and mbox files, read one message at
//! a time so a huge mbox never sits in memory whole.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The largest single message read; the rest of a bigger one is skipped and
/// the message is reported as cut.
pub const MAX_MESSAGE: usize = 64 << 20;

/// One message to analyse, or the reason it could not be read.
pub struct Item {
    /// Path as shown to the user (`maildir/bsd/x.eml`).
    pub file: String,
    /// 1-based position inside an mbox; 0 for a single-message file.
    pub position: usize,
    /// The bytes, or what went wrong reading them.
    pub bytes: Result<Vec<u8>, String>,
}

/// Expand the command-line paths to files, sorted within each folder.
pub fn expand(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<(String, String)>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(p)
                .follow_links(true)
                .into_iter()
                .filter_map(|e| match e {
                    Ok(e) => Some(e),
                    Err(err) => {
                        errors.push((
                            err.path()
                                .map(|x| x.display().to_string())
                                .unwrap_or_else(|| p.display().to_string()),
                            err.to_string(),
                        ));
                        None
                    }
                })
                .filter(|e| e.file_type().is_file())
                .filter(|e| !is_mail_store_file(&e.file_name().to_string_lossy()))
                .map(|e| e.into_path())
                .collect();
            found.sort();
            files.extend(found);
        } else if p.exists() {
            files.push(p.clone());
        } else {
            errors.push((
                p.display().to_string(),
                "no such file or folder; check the path".to_string(),
            ));
        }
    }
    (files, errors)
}

/// Files a mail store keeps beside the messages of a Maildir (Dovecot's
/// indexes and UID lists, Courier's, the quota file, the Finder's): left out
/// when a folder is walked, read (and reported as not mail) when named.
fn is_mail_store_file(name: &str) -> bool {
    name.starts_with("dovecot")
        || name.starts_with("courier")
        || matches!(
            name,
            "maildirfolder" | "maildirsize" | "subscriptions" | ".DS_Store"
        )
}

/// The engine on one message, its error as text. A panic in the engine (a
/// bug: the fuzzer has found none) fails this message alone, reported as
/// its error, and the batch goes on.
pub fn analyze(bytes: &[u8]) -> Result<Vec<outcry_bounce::Record>, String> {
    guarded(|| outcry_bounce::analyze(bytes).map_err(|e| e.to_string()))
}

/// `f`, or its panic as an error that says what to do.
fn guarded<T>(f: impl FnOnce() -> Result<T, String> + std::panic::UnwindSafe) -> Result<T, String> {
    std::panic::catch_unwind(f).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(format!(
            "outcry failed on this message ({what}): a bug in outcry; please report it, \
             with the message if you can share it"
        ))
    })
}

/// Analyse every message under `paths` and hand each record to `sink`;
/// unreadable files and messages are reported on stderr and skipped.
/// Returns the number of messages read.
pub fn each_record(paths: &[PathBuf], mut sink: impl FnMut(&outcry_bounce::Record)) -> usize {
    let (files, errors) = expand(paths);
    for (f, e) in &errors {
        eprintln!("outcry: {f}: {e}");
    }
    let mut count = 0;
    for f in &files {
        for item in messages(f) {
            count += 1;
            match item.bytes.and_then(|b| analyze(&b)) {
                Ok(records) => records.iter().for_each(&mut sink),
                Err(e) => eprintln!("outcry: {}: {e}", item.file),
            }
        }
    }
    count
}

/// Does the file start like an mbox (`From ` line)?
pub fn is_mbox(path: &Path) -> io::Result<bool> {
    let mut head = [0u8; 5];
    let mut f = File::open(path)?;
    let n = f.read(&mut head)?;
    Ok(n == 5 && &head == b"From ")
}

/// The messages of one file: every message of an mbox, or the file itself.
/// A file that cannot be opened yields one item carrying the error.
pub fn messages(path: &Path) -> Box<dyn Iterator<Item = Item>> {
    let failed = |e: io::Error| -> Box<dyn Iterator<Item = Item>> {
        Box::new(std::iter::once(Item {
            file: path.display().to_string(),
            position: 0,
            bytes: Err(format!("cannot open: {e}")),
        }))
    };
    match is_mbox(path) {
        Ok(true) => match Mbox::open(path) {
            Ok(m) => Box::new(m),
            Err(e) => failed(e),
        },
        Ok(false) => Box::new(std::iter::once(read_one(path))),
        Err(e) => failed(e),
    }
}

/// Read a single-message file.
pub fn read_one(path: &Path) -> Item {
    let file = path.display().to_string();
    let bytes = (|| {
        let f = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
        let mut buf = Vec::new();
        f.take(MAX_MESSAGE as u64 + 1)
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot read: {e}"))?;
        if buf.len() > MAX_MESSAGE {
            return Err(format!(
                "larger than {} MiB; not a bounce (split it or check the file)",
                MAX_MESSAGE >> 20
            ));
        }
        Ok(buf)
    })();
    Item {
        file,
        position: 0,
        bytes,
    }
}

/// Iterate over the messages of an mbox file, one at a time.
///
/// The file is read in large blocks and split with a SIMD substring search
/// for the separator line (`\nFrom `), instead of line by line: splitting
/// was a tenth of `outcry analyze`'s time on a large mbox. A message is
/// copied out once; at most one message plus one block is held in memory.
pub struct Mbox {
    file_handle: File,
    file: String,
    position: usize,
    /// Bytes read and not yet handed out; `buf[start..]` is pending.
    buf: Vec<u8>,
    start: usize,
    /// Where the separator search resumes (bytes before it hold none).
    scanned: usize,
    eof: bool,
    done: bool,
    /// The line terminator: `\n` (LF and CRLF files), or `\r` for a file
    /// with old Mac line endings, where there is no `\n` to split on.
    eol: u8,
    /// `eol` followed by `From `: the separator.
    separator: memchr::memmem::Finder<'static>,
    /// Bytes read at a time.
    block: usize,
    /// The largest message kept (`MAX_MESSAGE`).
    limit: usize,
}

impl Mbox {
    /// Open an mbox file.
    pub fn open(path: &Path) -> io::Result<Mbox> {
        Mbox::with_sizes(path, 1 << 20, MAX_MESSAGE)
    }

    fn with_sizes(path: &Path, block: usize, limit: usize) -> io::Result<Mbox> {
        let mut m = Mbox {
            file_handle: File::open(path)?,
            file: path.display().to_string(),
            position: 0,
            buf: Vec::with_capacity(block),
            start: 0,
            scanned: 0,
            eof: false,
            done: false,
            eol: b'\n',
            separator: memchr::memmem::Finder::new(b"\nFrom ").into_owned(),
            block,
            limit,
        };
        // The first MiB (or the whole file) decides the line terminator.
        while m.buf.len() < 1 << 20 && !m.eof {
            m.fill()?;
        }
        // Old Mac line endings only when the head holds CRs and no LF at all
        // (a stray CR inside an LF file must not change how it splits).
        if memchr::memchr(b'\n', &m.buf).is_none() && memchr::memchr(b'\r', &m.buf).is_some() {
            m.eol = b'\r';
            m.separator = memchr::memmem::Finder::new(b"\rFrom ").into_owned();
        }
        // The file starts with the first message's `From ` line.
        m.start = m.line_end(0)?;
        m.scanned = m.start.saturating_sub(1);
        Ok(m)
    }

    /// Read one more block, first dropping the bytes already handed out
    /// (offsets held across a call must be taken relative to `start`).
    fn fill(&mut self) -> io::Result<()> {
        let cut = self.start.min(self.scanned);
        if cut > 0 {
            self.buf.drain(..cut);
            self.scanned -= cut;
            self.start -= cut;
        }
        // Appends without zero-filling the block first; stops at the end of
        // the file or after one block.
        let n = (&mut self.file_handle)
            .take(self.block as u64)
            .read_to_end(&mut self.buf)?;
        self.eof |= n < self.block;
        Ok(())
    }

    /// The offset just past the end of the line at `at` (reading more when
    /// the line goes on past the buffer), or the end of the file.
    fn line_end(&mut self, at: usize) -> io::Result<usize> {
        let rel = at - self.start;
        let mut searched = rel;
        loop {
            let from = self.start + searched;
            if let Some(i) = memchr::memchr(self.eol, &self.buf[from..]) {
                return Ok(from + i + 1);
            }
            if self.eof {
                return Ok(self.buf.len());
            }
            searched = self.buf.len() - self.start;
            self.fill()?;
        }
    }

    /// The next message as `buf[start..end]`, the offset where the one after
    /// it starts, and whether it was too big to keep; `None` at the end.
    fn next_span(&mut self) -> io::Result<Option<(usize, usize, bool)>> {
        let mut too_big = false;
        loop {
            if let Some(i) = self.separator.find(&self.buf[self.scanned..]) {
                let sep_rel = self.scanned + i + 1 - self.start; // the `F`
                let next = self.line_end(self.start + sep_rel)?;
                too_big |= sep_rel > self.limit;
                return Ok(Some((self.start + sep_rel, next, too_big)));
            }
            if self.eof {
                let len = self.buf.len();
                too_big |= len - self.start > self.limit;
                return Ok((self.start < len).then_some((len, len, too_big)));
            }
            // A separator may straddle two blocks: its first five bytes
            // may already be here.
            self.scanned = self.buf.len().saturating_sub(5).max(self.scanned);
            if self.buf.len() - self.start > self.limit {
                // Too big to hold: drop it, keep looking for where it ends.
                too_big = true;
                self.start = self.scanned;
            }
            self.fill()?;
        }
    }
}

/// Undo mboxrd quoting: a line `>From ` becomes `From `.
fn unquote(msg: &mut Vec<u8>, eol: u8) {
    // Built once: `memmem::find` would build its searcher for every message.
    static QUOTED: std::sync::LazyLock<[memchr::memmem::Finder<'static>; 2]> =
        std::sync::LazyLock::new(|| {
            [
                memchr::memmem::Finder::new(b"\n>From "),
                memchr::memmem::Finder::new(b"\r>From "),
            ]
        });
    let quoted = &QUOTED[usize::from(eol == b'\r')];
    if !msg.starts_with(b">From ") && quoted.find(msg).is_none() {
        return;
    }
    let mut out = Vec::with_capacity(msg.len());
    let mut line_start = true;
    for (i, &b) in msg.iter().enumerate() {
        if !(line_start && b == b'>' && msg[i + 1..].starts_with(b"From ")) {
            out.push(b);
        }
        line_start = b == eol;
    }
    *msg = out;
}

impl Iterator for Mbox {
    type Item = Item;
    fn next(&mut self) -> Option<Item> {
        loop {
            if self.done {
                return None;
            }
            let (end, next, too_big) = match self.next_span() {
                Ok(Some(span)) => span,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    self.position += 1;
                    return Some(Item {
                        file: self.file.clone(),
                        position: self.position,
                        bytes: Err(format!("read error: {e}")),
                    });
                }
            };
            let raw = &self.buf[self.start..end];
            let blank = raw.iter().all(|b| b.is_ascii_whitespace());
            let mut msg = if too_big || blank {
                Vec::new()
            } else {
                raw.to_vec()
            };
            // The separator before the next message may start with the
            // last byte of this one's `From ` line (an empty message).
            self.start = next;
            self.scanned = next - 1;
            if blank && !too_big {
                continue;
            }
            self.position += 1;
            let bytes = if too_big {
                Err(format!(
                    "message {} is larger than {} MiB; skipped",
                    self.position,
                    self.limit >> 20
                ))
            } else {
                unquote(&mut msg, self.eol);
                Ok(msg)
            };
            return Some(Item {
                file: self.file.clone(),
                position: self.position,
                bytes,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_panic_fails_one_message_with_an_error() {
        let failed = guarded::<()>(|| panic!("index out of bounds"));
        let e = failed.unwrap_err();
        assert!(
            e.contains("index out of bounds") && e.contains("a bug in outcry"),
            "{e}"
        );
        let formatted = guarded::<()>(|| panic!("at offset {}", 7)).unwrap_err();
        assert!(formatted.contains("at offset 7"), "{formatted}");
        // Without a panic, the answer as it is.
        assert_eq!(guarded(|| Ok::<_, String>(3)), Ok(3));
        assert_eq!(
            guarded(|| Err::<(), _>("no".to_string())),
            Err("no".to_string())
        );
        // The engine through the guard: a bounce gives its records.
        let bounce = b"From: MAILER-DAEMON@example.org\nTo: a@example.com\nSubject: Undelivered Mail Returned to Sender\n\n<b@example.net>: host mx.example.net said: 550 5.1.1 User unknown\n";
        assert_eq!(analyze(bounce).unwrap().len(), 1);
    }

    #[test]
    fn splits_an_mbox() {
        let mut t = tempfile::NamedTempFile::new().unwrap();
        write!(t, "From a@b Mon Jan  1 00:00:00 2024\nSubject: one\n\n>From quoted\n\nFrom c@d Mon Jan  1 00:00:00 2024\nSubject: two\n\nbody\n").unwrap();
        let items: Vec<Item> = Mbox::open(t.path()).unwrap().collect();
        assert_eq!(items.len(), 2);
        let one = items[0].bytes.as_ref().unwrap();
        assert!(String::from_utf8_lossy(one).contains("\nFrom quoted"));
        assert_eq!(items[1].position, 2);
        assert!(is_mbox(t.path()).unwrap());
    }

    /// Every block size splits the same way as reading the file whole: a
    /// separator or a `From ` line cut between two reads is still found.
    #[test]
    fn block_boundaries_do_not_change_the_split() {
        let mut text = String::from("From a@b Mon Jan  1 00:00:00 2024\n");
        for i in 0..40 {
            text.push_str(&format!("Subject: m{i}\n\n>From quoted {i}\nline\n"));
            if i % 7 == 0 {
                text.push_str("From empty Mon Jan  1 00:00:00 2024\n");
            }
            text.push_str(&format!("From s{i}@x Mon Jan  1 00:00:00 2024\n"));
        }
        text.push_str("Subject: last\n\nno newline at the end");
        let mut t = tempfile::NamedTempFile::new().unwrap();
        t.write_all(text.as_bytes()).unwrap();
        let split = |block| -> Vec<Vec<u8>> {
            Mbox::with_sizes(t.path(), block, MAX_MESSAGE)
                .unwrap()
                .map(|i| i.bytes.unwrap())
                .collect()
        };
        let whole = split(1 << 20);
        assert_eq!(whole.len(), 41);
        assert_eq!(whole[0], b"Subject: m0\n\nFrom quoted 0\nline\n");
        assert_eq!(whole[40], b"Subject: last\n\nno newline at the end");
        for block in [1, 2, 5, 6, 7, 13, 64] {
            assert_eq!(split(block), whole, "block size {block}");
        }
    }

    proptest::proptest! {
        /// Any mbox, read in any block size, splits into the messages it
        /// was made of (with `>From ` unquoted), with LF or bare-CR lines.
        #[test]
        fn any_block_size_gives_back_the_messages(
            msgs in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::prop_oneof![
                        proptest::string::string_regex("[a-z: ]{0,12}").unwrap(),
                        proptest::strategy::Just(">From quoted".to_string()),
                        proptest::strategy::Just("From".to_string()),
                        proptest::strategy::Just(String::new()),
                    ],
                    1..8,
                ),
                1..12,
            ),
            block in 1usize..40,
            cr in proptest::bool::ANY,
        ) {
            let eol = if cr { "\r" } else { "\n" };
            let mut file = String::new();
            let mut expected = Vec::new();
            for lines in &msgs {
                file.push_str(&format!("From sender Mon Jan  1 00:00:00 2024{eol}"));
                let mut body = format!("Subject: x{eol}");
                for l in lines {
                    body.push_str(l);
                    body.push_str(eol);
                }
                file.push_str(&body);
                expected.push(body.replace(&format!("{eol}>From "), &format!("{eol}From ")));
            }
            let mut t = tempfile::NamedTempFile::new().unwrap();
            t.write_all(file.as_bytes()).unwrap();
            let got: Vec<String> = Mbox::with_sizes(t.path(), block, MAX_MESSAGE)
                .unwrap()
                .map(|i| String::from_utf8(i.bytes.unwrap()).unwrap())
                .collect();
            proptest::prop_assert_eq!(got, expected);
        }
    }

    /// A message over the limit is reported as skipped, and the messages
    /// around it are read as usual.
    #[test]
    fn a_message_over_the_limit_is_skipped_not_kept() {
        let mut t = tempfile::NamedTempFile::new().unwrap();
        let big = "x".repeat(5000);
        write!(t, "From a\nSubject: one\n\nsmall\nFrom b\nSubject: two\n\n{big}\nFrom c\nSubject: three\n\nsmall\n").unwrap();
        let items: Vec<Item> = Mbox::with_sizes(t.path(), 64, 1024).unwrap().collect();
        assert_eq!(items.len(), 3);
        assert_eq!(
            items[0].bytes.as_deref().unwrap(),
            b"Subject: one\n\nsmall\n"
        );
        assert!(items[1].bytes.as_ref().unwrap_err().contains("larger than"));
        assert_eq!(items[2].position, 3);
        assert_eq!(
            items[2].bytes.as_deref().unwrap(),
            b"Subject: three\n\nsmall\n"
        );
    }

    #[test]
    fn splits_an_mbox_with_bare_cr_line_endings() {
        let mut t = tempfile::NamedTempFile::new().unwrap();
        write!(t, "From a@b Mon Jan  1 00:00:00 2024\rSubject: one\r\r>From quoted\r\rFrom c@d Mon Jan  1 00:00:00 2024\rSubject: two\r\rbody\r").unwrap();
        let items: Vec<Item> = Mbox::open(t.path()).unwrap().collect();
        assert_eq!(items.len(), 2);
        let one = String::from_utf8(items[0].bytes.clone().unwrap()).unwrap();
        assert_eq!(one, "Subject: one\r\rFrom quoted\r\r");
        let two = String::from_utf8(items[1].bytes.clone().unwrap()).unwrap();
        assert_eq!(two, "Subject: two\r\rbody\r");

        // A stray CR in an LF mbox does not change how it splits.
        let mut t = tempfile::NamedTempFile::new().unwrap();
        write!(t, "From a@b Mon Jan  1 00:00:00 2024\nSubject: one\r\n\nx\ry\nFrom c@d Mon Jan  1 00:00:00 2024\nSubject: two\n\nbody\n").unwrap();
        let items: Vec<Item> = Mbox::open(t.path()).unwrap().collect();
        assert_eq!(items.len(), 2);
    }
}
