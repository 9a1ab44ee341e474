//! Address normalization as a user sees it: formats, strictness, reasons,
//! ids, batches and hostile input.

use optout::address::{EmailAliases, EmailReason, Invalid, Phone, PhoneReason, Region, Strictness};
use optout::store::Edit;
use optout::{Address, AddressId, Normalizer, Store};
use proptest::prelude::*;

fn region(code: &str) -> Region {
    Region::new(code).unwrap()
}

fn e164(n: &Normalizer, input: &str) -> String {
    match n.phone(input) {
        Ok(p) => p.to_string(),
        Err(reason) => panic!("{input:?}: {reason}"),
    }
}

#[test]
fn every_common_phone_format() {
    let us = Normalizer::new(region("US"));
    let gb = Normalizer::new(region("GB"));
    for input in [
        "+14155550123",
        "(415) 555-0123",
        "415.555.0123",
        "1 (415) 555-0123",
        "+1 415 555 0123",
        "tel:+1-415-555-0123",
        "011 1 415 555 0123",
        "＋１４１５５５５０１２３",
        "  +1-415-555-0123  ",
    ] {
        assert_eq!(e164(&us, input), "+14155550123", "{input}");
    }
    assert_eq!(e164(&gb, "07911 123456"), "+447911123456");
    assert_eq!(e164(&gb, "+44 20 7946 0958"), "+442079460958");
    assert_eq!(e164(&gb, "0049 30 1234567"), "+49301234567");
    assert_eq!(e164(&us, "011 44 20 7946 0958"), "+442079460958");
    assert_eq!(e164(&us, "1-800-FLOWERS"), "+18003569377");
    // Arabic-Indic digits, as Google's library reads them.
    assert_eq!(
        e164(&Normalizer::new(region("EG")), "٠١٠٠١٢٣٤٥٦٧"),
        "+201001234567"
    );
}

#[test]
fn all_forms_of_one_number_share_one_id() {
    let us = Normalizer::new(region("US"));
    let ids: Vec<AddressId> = [
        "+14155550123",
        "(415) 555-0123",
        "tel:+1-415-555-0123",
        "415-555-0123 x99",
    ]
    .iter()
    .map(|s| us.phone(s).unwrap().id())
    .collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    assert_eq!(ids[0].get(), 14155550123);
}

#[test]
fn extensions_are_kept_apart_from_the_id() {
    let us = Normalizer::new(region("US"));
    let with = us.phone("+1 415 555 0123 ext. 789").unwrap();
    assert_eq!(with.extension(), Some("789"));
    assert_eq!(with.id(), us.phone("+14155550123").unwrap().id());
    assert_eq!(with.to_string(), "+14155550123");
}

#[test]
fn national_numbers_need_a_region() {
    let none = Normalizer::default();
    assert_eq!(
        none.phone("(415) 555-0123"),
        Err(PhoneReason::InvalidCountryCode)
    );
    assert!(none.phone("+1 415 555 0123").is_ok());
    let us = Normalizer::default();
    assert_eq!(
        us.phone_in("(415) 555-0123", region("US"))
            .unwrap()
            .digits(),
        14155550123
    );
}

#[test]
fn strictness_levels() {
    let possible = Normalizer::new(region("US"));
    let valid = Normalizer::builder()
        .region(region("US"))
        .strictness(Strictness::Valid)
        .build();
    // Area code 099 does not exist, but the length is right: an opt-out for
    // it is still recorded at the default level.
    assert!(possible.phone("(099) 555-0123").is_ok());
    assert_eq!(valid.phone("(099) 555-0123"), Err(PhoneReason::NotValid));
    assert!(valid.phone("(415) 555-2671").is_ok());
}

#[test]
fn phone_reasons() {
    let us = Normalizer::new(region("US"));
    assert_eq!(us.phone(""), Err(PhoneReason::Empty));
    assert_eq!(us.phone("   "), Err(PhoneReason::Empty));
    assert_eq!(us.phone("hello"), Err(PhoneReason::NotANumber));
    assert_eq!(us.phone("+"), Err(PhoneReason::NotANumber));
    assert_eq!(
        us.phone("+999 1234 5678"),
        Err(PhoneReason::InvalidCountryCode)
    );
    assert_eq!(us.phone("415 555 012"), Err(PhoneReason::TooShort));
    assert_eq!(us.phone("415 555 012345"), Err(PhoneReason::TooLong));
    assert_eq!(us.phone("555-0123"), Err(PhoneReason::LocalOnly));
    assert_eq!(us.phone(&"1".repeat(251)), Err(PhoneReason::InputTooLong));
    assert_eq!(
        us.phone("1;phone-context=+1;tel:"),
        Err(PhoneReason::NotANumber)
    );
}

