//! Finding and cleaning e-mail addresses in free text.

use regex::Regex;
use std::sync::LazyLock;

/// An address, optionally in angle brackets.
pub(crate) static ADDR_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9\-]*[A-Za-z0-9]")
        .unwrap()
});

/// An address whose local part is a quoted string (`"neko..nyaan"@example.jp`,
/// RFC 5321 allows dots in a row only inside quotes). Kept with its quotes.
static QUOTED_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#""[^"\\\s@<>]+"@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9\-]*[A-Za-z0-9]"#)
        .unwrap()
});

/// Is `s` one whole internationalised address (RFC 6531, SMTPUTF8), with
/// at least one non-ASCII character (ASCII ones are [`ADDR_RE`]'s)? Letters,
/// marks and digits of any script in the local part and the domain's labels
/// (`用户@例子.广告`, `josé.garcia@example.com`, `info@müller.de`). Only
/// ever matched against a whole token (a DSN field's value), never searched
/// for in text, where it would swallow the words around an address.
///
/// Checked by hand, as the pattern `INTERNATIONAL` in this module's tests
/// would (a proptest holds them equal): compiling that pattern's Unicode
/// classes into an automaton took 14M instructions, a tenth of a run over a
/// few hundred bounces, for a check this simple. The classes themselves come
/// from `regex-syntax`.
pub(crate) fn is_international(s: &str) -> bool {
    !s.is_ascii() && is_international_shape(s)
}

/// `\p{L}` and `[\p{L}\p{M}\p{N}]` as sorted ranges of characters.
static CLASSES: LazyLock<[Vec<(char, char)>; 2]> = LazyLock::new(|| {
    let ranges = |class: &str| -> Vec<(char, char)> {
        match regex_syntax::parse(class).map(regex_syntax::hir::Hir::into_kind) {
            Ok(regex_syntax::hir::HirKind::Class(regex_syntax::hir::Class::Unicode(c))) => {
                c.ranges().iter().map(|r| (r.start(), r.end())).collect()
            }
            other => unreachable!("{class} is a Unicode class: {other:?}"),
        }
    };
    [ranges(r"\p{L}"), ranges(r"[\p{L}\p{M}\p{N}]")]
});

fn in_ranges(ranges: &[(char, char)], c: char) -> bool {
    ranges
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// The whole of `s` is `local@label.….tld`: a local part of letters,
/// marks, digits and `!#$%&'*+/=?^_`{|}~.-`; labels of letters, marks,
/// digits and inner hyphens; a top-level label that starts with a letter
/// and has two characters or more.
fn is_international_shape(s: &str) -> bool {
    let [letter, word] = &*CLASSES;
    let word = |c: char| in_ranges(word, c);
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local
            .chars()
            .all(|c| word(c) || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    // Letters, marks, digits or hyphens, the first and last not a hyphen.
    let label_ok = |l: &str| {
        l.chars().all(|c| c == '-' || word(c))
            && l.chars().next().is_some_and(word)
            && l.chars().next_back().is_some_and(word)
    };
    let Some((labels, tld)) = domain.rsplit_once('.') else {
        return false;
    };
    local_ok
        && labels.split('.').all(label_ok)
        && label_ok(tld)
        && tld.chars().nth(1).is_some()
        && tld.chars().next().is_some_and(|c| in_ranges(letter, c))
}

/// Whether some `@` in `text` has a non-ASCII byte in the word around it
/// (up to white space or an angle bracket): a cheap test before looking
/// for internationalised addresses at all.
pub(crate) fn may_hold_international(text: &str) -> bool {
    let b = text.as_bytes();
    if b.is_ascii() {
        return false;
    }
    let ends_word = |c: &u8| c.is_ascii_whitespace() || *c == b'<' || *c == b'>';
    memchr::memchr_iter(b'@', b).any(|at| {
        let start = b[..at].iter().rposition(ends_word).map_or(0, |i| i + 1);
        let end = b[at..]
            .iter()
            .position(ends_word)
            .map_or(b.len(), |i| at + i);
        !b[start..end].is_ascii()
    })
}

/// The bytes of `ADDR_RE`'s local part.
const LOCAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    crate::with_bytes(t, b"!#$%&'*+/=?^_`{|}~.-")
};

/// Is all of `s` one [`ADDR_RE`] address? The same answer as asking
/// whether `ADDR_RE.find(s)` is the whole of `s` (a proptest holds it to
/// that), read in one pass instead of a regex search: the engine asks it
/// of every address it cleans or checks, thousands of times a second.
fn is_plain_address(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(at) = memchr::memchr(b'@', b) else {
        return false;
    };
    if at == 0 || !b[..at].iter().all(|&c| LOCAL[c as usize]) {
        return false;
    }
    // Labels of letters, digits and inner hyphens, at least one followed by
    // a dot, then a last label that starts with a letter and is at least
    // two long.
    let mut label_start = at + 1;
    let mut dots = 0;
    for i in at + 1..=b.len() {
        let c = b.get(i).copied();
        if c.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'-') {
            continue;
        }
        if !matches!(c, None | Some(b'.')) {
            return false;
        }
        let label = &b[label_start..i];
        let ends_ok = label.first().is_some_and(u8::is_ascii_alphanumeric)
            && label.last().is_some_and(u8::is_ascii_alphanumeric);
        if !ends_ok {
            return false;
        }
        if c.is_none() {
            return dots > 0 && label.len() >= 2 && label[0].is_ascii_alphabetic();
        }
        dots += 1;
        label_start = i + 1;
    }
    false
}

