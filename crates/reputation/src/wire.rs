//! The DNS wire format, just what blocklist queries need: encode a query,
//! decode a response's header, question, A and TXT answers and the SOA
//! negative TTL. Pure; see [`crate::udp`] for why it is hand-written.

use std::net::Ipv4Addr;

/// Record type A.
pub(crate) const TYPE_A: u16 = 1;
/// Record type TXT.
pub(crate) const TYPE_TXT: u16 = 16;
const TYPE_SOA: u16 = 6;

/// One useful answer record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// An A record.
    A(Ipv4Addr),
    /// A TXT record, its strings joined.
    Txt(String),
}

/// A decoded response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub id: u16,
    pub rcode: u8,
    pub truncated: bool,
    /// The question, lower-cased, without the trailing dot.
    pub qname: String,
    pub qtype: u16,
    pub answers: Vec<Answer>,
    /// Smallest TTL of the answers (positive caching).
    pub ttl: Option<u32>,
    /// The SOA minimum in the authority section (negative caching).
    pub negative_ttl: Option<u32>,
}

/// Why bytes are not a usable DNS response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireError(pub &'static str);

/// A standard recursive query for `name`/`qtype` with id `id`. `None` when
/// the name cannot be encoded (a label over 63 bytes, a name over 253).
pub(crate) fn encode_query(id: u16, name: &str, qtype: u16) -> Option<Vec<u8>> {
    let name = name.trim_end_matches('.');
    if name.len() > 253 {
        return None;
    }
    let mut q = Vec::with_capacity(18 + name.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; QDCOUNT 1
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return None;
        }
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1]); // class IN
    Some(q)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Result<u8, WireError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or(WireError("truncated message"))?;
        self.pos += 1;
        Ok(b)
    }
    fn u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }
    fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes([
            self.u8()?,
            self.u8()?,
            self.u8()?,
            self.u8()?,
        ]))
    }
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let s = self
            .buf
            .get(self.pos..self.pos + n)
            .ok_or(WireError("truncated record data"))?;
        self.pos += n;
        Ok(s)
    }
    /// A possibly compressed name, lower-cased, without the trailing dot.
    fn name(&mut self) -> Result<String, WireError> {
        let mut out = String::new();
        let mut pos = self.pos;
        let mut jumped = false;
        for _ in 0..128 {
            let len = *self.buf.get(pos).ok_or(WireError("truncated name"))? as usize;
            if len == 0 {
                if !jumped {
                    self.pos = pos + 1;
                }
                return Ok(out);
            }
            if len & 0xc0 == 0xc0 {
                let lo = *self
                    .buf
                    .get(pos + 1)
                    .ok_or(WireError("truncated pointer"))? as usize;
                if !jumped {
                    self.pos = pos + 2;
                }
                jumped = true;
                pos = ((len & 0x3f) << 8) | lo;
                continue;
            }
            if len > 63 {
                return Err(WireError("bad label length"));
            }
            let label = self
                .buf
                .get(pos + 1..pos + 1 + len)
                .ok_or(WireError("truncated label"))?;
            if !out.is_empty() {
                out.push('.');
            }
            out.extend(label.iter().map(|b| b.to_ascii_lowercase() as char));
            if out.len() > 255 {
                return Err(WireError("name too long"));
            }
            pos += 1 + len;
        }
        Err(WireError("compression loop"))
    }
}

/// Decode a response.
pub(crate) fn decode(buf: &[u8]) -> Result<Response, WireError> {
    let mut r = Reader { buf, pos: 0 };
    let id = r.u16()?;
    let flags = r.u16()?;
    if flags & 0x8000 == 0 {
        return Err(WireError("not a response"));
    }
    let (qd, an, ns, _ar) = (r.u16()?, r.u16()?, r.u16()?, r.u16()?);
    if qd != 1 {
        return Err(WireError("expected exactly one question"));
    }
    let qname = r.name()?;
    let qtype = r.u16()?;
    let _qclass = r.u16()?;
    let mut answers = Vec::new();
    let mut ttl: Option<u32> = None;
    for _ in 0..an {
        let _name = r.name()?;
        let (t, _class, rttl, len) = (r.u16()?, r.u16()?, r.u32()?, r.u16()? as usize);
        let data = r.bytes(len)?;
        match t {
            TYPE_A if len == 4 => {
                answers.push(Answer::A(Ipv4Addr::new(data[0], data[1], data[2], data[3])));
                ttl = Some(ttl.map_or(rttl, |x| x.min(rttl)));
            }
            TYPE_TXT => {
                let mut s = String::new();
                let mut i = 0;
                while i < data.len() {
                    let n = data[i] as usize;
                    let part = data
                        .get(i + 1..i + 1 + n)
                        .ok_or(WireError("truncated TXT"))?;
                    s.push_str(&String::from_utf8_lossy(part));
                    i += 1 + n;
                }
                answers.push(Answer::Txt(s));
                ttl = Some(ttl.map_or(rttl, |x| x.min(rttl)));
            }
            _ => {}
        }
    }
    let mut negative_ttl = None;
    for _ in 0..ns {
        let _name = r.name()?;
        let (t, _class, rttl, len) = (r.u16()?, r.u16()?, r.u32()?, r.u16()? as usize);
        let end = r.pos + len;
        if t == TYPE_SOA {
            let _mname = r.name()?;
            let _rname = r.name()?;
            let _serial_refresh_retry_expire = r.bytes(16)?;
            let minimum = r.u32()?;
            negative_ttl = Some(rttl.min(minimum));
        }
        r.pos = end;
    }
    Ok(Response {
        id,
        rcode: (flags & 0x000f) as u8,
        truncated: flags & 0x0200 != 0,
        qname,
        qtype,
        answers,
        ttl,
        negative_ttl,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_a_hand_made_response() {
        let q = encode_query(0xbeef, "2.0.0.127.zen.spamhaus.org.", TYPE_A).unwrap();
        // Turn the query into a response with one A answer (compressed name).
        let mut resp = q.clone();
        resp[2] = 0x81;
        resp[3] = 0x80;
        resp[7] = 1; // ANCOUNT
        resp.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 127, 0, 0, 2]);
        let r = decode(&resp).unwrap();
        assert_eq!(r.id, 0xbeef);
        assert_eq!(r.qname, "2.0.0.127.zen.spamhaus.org");
        assert_eq!(r.answers, vec![Answer::A(Ipv4Addr::new(127, 0, 0, 2))]);
        assert_eq!(r.ttl, Some(3600));
        assert_eq!(r.rcode, 0);
    }

    #[test]
    fn hostile_bytes_are_errors_not_panics() {
        assert!(decode(&[]).is_err());
        assert!(decode(&[0; 11]).is_err());
        // A name that points at itself.
        let mut m = vec![0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        assert_eq!(decode(&m).unwrap_err(), WireError("compression loop"));
        for n in 0..200u8 {
            let junk: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37).wrapping_add(n)).collect();
            let _ = decode(&junk);
        }
        assert!(encode_query(1, &"a".repeat(64), TYPE_A).is_none());
        assert!(encode_query(1, "a..b", TYPE_A).is_none());
    }
}