#[test]
fn email_canonical_form_and_reasons() {
    let n = Normalizer::default();
    assert_eq!(
        n.email("  Ann.Lee@Example.COM ").unwrap().as_str(),
        "ann.lee@example.com"
    );
    assert_eq!(
        n.email("jürgen@bücher.de").unwrap().as_str(),
        "jürgen@xn--bcher-kva.de"
    );
    assert_eq!(n.email(""), Err(EmailReason::Empty));
    assert_eq!(n.email("ann"), Err(EmailReason::MissingAt));
    assert_eq!(
        n.email("ann@@example.com"),
        Err(EmailReason::InvalidLocalPart)
    );
    assert_eq!(n.email("ann@example"), Err(EmailReason::InvalidDomain));
    assert_eq!(
        n.email("Ann <ann@example.com>"),
        Err(EmailReason::DisplayName)
    );
}

#[test]
fn alias_folding_is_opt_in() {
    let keep = Normalizer::default();
    let fold = Normalizer::builder()
        .email_aliases(EmailAliases::Fold)
        .build();
    let a = "J.Doe+promo@gmail.com";
    assert_eq!(keep.email(a).unwrap().as_str(), "j.doe+promo@gmail.com");
    assert_eq!(
        fold.email(a).unwrap(),
        fold.email("jdoe@googlemail.com").unwrap()
    );
}

#[test]
fn email_ids_are_dense_and_above_every_phone_id() {
    let n = Normalizer::default();
    let store = Store::new();
    let id = |e: &str| {
        let a = n.address(e).unwrap();
        store.opt_out(&a, &Edit::new()).unwrap();
        store.id(&a).unwrap()
    };
    let (a, b) = (id("a@example.com"), id("b@example.com"));
    assert_eq!((a.email_index(), b.email_index()), (Some(0), Some(1)));
    let long_number = n.phone("+49 1512 3456789").unwrap().id();
    assert!(long_number < a);
    // The largest phone id there can be is still below every email id.
    let largest = AddressId::from_phone_digits(9_999_999_999_999_999_999).unwrap();
    assert_eq!(
        AddressId::from_phone_digits(10_000_000_000_000_000_000),
        None
    );
    assert!(largest < a && !largest.is_email() && a.is_email());
}

#[test]
fn phone_from_id_round_trips() {
    let n = Normalizer::default();
    let p = n.phone("+33 6 12 34 56 78").unwrap();
    assert_eq!(Phone::from_id(p.id()), Some(p));
}

#[test]
fn address_guesses_the_kind() {
    let n = Normalizer::new(region("US"));
    assert!(matches!(
        n.address("ann@example.com"),
        Ok(Address::Email(_))
    ));
    assert!(matches!(n.address("(415) 555-0123"), Ok(Address::Phone(_))));
    assert_eq!(
        n.address("nope@"),
        Err(Invalid::Email(EmailReason::InvalidDomain))
    );
    assert_eq!(
        n.address("nope"),
        Err(Invalid::Phone(PhoneReason::NotANumber))
    );
}