/// Is `s` exactly one plausible address?
pub(crate) fn is_address(s: &str) -> bool {
    let whole = |m: regex::Match<'_>| m.start() == 0 && m.end() == s.len();
    is_plain_address(s)
        || (s.contains('"') && QUOTED_RE.find(s).is_some_and(whole))
        || is_international(s)
}

/// Is `s` an address as a delivery report's recipient field may give it?
/// [`is_address`], or the same local part at any domain name: one label
/// (`root@localhost`), or a last label of one character (internal and
/// anonymised names, `a@eu.a.b.c`). The field names the address the server
/// tried to deliver to, so whatever domain it gives is the recipient's;
/// free text is searched with the stricter [`ADDR_RE`], where `word@word`
/// is as often no address at all.
pub(crate) fn is_field_address(s: &str) -> bool {
    if is_address(s) {
        return true;
    }
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let label_ok = |l: &[u8]| {
        l.first().is_some_and(u8::is_ascii_alphanumeric)
            && l.last().is_some_and(u8::is_ascii_alphanumeric)
            && l.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
    };
    !local.is_empty()
        && local.bytes().all(|c| LOCAL[c as usize])
        && domain.as_bytes().split(|&c| c == b'.').all(label_ok)
}

/// Every address in `text`, in order (`To:` and `X-Failed-Recipients`
/// values).
/// An internationalised address counts when it is a whole item of the list.
pub(crate) fn all_in(text: &str) -> Vec<String> {
    if !may_hold_international(text) {
        return ADDR_RE
            .find_iter(text)
            .map(|m| m.as_str().to_string())
            .collect();
    }
    let mut out = Vec::new();
    // No ASCII address spans a comma or a space, so item by item finds the
    // same ones as the whole text.
    for item in text.split([',', ' ', '\t', '\n', '\r']) {
        let whole = clean(item);
        if is_international(&whole) {
            out.push(whole);
        } else {
            out.extend(ADDR_RE.find_iter(item).map(|m| m.as_str().to_string()));
        }
    }
    out
}

/// The first address in `text`: `ADDR_RE.find(text)`, read directly when
/// the text is one address, bare or in angle brackets after a name with no
/// `@` (`<a@b.jp>`, `Neko <a@b.jp>`, the usual `Return-Path:` and `From:`
/// values): the regex costs about 1,500 instructions a search on such a
/// value. No address can start before the `<` (neither it nor a space is
/// a local-part character, and the name holds no `@`), and the `>` ends
/// it, so the pattern finds the bracketed address whole; a proptest holds
/// the two equal.
pub(crate) fn first_in(text: &str) -> Option<&str> {
    let t = text.trim();
    let one = match t.find('<') {
        None => t,
        Some(i) if !t[..i].contains('@') => t[i + 1..].split('>').next().unwrap_or(""),
        Some(_) => "",
    };
    if is_plain_address(one) {
        return Some(one);
    }
    ADDR_RE.find(text).map(|m| m.as_str())
}

