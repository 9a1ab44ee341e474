//! One-click unsubscribe: tokens, links and headers, clicks, web forms.

use base64::Engine as _;
use optout::{
    AddressId, Category, ChannelId, Click, Dispatch, DurableStore, ListId, ListSettings,
    Normalizer, Region, SkipReason, Source, Store, Timestamp, TokenRejected, UnsubscribeKeys,
    UnsubscribeToken, Unsubscribed, unsubscribe_headers,
};
use proptest::prelude::*;

fn keys() -> UnsubscribeKeys {
    UnsubscribeKeys::new(1, b"0123456789abcdef0123456789abcdef").unwrap()
}

const ONE_CLICK: Click<'static> = Click::Post {
    body: "List-Unsubscribe=One-Click",
};

fn now() -> Timestamp {
    Timestamp::from_unix_secs(1_764_000_000)
}

fn token_for(store: &Store, address: &str, list: ListId) -> String {
    let a = Normalizer::default().address(address).unwrap();
    keys().sign(&store.unsubscribe_token(&a, list).unwrap())
}

#[test]
fn round_trip_with_every_field() {
    let token = UnsubscribeToken::new(AddressId::from_email_index(12), ListId::new(3))
        .channel(ChannelId::new(101))
        .expires(now());
    let text = keys().sign(&token);
    assert_eq!(keys().verify(&text, now()), Ok(token));
    let plain = UnsubscribeToken::new(
        AddressId::from_phone_digits(14155550123).unwrap(),
        ListId::SYSTEM,
    );
    assert_eq!(keys().verify(&keys().sign(&plain), now()), Ok(plain));
}

#[test]
fn every_changed_or_missing_character_is_rejected() {
    let token =
        UnsubscribeToken::new(AddressId::from_email_index(12), ListId::SYSTEM).expires(now());
    let text = keys().sign(&token);
    let alphabet: Vec<char> = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        .chars()
        .collect();
    for i in 0..text.len() {
        for &c in &alphabet {
            let mut bad: Vec<char> = text.chars().collect();
            if bad[i] == c {
                continue;
            }
            bad[i] = c;
            let bad: String = bad.into_iter().collect();
            // A changed last character can leave the decoded bytes equal
            // (unused padding bits); anything else must fail.
            if let Ok(t) = keys().verify(&bad, now()) {
                assert_eq!(i, text.len() - 1, "changed char {i} to {c} verified");
                assert_eq!(t, token);
            }
        }
    }
    for cut in 0..text.len() {
        assert!(
            keys().verify(&text[..cut], now()).is_err(),
            "truncated to {cut}"
        );
    }
    assert_eq!(
        keys().verify(&format!("{text}{}", "A".repeat(200)), now()),
        Err(TokenRejected::Oversized)
    );
    assert_eq!(keys().verify("!!!", now()), Err(TokenRejected::Malformed));
}

#[test]
fn every_flipped_bit_is_rejected() {
    let token = UnsubscribeToken::new(AddressId::from_email_index(12), ListId::SYSTEM)
        .channel(ChannelId::new(9));
    let text = keys().sign(&token);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&text)
        .unwrap();
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut bad = bytes.clone();
            bad[i] ^= 1 << bit;
            let bad = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bad);
            assert!(keys().verify(&bad, now()).is_err(), "byte {i} bit {bit}");
        }
    }
}

#[test]
fn expiry_keys_and_rotation() {
    let token =
        UnsubscribeToken::new(AddressId::from_email_index(1), ListId::SYSTEM).expires(now());
    let text = keys().sign(&token);
    assert_eq!(
        keys().verify(&text, now().add_days(1)),
        Err(TokenRejected::Expired)
    );
    let other = UnsubscribeKeys::new(1, b"another secret that is 32+ bytes").unwrap();
    assert_eq!(other.verify(&text, now()), Err(TokenRejected::BadSignature));
    let stranger = UnsubscribeKeys::new(9, b"another secret that is 32+ bytes").unwrap();
    assert_eq!(
        stranger.verify(&text, now()),
        Err(TokenRejected::UnknownKey)
    );
    // Rotation: new tokens under key 2, old ones still accepted.
    let rotated = UnsubscribeKeys::new(2, b"the new secret of 32 bytes, or so")
        .unwrap()
        .accept(1, b"0123456789abcdef0123456789abcdef")
        .unwrap();
    assert_eq!(rotated.verify(&text, now()), Ok(token));
    let fresh = rotated.sign(&token);
    assert_eq!(keys().verify(&fresh, now()), Err(TokenRejected::UnknownKey));
    assert!(UnsubscribeKeys::new(1, b"short").is_err());
}

#[test]
fn tokens_do_not_show_the_email() {
    let store = Store::new();
    let text = token_for(&store, "ann.lee@example.com", ListId::SYSTEM);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&text)
        .unwrap();
    assert!(!text.contains("ann"));
    assert!(!bytes.windows(3).any(|w| w == b"ann"));
}