#[test]
fn adversarial_inputs_get_a_reason_not_a_panic() {
    let n = Normalizer::new(region("US"));
    let long_digits = "9".repeat(10_000);
    let long_junk = "+(".repeat(5_000);
    let inputs: Vec<String> = [
        "+",
        "++",
        "+0",
        "00",
        "011",
        ";phone-context=",
        "tel:;phone-context=+1",
        "1;phone-context=+1;tel:",
        "tel:+1;phone-context=tel:+1",
        "+1;phone-context=;tel:;tel:",
        "１２３４５６７８９０",
        "٠١٢٣٤٥٦٧٨٩",
        "\u{0}\u{1}\u{2}",
        "\u{feff}+14155550123",
        "+1 415 555 0123 ext. 99999999999999999999999",
        "@",
        "@@",
        "a@b@c.d",
        "\"unterminated@example.com",
        long_digits.as_str(),
        long_junk.as_str(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let batch = n.addresses(&inputs);
    assert_eq!(batch.len(), inputs.len());
    for (input, result) in inputs.iter().zip(&batch) {
        assert_eq!(*result, n.address(input), "{input:?}");
    }
}

#[test]
fn normalizer_is_send_sync() {
    fn check<T: Send + Sync + Clone>() {}
    check::<Normalizer>();
    check::<Address>();
    check::<Invalid>();
}

fn phone_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[+]?[0-9 ()./-]{0,30}",
        "(00|011|\\+)?[1-9][0-9]{6,16}",
        "[0-9]{3,15}( ?(x|ext\\.?|#) ?[0-9]{1,6})?",
        any::<String>(),
        proptest::collection::vec(any::<u8>(), 0..64)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

fn email_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9.+_-]{0,20}@[a-zA-Z0-9.-]{0,20}",
        "[a-zA-Z0-9]{1,10}@[a-zA-Zäöü]{1,10}\\.[a-z]{2,4}",
        "\\PC{0,10}@\\PC{0,10}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// A normalized number re-normalizes to itself, from any region.
    #[test]
    fn phone_normalization_is_idempotent(input in phone_like(), code in prop::sample::select(vec!["US", "GB", "DE", "IN", "BR"])) {
        let n = Normalizer::new(region(code));
        if let Ok(p) = n.phone(&input) {
            let again = Normalizer::default().phone(&p.to_string());
            prop_assert_eq!(again.map(|q| q.id()), Ok(p.id()));
        }
    }

    /// A canonical email re-normalizes to itself.
    #[test]
    fn email_normalization_is_idempotent(input in email_like()) {
        let n = Normalizer::default();
        if let Ok(e) = n.email(&input) {
            prop_assert_eq!(n.email(e.as_str()), Ok(e.clone()));
        }
    }

    /// Batch normalization is the single-address call, input by input.
    #[test]
    fn batch_equals_single(inputs in proptest::collection::vec(prop_oneof![phone_like(), email_like()], 0..40)) {
        let n = Normalizer::new(region("US"));
        let batch = n.addresses(&inputs);
        prop_assert_eq!(batch.len(), inputs.len());
        for (input, result) in inputs.iter().zip(batch) {
            prop_assert_eq!(result, n.address(input));
        }
    }
}

/// Found by the `phone` fuzz target: German `000000cccc` (vanity letters
/// after a run of zeros) needed four rounds to reach a stable E.164 form.
#[test]
fn fuzz_regression_leading_zero_runs_settle() {
    let de = Normalizer::new(region("DE"));
    let first = de.phone("000000cccc").unwrap();
    assert_eq!(
        Normalizer::default().phone(&first.to_string()).unwrap(),
        first
    );
    assert_eq!(first.to_string(), "+492222");
}

/// Found by the `email` fuzz target: folding `m.+@pm.me` dropped the tag
/// and left a local part ending in a dot, which does not normalize again.
#[test]
fn fuzz_regression_folding_keeps_addresses_valid() {
    let fold = Normalizer::builder()
        .email_aliases(EmailAliases::Fold)
        .build();
    let input = "\u{fffd}vMm.\u{fffd}\u{fffd}M\u{69c}M.+@pm.me";
    if let Ok(e) = fold.email(input) {
        assert_eq!(fold.email(e.as_str()), Ok(e));
    }
    let e = fold.email("ann.+news@pm.me").unwrap();
    assert_eq!(fold.email(e.as_str()), Ok(e.clone()));
    assert_eq!(e.as_str(), "ann.+news@pm.me");
}

/// Found by the `email` fuzz target: lower-casing `İ` adds a combining dot,
/// pushing a 64-byte local part over the limit; the canonical form must be
/// valid, so such an address is refused rather than stored unreadable.
#[test]
fn fuzz_regression_lowercasing_cannot_overflow_the_local_part() {
    let n = Normalizer::default();
    let input = format!("==N.{}2\u{130}@M.M", "\u{fffd}".repeat(19));
    match n.email(&input) {
        Ok(e) => assert_eq!(n.email(e.as_str()), Ok(e)),
        Err(reason) => assert_eq!(reason, EmailReason::InvalidLocalPart),
    }
    assert_eq!(
        n.email("\u{130}stanbul@example.com").unwrap().as_str(),
        "i\u{307}stanbul@example.com"
    );
}
