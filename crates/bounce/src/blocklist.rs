//! Naming the blocklist or reputation service a rejection text cites.

use crate::rules::{COMBINED, Scan};
use serde::{Deserialize, Serialize};

/// A blocklist or sender-reputation service named in a rejection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Blocklist {
    /// Spamhaus (ZEN, SBL, XBL, PBL, CSS, DBL).
    Spamhaus,
    /// SpamCop (bl.spamcop.net). Written `spamcop` everywhere (serde's
    /// kebab-case alone would say `spam-cop`, which is still read).
    #[serde(rename = "spamcop", alias = "spam-cop")]
    SpamCop,
    /// Barracuda Reputation Block List.
    Barracuda,
    /// Cisco Talos / SenderBase / IronPort reputation.
    CiscoTalos,
    /// UCEPROTECT levels 1-3.
    Uceprotect,
    /// Microsoft's own block lists (Outlook.com, Exchange Online Protection).
    Microsoft,
    /// SORBS (defunct, still quoted by old servers).
    Sorbs,
    /// Proofpoint / Cloudmark reputation.
    Proofpoint,
    /// Mailspike.
    Mailspike,
    /// Passive Spam Block List.
    Psbl,
    /// Abuseat CBL (now part of Spamhaus XBL).
    Cbl,
    /// Trend Micro Email Reputation Services.
    TrendMicro,
    /// SpamRATS.
    SpamRats,
    /// Invaluement.
    Invaluement,
    /// Mimecast's reputation block.
    Mimecast,
    /// Yahoo's reputation deferrals.
    Yahoo,
    /// Google's reputation or rate limits.
    Google,
    /// Abusix Mail Intelligence (combined.mail.abusix.zone).
    Abusix,
    /// Validity SenderScore (bl.score.senderscore.com).
    SenderScore,
    /// DroneBL.
    DroneBl,
    /// 0spam.
    ZeroSpam,
    /// NordSpam.
    NordSpam,
    /// GBUdb / Truncate (truncate.gbudb.net).
    Gbudb,
    /// JunkEmailFilter's Hostkarma.
    JunkEmailFilter,
    /// s5h.net.
    S5h,
    /// A DNSBL is named but not one we know.
    Other,
}

impl Blocklist {
    /// Every blocklist.
    pub const ALL: &'static [Blocklist] = &[
        Blocklist::Spamhaus,
        Blocklist::SpamCop,
        Blocklist::Barracuda,
        Blocklist::CiscoTalos,
        Blocklist::Uceprotect,
        Blocklist::Microsoft,
        Blocklist::Sorbs,
        Blocklist::Proofpoint,
        Blocklist::Mailspike,
        Blocklist::Psbl,
        Blocklist::Cbl,
        Blocklist::TrendMicro,
        Blocklist::SpamRats,
        Blocklist::Invaluement,
        Blocklist::Mimecast,
        Blocklist::Yahoo,
        Blocklist::Google,
        Blocklist::Abusix,
        Blocklist::SenderScore,
        Blocklist::DroneBl,
        Blocklist::ZeroSpam,
        Blocklist::NordSpam,
        Blocklist::Gbudb,
        Blocklist::JunkEmailFilter,
        Blocklist::S5h,
        Blocklist::Other,
    ];

    /// The blocklist with this kebab-case name.
    pub fn from_name(name: &str) -> Option<Blocklist> {
        Blocklist::ALL.iter().copied().find(|b| b.as_str() == name)
    }

    /// A public DNS blocklist (or an IP reputation list queried like one),
    /// as opposed to a mailbox provider's own reputation system.
    pub fn is_dnsbl(self) -> bool {
        !matches!(
            self,
            Blocklist::Microsoft
                | Blocklist::Yahoo
                | Blocklist::Google
                | Blocklist::Mimecast
                | Blocklist::CiscoTalos
        )
    }

    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Blocklist::Spamhaus => "spamhaus",
            Blocklist::SpamCop => "spamcop",
            Blocklist::Barracuda => "barracuda",
            Blocklist::CiscoTalos => "cisco-talos",
            Blocklist::Uceprotect => "uceprotect",
            Blocklist::Microsoft => "microsoft",
            Blocklist::Sorbs => "sorbs",
            Blocklist::Proofpoint => "proofpoint",
            Blocklist::Mailspike => "mailspike",
            Blocklist::Psbl => "psbl",
            Blocklist::Cbl => "cbl",
            Blocklist::TrendMicro => "trend-micro",
            Blocklist::SpamRats => "spam-rats",
            Blocklist::Invaluement => "invaluement",
            Blocklist::Mimecast => "mimecast",
            Blocklist::Yahoo => "yahoo",
            Blocklist::Google => "google",
            Blocklist::Abusix => "abusix",
            Blocklist::SenderScore => "sender-score",
            Blocklist::DroneBl => "drone-bl",
            Blocklist::ZeroSpam => "zero-spam",
            Blocklist::NordSpam => "nord-spam",
            Blocklist::Gbudb => "gbudb",
            Blocklist::JunkEmailFilter => "junk-email-filter",
            Blocklist::S5h => "s5h",
            Blocklist::Other => "other",
        }
    }
}

