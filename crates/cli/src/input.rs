//! Turning command-line paths into a stream of messages: single files,
//! folders (recursive, Maildir included) and mbox files, read one message at
//! a time so a huge mbox never sits in memory whole.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
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
            match item.bytes.map(|b| outcry_bounce::analyze(&b)) {
                Ok(Ok(records)) => records.iter().for_each(&mut sink),
                Ok(Err(e)) => eprintln!("outcry: {}: {e}", item.file),
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
pub struct Mbox {
    reader: BufReader<File>,
    file: String,
    position: usize,
    started: bool,
    done: bool,
    /// The line terminator: `\n` (LF and CRLF files), or `\r` for a file
    /// with old Mac line endings, where there is no `\n` to split on.
    eol: u8,
}

impl Mbox {
    /// Open an mbox file.
    pub fn open(path: &Path) -> io::Result<Mbox> {
        let mut reader = BufReader::with_capacity(1 << 20, File::open(path)?);
        let head = reader.fill_buf()?;
        // Old Mac line endings only when the head holds CRs and no LF at all
        // (a stray CR inside an LF file must not change how it splits).
        let eol = if !head.contains(&b'\n') && head.contains(&b'\r') {
            b'\r'
        } else {
            b'\n'
        };
        Ok(Mbox {
            reader,
            file: path.display().to_string(),
            position: 0,
            started: false,
            done: false,
            eol,
        })
    }
}

impl Iterator for Mbox {
    type Item = Item;
    fn next(&mut self) -> Option<Item> {
        // Lines are read straight into the message buffer; a `From ` line
        // ends the message (and is dropped), `>From ` is unquoted (mboxrd).
        loop {
            if self.done {
                return None;
            }
            let mut msg: Vec<u8> = Vec::new();
            let mut too_big = false;
            loop {
                let start = msg.len();
                match self.reader.read_until(self.eol, &mut msg) {
                    Ok(0) => {
                        self.done = true;
                        break;
                    }
                    Ok(_) => {
                        let line = &msg[start..];
                        if line.starts_with(b"From ") {
                            msg.truncate(start);
                            if self.started {
                                break;
                            }
                            self.started = true;
                            continue;
                        }
                        if line.starts_with(b">From ") {
                            msg.remove(start);
                        }
                        if msg.len() > MAX_MESSAGE {
                            too_big = true;
                            msg.truncate(start);
                            msg.shrink_to(MAX_MESSAGE);
                        }
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
                }
            }
            if msg.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            self.position += 1;
            let bytes = if too_big {
                Err(format!(
                    "message {} is larger than {} MiB; skipped",
                    self.position,
                    MAX_MESSAGE >> 20
                ))
            } else {
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
