//! Email normalization never panics and is idempotent; folding is too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use optout::Normalizer;
use optout::address::EmailAliases;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    for n in [
        Normalizer::default(),
        Normalizer::builder()
            .email_aliases(EmailAliases::Fold)
            .build(),
    ] {
        if let Ok(email) = n.email(&input) {
            assert_eq!(n.email(email.as_str()), Ok(email.clone()), "{input:?}");
            assert!(email.as_str().contains('@'));
            assert_eq!(email.as_str(), email.as_str().trim());
        }
    }
});