const TABLE: &[(&str, Blocklist)] = &[
    ("spamhaus", Blocklist::Spamhaus),
    ("spamcop", Blocklist::SpamCop),
    ("barracudacentral", Blocklist::Barracuda),
    ("barracuda reputation", Blocklist::Barracuda),
    ("b.barracuda", Blocklist::Barracuda),
    ("senderbase", Blocklist::CiscoTalos),
    ("talosintelligence", Blocklist::CiscoTalos),
    ("cisco talos", Blocklist::CiscoTalos),
    ("ironport", Blocklist::CiscoTalos),
    // Cisco Secure Email's (IronPort's) stock refusal for a poor SenderBase
    // (Talos) score.
    ("the sending mta's poor reputation", Blocklist::CiscoTalos),
    // Its stock refusal of a connection the host access table rejects.
    (
        "your access to submit messages to this e-mail system has been rejected",
        Blocklist::CiscoTalos,
    ),
    ("uceprotect", Blocklist::Uceprotect),
    ("banned sending ip", Blocklist::Microsoft),
    (
        "part of their network is on our block list",
        Blocklist::Microsoft,
    ),
    ("sender.office.com", Blocklist::Microsoft),
    ("access denied, banned sender", Blocklist::Microsoft),
    ("rate limited due to ip reputation", Blocklist::Microsoft),
    ("delist.messaging.microsoft.com", Blocklist::Microsoft),
    (
        "not currently accepting mail from your ip",
        Blocklist::Microsoft,
    ),
    (
        "sendersupport.olc.protection.outlook.com",
        Blocklist::Microsoft,
    ),
    ("[s3150]", Blocklist::Microsoft),
    // Hotmail's older "550 SC-001 ... Hotmail does not relay
    // dynamically-assigned IP ranges".
    (
        "hotmail does not relay dynamically-assigned",
        Blocklist::Microsoft,
    ),
    ("sorbs", Blocklist::Sorbs),
    ("proofpoint", Blocklist::Proofpoint),
    ("cloudmark", Blocklist::Proofpoint),
    ("mailspike", Blocklist::Mailspike),
    ("psbl.surriel", Blocklist::Psbl),
    ("abuseat.org", Blocklist::Cbl),
    ("cbl.abuseat", Blocklist::Cbl),
    ("trendmicro", Blocklist::TrendMicro),
    ("mail-abuse.com", Blocklist::TrendMicro),
    ("spamrats", Blocklist::SpamRats),
    ("invaluement", Blocklist::Invaluement),
    ("mimecast", Blocklist::Mimecast),
    ("postmaster.yahooinc.com", Blocklist::Yahoo),
    (
        "temporarily deferred due to unexpected volume or user complaints",
        Blocklist::Yahoo,
    ),
    ("abusix", Blocklist::Abusix),
    ("senderscore", Blocklist::SenderScore),
    ("dronebl", Blocklist::DroneBl),
    ("0spam", Blocklist::ZeroSpam),
    ("nordspam", Blocklist::NordSpam),
    ("gbudb", Blocklist::Gbudb),
    ("hostkarma", Blocklist::JunkEmailFilter),
    ("junkemailfilter", Blocklist::JunkEmailFilter),
    ("s5h.net", Blocklist::S5h),
    ("gsmtp", Blocklist::Google),
    (BLOCKED_USING, Blocklist::Other),
    ("dnsbl", Blocklist::Other),
    ("rbl ", Blocklist::Other),
    ("blacklisted by", Blocklist::Other),
    ("is listed on", Blocklist::Other),
    ("is listed at ", Blocklist::Other),
];

/// Postfix's words before the DNS zone that listed the client
/// (`reject_rbl_client`: "Client host [192.0.2.1] blocked using
/// zen.spamhaus.org").
const BLOCKED_USING: &str = "blocked using ";

