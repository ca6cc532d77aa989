//! Amazon SES notifications delivered by e-mail (SNS "AWS Notification
//! Message"): a JSON document instead of a DSN.

use crate::record::Action;
use crate::{Draft, Reason};
use serde_json::Value;
use std::sync::LazyLock;

/// Drafts from an SES JSON notification in `text`, if there is one: the
/// notification itself (SNS "raw message delivery"), or the SNS envelope
/// that carries it as a string in its `Message` field.
pub(crate) fn parse(text: &str) -> Option<Vec<Draft>> {
    // Both forms name the notification's type (escaped in an envelope).
    // The searchers are built once: `memmem::find` builds its searcher again
    // on every call, and every bounce that is not a DSN comes here.
    static NAMES: LazyLock<[memchr::memmem::Finder<'static>; 2]> = LazyLock::new(|| {
        [
            memchr::memmem::Finder::new(b"notificationType"),
            memchr::memmem::Finder::new(b"eventType"),
        ]
    });
    if NAMES.iter().all(|n| n.find(text.as_bytes()).is_none()) {
        return None;
    }
    match sns_message(text) {
        Some(inner) => notification(&inner),
        None => notification(text),
    }
}

/// The `Message` of an SNS notification envelope (`{"Type":
/// "Notification", ..., "Message": "{\"notificationType\": ...}"}`) when
/// it holds an SES notification. Only the first JSON document counts: SNS
/// appends an unsubscribe footer after it.
fn sns_message(text: &str) -> Option<String> {
    let at = text.find("\"Message\"")?;
    let start = text[..at].rfind('{')?;
    let envelope: Value = serde_json::Deserializer::from_str(&text[start..])
        .into_iter::<Value>()
        .next()?
        .ok()?;
    let message = envelope["Message"].as_str()?;
    (message.contains("\"notificationType\"") || message.contains("\"eventType\""))
        .then(|| message.to_string())
}

fn notification(text: &str) -> Option<Vec<Draft>> {
    let start = text
        .find("{\"notificationType\"")
        .or_else(|| text.find("{\"eventType\""))?;
    let end = text.rfind('}')?;
    let body = text.get(start..=end)?;
    let v: Value = serde_json::from_str(body)
        .or_else(|_| serde_json::from_str(&body.replace(['\r', '\n'], "")))
        .ok()?;
    let kind = v["notificationType"]
        .as_str()
        .or(v["eventType"].as_str())?
        .to_ascii_lowercase();
    let timestamp = |s: &Value| s.as_str().and_then(parse_iso);
    let mut out = Vec::new();
    match kind.as_str() {
        "bounce" => {
            let b = &v["bounce"];
            let permanent = b["bounceType"].as_str() == Some("Permanent");
            let sub = b["bounceSubType"].as_str().unwrap_or("");
            let preset = match sub {
                "Suppressed" | "OnAccountSuppressionList" => Some(Reason::Suppressed),
                "MailboxFull" => Some(Reason::MailboxFull),
                "MessageTooLarge" => Some(Reason::MesgTooBig),
                "ContentRejected" => Some(Reason::ContentError),
                "AttachmentRejected" => Some(Reason::PolicyViolation),
                _ => None,
            };
            for r in b["bouncedRecipients"].as_array()? {
                out.push(Draft {
                    recipient: r["emailAddress"].as_str()?.to_string(),
                    action: Some(if permanent {
                        Action::Failed
                    } else {
                        Action::Delayed
                    }),
                    status: r["status"].as_str().unwrap_or("").to_string(),
                    diagnostic: r["diagnosticCode"].as_str().unwrap_or("").to_string(),
                    diagnostic_type: "SMTP".to_string(),
                    reporting_mta: b["reportingMTA"]
                        .as_str()
                        .unwrap_or("")
                        .trim_start_matches("dsn; ")
                        .to_string(),
                    timestamp: timestamp(&b["timestamp"]),
                    preset,
                    ..Draft::default()
                });
            }
        }
        "complaint" => {
            let c = &v["complaint"];
            for r in c["complainedRecipients"].as_array()? {
                out.push(Draft {
                    recipient: r["emailAddress"].as_str()?.to_string(),
                    preset: Some(Reason::Feedback),
                    feedback_type: Some(
                        c["complaintFeedbackType"]
                            .as_str()
                            .unwrap_or("abuse")
                            .to_string(),
                    ),
                    timestamp: timestamp(&c["timestamp"]),
                    ..Draft::default()
                });
            }
        }
        "delivery" => {
            let d = &v["delivery"];
            let response = d["smtpResponse"].as_str().unwrap_or("").to_string();
            for r in d["recipients"].as_array()? {
                out.push(Draft {
                    recipient: r.as_str()?.to_string(),
                    action: Some(Action::Delivered),
                    diagnostic: response.clone(),
                    diagnostic_type: "SMTP".to_string(),
                    remote_mta: d["remoteMtaIp"].as_str().unwrap_or("").to_string(),
                    reporting_mta: d["reportingMTA"].as_str().unwrap_or("").to_string(),
                    timestamp: timestamp(&d["timestamp"]),
                    ..Draft::default()
                });
            }
        }
        _ => return None,
    }
    (!out.is_empty()).then_some(out)
}

/// `2016-11-23T12:00:59.530Z` to Unix seconds.
fn parse_iso(s: &str) -> Option<i64> {
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.trim_end_matches('Z').split(':');
    let (h, min) = (
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<i64>().ok()?,
    );
    let sec = t
        .next()
        .and_then(|x| x.split('.').next()?.parse::<i64>().ok())
        .unwrap_or(0);
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + min * 60 + sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounce_and_delivery() {
        let t = r#"junk {"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"OnAccountSuppressionList","bouncedRecipients":[{"emailAddress":"a@example.org","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}],"timestamp":"2016-11-23T12:00:59.530Z"},"mail":{}} tail"#;
        let d = parse(t).unwrap();
        assert_eq!(d[0].recipient, "a@example.org");
        assert_eq!(d[0].preset, Some(Reason::Suppressed));
        assert_eq!(d[0].timestamp, Some(1_479_902_459));
        let t = r#"{"notificationType":"Delivery","delivery":{"recipients":["b@example.org"],"smtpResponse":"250 2.6.0 Message received"}}"#;
        assert_eq!(parse(t).unwrap()[0].action, Some(Action::Delivered));
        assert!(parse("{\"notificationType\": broken").is_none());
    }
}