#[test]
fn one_click_records_once_and_prefetch_changes_nothing() {
    let store = Store::new();
    let promo = store
        .create_list(ListSettings::new("Promotions").confirmation("You left Promotions."))
        .unwrap();
    let text = token_for(&store, "ann@example.com", promo);
    let ann = Normalizer::default().address("ann@example.com").unwrap();

    for _ in 0..3 {
        let got = store
            .unsubscribe_at(&keys(), &text, Click::Get, now())
            .unwrap();
        assert!(matches!(got, Unsubscribed::ConfirmationNeeded { .. }));
    }
    assert!(store.history(..).is_empty(), "a GET changed something");
    assert_eq!(
        store
            .unsubscribe_at(&keys(), &text, Click::Post { body: "foo=bar" }, now())
            .unwrap_err()
            .rejected(),
        Some(TokenRejected::NotOneClick)
    );
    assert!(store.history(..).is_empty());

    let first = store
        .unsubscribe_at(&keys(), &text, ONE_CLICK, now())
        .unwrap();
    let Unsubscribed::Recorded { reply, event } = first else {
        panic!("{first:?}")
    };
    assert_eq!(reply, "You left Promotions.");
    assert_eq!(event.list_name.as_deref(), Some("Promotions"));
    assert_eq!(event.email.as_deref(), Some("ann@example.com"));
    assert_eq!(event.source, Source::WebForm);
    assert_eq!(event.channel_id, None, "web-form opt-outs are account-wide");
    let again = store
        .unsubscribe_at(&keys(), &text, ONE_CLICK, now())
        .unwrap();
    assert!(matches!(again, Unsubscribed::AlreadyOptedOut { .. }));
    assert_eq!(store.history(..).len(), 1);

    // A list link leaves that list only.
    let send = Dispatch::new(Category::Marketing);
    assert_eq!(store.check(&ann, &send).unwrap(), None);
    assert_eq!(
        store.check(&ann, &send.honour(promo)).unwrap(),
        Some(SkipReason::OptedOut)
    );
}

#[test]
fn channel_tokens_still_record_account_wide() {
    let store = Store::new();
    let a = Normalizer::default().address("+14155550123").unwrap();
    let token = store
        .unsubscribe_token(&a, ListId::SYSTEM)
        .unwrap()
        .channel(ChannelId::new(5));
    let text = keys().sign(&token);
    store
        .unsubscribe_at(&keys(), &text, Click::Confirm, now())
        .unwrap();
    let other_channel = Dispatch::new(Category::Marketing).channel(ChannelId::new(6));
    assert_eq!(
        store.check(&a, &other_channel).unwrap(),
        Some(SkipReason::OptedOut)
    );
}

#[test]
fn tokens_for_unknown_recipients_or_deleted_lists_are_refused() {
    let store = Store::new();
    let stranger = keys().sign(&UnsubscribeToken::new(
        AddressId::from_email_index(40),
        ListId::SYSTEM,
    ));
    assert_eq!(
        store
            .unsubscribe_at(&keys(), &stranger, ONE_CLICK, now())
            .unwrap_err()
            .rejected(),
        Some(TokenRejected::UnknownRecipient)
    );
    let promo = store.create_list(ListSettings::new("Promotions")).unwrap();
    let text = token_for(&store, "ann@example.com", promo);
    store.delete_list(promo).unwrap();
    assert_eq!(
        store
            .unsubscribe_at(&keys(), &text, ONE_CLICK, now())
            .unwrap_err()
            .rejected(),
        Some(TokenRejected::UnknownRecipient)
    );
}

#[test]
fn web_form_by_typed_address() {
    let store = Store::new();
    let n = Normalizer::new(Region::new("US").unwrap());
    let done = store
        .web_form_opt_out(&n, "(415) 555-0123", ListId::SYSTEM)
        .unwrap();
    assert!(matches!(done, Ok(Unsubscribed::Recorded { .. })));
    let again = store
        .web_form_opt_out(&n, "+1 415 555 0123", ListId::SYSTEM)
        .unwrap();
    assert!(matches!(again, Ok(Unsubscribed::AlreadyOptedOut { .. })));
    let bad = store.web_form_opt_out(&n, "415", ListId::SYSTEM).unwrap();
    assert!(bad.is_err());
    assert!(
        store
            .web_form_opt_out(&n, "ann@example.com", ListId::new(9))
            .is_err()
    );
}

#[test]
fn links_and_headers() {
    let h = unsubscribe_headers(
        "https://mail.example.com/unsub",
        "tok_en-1",
        Some("leave@example.com"),
    )
    .unwrap();
    assert_eq!(
        h.list_unsubscribe,
        "<https://mail.example.com/unsub?token=tok_en-1>, <mailto:leave@example.com?subject=unsubscribe>"
    );
    assert_eq!(h.list_unsubscribe_post, "List-Unsubscribe=One-Click");
    assert!(unsubscribe_headers("ftp://example.com", "t", None).is_err());
    assert!(unsubscribe_headers("not a url", "t", None).is_err());
}

#[test]
fn durable_tokens_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let ann = Normalizer::default().address("ann@example.com").unwrap();
    let text = {
        let (store, _) = DurableStore::open(dir.path()).unwrap();
        keys().sign(&store.unsubscribe_token(&ann, ListId::SYSTEM).unwrap())
    };
    {
        let (store, _) = DurableStore::open(dir.path()).unwrap();
        let done = store
            .unsubscribe_at(&keys(), &text, ONE_CLICK, now())
            .unwrap();
        assert!(matches!(done, Unsubscribed::Recorded { .. }));
    }
    let (store, _) = DurableStore::open(dir.path()).unwrap();
    assert!(
        store
            .store()
            .contains(ListId::SYSTEM, optout::Scope::Account, &ann)
    );
}

proptest! {
    /// Distinct recipients never share a token, and a token never verifies
    /// as another recipient's.
    #[test]
    fn distinct_recipients_distinct_tokens(a in any::<u32>(), b in any::<u32>(), list in any::<u32>()) {
        prop_assume!(a != b);
        let ta = UnsubscribeToken::new(AddressId::from_email_index(a), ListId::new(list));
        let tb = UnsubscribeToken::new(AddressId::from_email_index(b), ListId::new(list));
        let (sa, sb) = (keys().sign(&ta), keys().sign(&tb));
        prop_assert_ne!(&sa, &sb);
        prop_assert_eq!(keys().verify(&sa, now()), Ok(ta));
        prop_assert_eq!(keys().verify(&sb, now()), Ok(tb));
    }
}
