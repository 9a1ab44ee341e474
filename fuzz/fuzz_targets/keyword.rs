//! Keyword matching never panics, ignores surrounding whitespace, quotes
//! and punctuation, and never matches a keyword followed by more words
//! under whole-message matching.
#![no_main]

use libfuzzer_sys::fuzz_target;
use optout::keyword::{KeywordMatch, Keywords};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let whole = Keywords::default()
        .matching(KeywordMatch::WholeMessage)
        .compile(&[]);
    // The default (sentences, with the revocation classifier) never panics
    // either.
    let _ = Keywords::default().compile(&[]).find(&text);
    let hit = whole.find(&text);
    assert_eq!(whole.find(&format!("  \"{text}\"!! ")), hit, "{text:?}");
    if hit.is_some() {
        assert_eq!(
            whole.find(&format!("{text} and something else")),
            None,
            "{text:?}"
        );
        let leading = Keywords::default()
            .matching(KeywordMatch::Leading)
            .compile(&[]);
        assert!(
            leading
                .find(&format!("{text} and something else"))
                .is_some(),
            "{text:?}"
        );
    }
});
