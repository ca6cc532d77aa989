//! What leaves an organisation is built from hostile text (recipients'
//! error messages): the masking never panics, never lets an address or a
//! private host through, and validation never panics on any fingerprint.

use outcry_hub::fingerprint::template;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn templates_never_panic_and_never_keep_an_at_sign(s in "\\PC{0,300}") {
        let t = template(&s);
        prop_assert!(!t.contains('@'), "{t:?}");
        prop_assert!(t.len() <= 500);
    }

    #[test]
    fn private_hosts_and_addresses_are_masked(
        local in "[a-z]{1,10}",
        label in "[a-z][a-z0-9-]{0,10}[a-z0-9]",
        tld in "(example|test|invalid)",
        noise in "[ -~]{0,40}",
    ) {
        let host = format!("mx.{label}.{tld}");
        let text = format!("{noise} 550 5.7.1 <{local}@{label}.{tld}> refused by {host}[192.0.2.7]: see https://{host}/why?ip=192.0.2.7");
        let t = template(&text);
        prop_assert!(!t.contains(&format!("{label}.{tld}")), "{t:?}");
        prop_assert!(!t.contains("192.0.2.7"), "{t:?}");
    }

    #[test]
    fn any_json_is_refused_or_accepted_never_a_panic(s in "\\PC{0,400}") {
        if let Ok(f) = serde_json::from_str::<outcry_hub::Fingerprint>(&s) {
            let _ = f.validate();
        }
        if let Ok(r) = serde_json::from_str::<outcry_hub::ManualReport>(&s) {
            let _ = r.validate();
        }
    }
}