/// Strip brackets, quotes, `mailto:` and trailing punctuation; keep the address.
pub(crate) fn clean(s: &str) -> String {
    // (Only a text with a quote can hold a quoted local part.)
    if let Some(m) = s.contains('"').then(|| QUOTED_RE.find(s)).flatten() {
        return m.as_str().to_string();
    }
    let t = s.trim().trim_matches(|c| {
        matches!(
            c,
            '<' | '>' | '"' | '\'' | '(' | ')' | ',' | ';' | ':' | '.' | '[' | ']'
        )
    });
    let t = t.strip_prefix("mailto:").unwrap_or(t);
    if is_international(t) {
        // Whole: ADDR_RE would keep only an ASCII tail of it
        // (`josé.garcia@...` -> `garcia@...`).
        return t.to_string();
    }
    if is_plain_address(t) {
        // What `ADDR_RE.find` would find: all of it.
        return t.trim_start_matches('.').to_string();
    }
    match ADDR_RE.find(t) {
        Some(m) => m.as_str().trim_start_matches('.').to_string(),
        None => t.to_string(),
    }
}

/// The domain of an address, lower-cased.
pub(crate) fn domain_of(addr: &str) -> String {
    addr.rsplit_once('@')
        .map(|(_, d)| d.to_lowercase())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What [`is_international`] checks, as a pattern.
    static INTERNATIONAL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~.\-]+@(?:[\p{L}\p{M}\p{N}](?:[\p{L}\p{M}\p{N}\-]*[\p{L}\p{M}\p{N}])?\.)+\p{L}[\p{L}\p{M}\p{N}\-]*[\p{L}\p{M}\p{N}]$")
            .unwrap()
    });

    /// Strings made of what addresses are made of, in every script's
    /// letters, marks and digits and the characters next to them: mostly
    /// `local@label.label` shapes, some of them broken.
    fn address_like() -> impl Strategy<Value = String> {
        let ch = prop_oneof![
            4 => "[a-z0-9]",
            3 => "[éüß用户例子广告ИЯ٣४\u{301}\u{64b}ⅷ²]",
            2 => prop_oneof![Just('.'), Just('-'), Just('_'), Just('+'), Just('~')].prop_map(|c| c.to_string()),
            1 => "[ @!\"#$%&'*/=?^`{|}<>\u{a0}\u{200b}]",
            1 => "\\PC",
        ];
        let word = proptest::collection::vec(ch, 0..5).prop_map(|v| v.concat());
        (word.clone(), proptest::collection::vec(word, 1..4))
            .prop_map(|(local, labels)| format!("{local}@{}", labels.join(".")))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]
        #[test]
        fn international_addresses_are_what_the_pattern_matches(s in address_like()) {
            prop_assert_eq!(is_international_shape(&s), INTERNATIONAL.is_match(&s), "{:?}", s);
        }
    }

    #[test]
    fn international_addresses() {
        for a in [
            "用户@例子.广告",
            "josé.garcia@example.com",
            "info@müller.de",
            "a@b.c٣",
        ] {
            assert!(is_international(a), "{a}");
        }
        for a in [
            "user@example.com",
            "用户@例子",
            "用户@例子.广",
            "用户@-例子.广告",
            "用户@例子.3告",
            "用户@例子..广告",
            "用 户@例子.广告",
            "@例子.广告",
        ] {
            assert!(!is_international(a), "{a}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn a_plain_address_is_what_the_pattern_finds_whole(
            // Mostly nothing around the address, sometimes something.
            head in proptest::sample::select(vec!["", "", "", "", "", " ", "<", ".", "\"x\""]),
            local in proptest::sample::select(vec![
                "", "a", "neko.nyaan", "-", ".", "a'b", "x+y", "é", "a b", "..",
            ]),
            at in proptest::sample::select(vec!["@", "@", "@", "", "@@"]),
            labels in proptest::collection::vec(proptest::sample::select(vec![
                "example", "a", "1a", "a-", "-a", "x-1", "", "é", "a_b",
            ]), 0..4),
            tld in proptest::sample::select(vec![
                "jp", "j", "1a", "a1", "a-", "a-b", "", "é", "JP", "c0m",
            ]),
            tail in proptest::sample::select(vec!["", "", "", "", "", ".", " ", ">", "-", "é"]),
        ) {
            let mut domain = labels.join(".");
            if !labels.is_empty() {
                domain.push('.');
            }
            let s = format!("{head}{local}{at}{domain}{tld}{tail}");
            let whole = ADDR_RE.find(&s).is_some_and(|m| m.start() == 0 && m.end() == s.len());
            proptest::prop_assert_eq!(is_plain_address(&s), whole, "{:?}", s);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(4096))]
        #[test]
        fn the_first_address_is_the_patterns(
            name in proptest::sample::select(vec![
                "", "", "Neko ", "\"Neko, Nyaan\" ", "neko@example.jp ", "x@y ", "<", "a<b ",
                "\u{a0}", "Neko\t",
            ]),
            open in proptest::sample::select(vec!["<", "<", "", "<<", " <"]),
            local in proptest::sample::select(vec!["neko", "a.b", "", ".", "a b", "x+y", "é"]),
            at in proptest::sample::select(vec!["@", "@", "", "@@"]),
            domain in proptest::sample::select(vec![
                "example.jp", "a.b.c", "jp", "a-.jp", "x.1a", "ex ample.jp", "example.jp.", "é.jp",
            ]),
            close in proptest::sample::select(vec![">", ">", "", ">>", "> (x@y.jp)", " ", ">\n"]),
        ) {
            let s = format!("{name}{open}{local}{at}{domain}{close}");
            proptest::prop_assert_eq!(first_in(&s), ADDR_RE.find(&s).map(|m| m.as_str()), "{:?}", s);
        }
    }

    #[test]
    fn a_recipient_field_may_name_any_domain() {
        for a in [
            "a.b+c@example.co.jp",
            "john.smith@eu.a.b.c",
            "root@localhost",
            "user@192.0.2.1",
            "\"neko..nyaan\"@example.org",
        ] {
            assert!(is_field_address(a), "{a}");
        }
        for s in [
            "/var/mail/neko",
            "neko",
            "@example.jp",
            "neko@",
            "neko@-example.jp",
            "neko@example..jp",
            "neko@example.jp.",
            "neko@[192.0.2.1]",
            "ne ko@example.jp",
            "${user}@${domain}",
            "a@b@c",
        ] {
            assert!(!is_field_address(s), "{s}");
        }
    }

    #[test]
    fn cleans() {
        assert_eq!(clean("<kijitora@example.jp>"), "kijitora@example.jp");
        assert_eq!(clean("rfc822;neko@example.jp."), "neko@example.jp");
        assert!(is_address("a.b+c@example.co.jp"));
        assert!(!is_address("not an address"));
        assert_eq!(
            clean("<\"neko....nyaan....\"@example.org>..."),
            "\"neko....nyaan....\"@example.org"
        );
        assert!(is_address("\"neko....nyaan....\"@example.org"));
        assert_eq!(clean("\"Neko\" <neko@example.org>"), "neko@example.org");
        assert_eq!(domain_of("X@Example.JP"), "example.jp");
    }

    #[test]
    fn internationalised_addresses_are_kept_whole() {
        for a in [
            "用户@例子.广告",
            "josé.garcia@example.com",
            "info@müller.de",
            "δοκιμή@παράδειγμα.δοκιμή",
        ] {
            assert!(is_address(a), "{a}");
            assert_eq!(clean(&format!("<{a}>")), a);
        }
        assert_eq!(domain_of("info@MÜLLER.de"), "müller.de");
        assert!(may_hold_international("宛先 <用户@例子.广告>"));
        assert!(!may_hold_international("宛先 <kijitora@example.jp> は"));
        assert!(!may_hold_international("no at sign: é"));
        assert_eq!(
            all_in(
                "用户@例子.广告, <josé.garcia@example.com> Neko <neko@example.jp>,x@example.org"
            ),
            [
                "用户@例子.广告",
                "josé.garcia@example.com",
                "neko@example.jp",
                "x@example.org"
            ]
        );
        // Not addresses: text around one, a bare word, no domain dot.
        for s in [
            "宛先neko@example.jp は",
            "用户",
            "用户@例子",
            "a b@例子.广告",
        ] {
            assert!(!is_address(s), "{s}");
        }
    }
}