/// Does `rest` start with a DNS zone's name (`zen.spamhaus.org`,
/// `bl.example.net;`): a word of letters, digits and hyphens with at
/// least one inner dot?
fn names_a_zone(rest: &str) -> bool {
    let word = rest
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
        .next()
        .unwrap_or("")
        .trim_end_matches('.');
    word.contains('.') && !word.starts_with('.')
}

/// The table's texts, lower-case: patterns of `crate::rules::COMBINED`,
/// which finds them in a lower-cased text.
pub(crate) fn texts() -> impl Iterator<Item = String> {
    TABLE.iter().map(|(k, _)| k.to_ascii_lowercase())
}

/// The blocklist a text names, given the rule scan of its lower case
/// (`str::to_lowercase`, as `crate::rules::COMBINED` scans a diagnostic).
/// The names are matched in the text's ASCII lower case: the same text
/// when it is ASCII (nearly always), else scanned again. A specific service
/// wins over a generic "blocked using a DNSBL"; Google's `gsmtp` marker
/// only counts when the text speaks of reputation or rate limits.
pub(crate) fn find(text: &str, lower_scan: &Scan<'_>) -> Option<Blocklist> {
    if text.is_ascii() {
        return named_in(lower_scan);
    }
    named_in(&COMBINED.scan(&text.to_ascii_lowercase()))
}

/// [`find`] on a scan of the text in ASCII lower case.
fn named_in(scan: &Scan<'_>) -> Option<Blocklist> {
    let l = scan.text();
    let mut best: Option<Blocklist> = None;
    for (i, end) in scan.blocklists() {
        let b = TABLE[i].1;
        // Postfix's "blocked using <zone>" names a DNS zone; "blocked using
        // spam pattern" is a content filter's words.
        if TABLE[i].0 == BLOCKED_USING && !names_a_zone(&l[end..]) {
            continue;
        }
        if b == Blocklist::Google
            && !(l.contains("reputation") || l.contains("rate limit") || l.contains("unsolicited"))
        {
            continue;
        }
        match best {
            Some(Blocklist::Other) | None => best = Some(b),
            _ => {}
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`find`] on a text alone.
    fn find(text: &str) -> Option<Blocklist> {
        super::find(text, &COMBINED.scan(&text.to_lowercase()))
    }

    #[test]
    fn names_the_service() {
        let t =
            "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org";
        assert_eq!(find(t), Some(Blocklist::Spamhaus));
        let t = "550 5.7.606 Access denied, banned sending IP [40.107.1.2]";
        assert_eq!(find(t), Some(Blocklist::Microsoft));
        assert_eq!(
            find("blocked using dnsbl.example.net"),
            Some(Blocklist::Other)
        );
        assert_eq!(find("550 5.1.1 user unknown"), None);
        // "blocked using" names a list only when a DNS zone follows it.
        assert_eq!(
            find("Client host [192.0.2.1] blocked using bl.example-list.org; see"),
            Some(Blocklist::Other)
        );
        assert_eq!(
            find("Client host [192.0.2.1] blocked using Bl.Example.Net."),
            Some(Blocklist::Other)
        );
        assert_eq!(
            find("553 Blocked using spam pattern, your message may contain the spam contents"),
            None
        );
        assert_eq!(find("blocked using .example"), None);
        // Not ASCII: the names are found in the text's ASCII lower case.
        assert_eq!(
            find("受信拒否: blocked using zen.spamhaus.org"),
            Some(Blocklist::Spamhaus)
        );
        assert_eq!(
            find("421-4.7.0 unsolicited mail ... gsmtp"),
            Some(Blocklist::Google)
        );
        assert_eq!(find("550-5.1.1 no such user gsmtp"), None);
        assert_eq!(
            find("blocked using combined.mail.abusix.zone"),
            Some(Blocklist::Abusix)
        );
        assert_eq!(
            find("Client host [192.0.2.1] blocked using bl.score.senderscore.com"),
            Some(Blocklist::SenderScore)
        );
    }

    #[test]
    fn every_name_is_its_serde_name_and_reads_back() {
        for b in Blocklist::ALL {
            assert_eq!(
                serde_json::to_string(b).unwrap(),
                format!("\"{}\"", b.as_str())
            );
            assert_eq!(Blocklist::from_name(b.as_str()), Some(*b));
        }
        // What earlier versions wrote (a hub's stored fingerprints) still reads.
        assert_eq!(
            serde_json::from_str::<Blocklist>("\"spam-cop\"").unwrap(),
            Blocklist::SpamCop
        );
    }
}
