//! Feeds arbitrary bytes to the bounce engine, as they are and remapped onto
//! a small alphabet of e-mail syntax so random input reaches the header,
//! MIME and DSN grammars more often (mail-parser's trick).
#![no_main]

use libfuzzer_sys::fuzz_target;

const ALPHABET: &[u8] = b"From:To:Status: 5.1.1 550 <a@b.c>\nContent-Type: multipart/report; boundary=x\n--x\nmessage/delivery-status Final-Recipient: rfc822; Action: failed\r=?";

fuzz_target!(|data: &[u8]| {
    let _ = outcry_bounce::analyze(data);
    let mapped: Vec<u8> = data.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()]).collect();
    let _ = outcry_bounce::analyze(&mapped);
});
