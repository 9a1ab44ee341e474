//! One-click unsubscribe: tokens, links and headers, clicks, web forms;
//! and links that stay bound to the person they were made for.

use base64::Engine as _;
use optout::address::Region;
use optout::error::ErrorKind;
use optout::exchange::{Export, Import};
use optout::filter::SkipReason;
use optout::model::{Category, Channel, ListId, Scope, Source, Timestamp};
use optout::store::{Edit, ListSettings};
use optout::unsubscribe::{
    Click, TokenRejected, UnsubscribeKeys, UnsubscribeToken, Unsubscribed, unsubscribe_headers,
};
use optout::{Address, Dispatch, Normalizer, Store};
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

fn at_now() -> Store {
    Store::builder().clock(now).build().unwrap()
}

fn addr(s: &str) -> Address {
    Normalizer::default().address(s).unwrap()
}

fn token_for(store: &Store, address: &str, list: ListId) -> String {
    keys().sign(&store.unsubscribe_token(&addr(address), list).unwrap())
}

/// What a token says, for comparing a signed token with its verified copy.
fn fields(t: &UnsubscribeToken) -> (u64, ListId, Option<Channel>, Timestamp, Option<Timestamp>) {
    (
        t.address().get(),
        t.list(),
        t.channel_name().cloned(),
        t.issued(),
        t.expiry(),
    )
}

fn on_system(store: &Store, a: &str) -> bool {
    store.contains(ListId::SYSTEM, &Scope::Account, &addr(a))
}

#[test]
fn round_trip_with_every_field() {
    let store = at_now();
    let promo = store.create_list(ListSettings::new("Promotions")).unwrap();
    let token = store
        .unsubscribe_token(&addr("ann@example.com"), promo)
        .unwrap()
        .channel(Channel::new("news@example.com").unwrap())
        .expires(now().add_days(90));
    let verified = keys().verify(&keys().sign(&token), now()).unwrap();
    assert_eq!(fields(&verified), fields(&token));
    let plain = store
        .unsubscribe_token(&addr("+14155550123"), ListId::SYSTEM)
        .unwrap();
    let verified = keys().verify(&keys().sign(&plain), now()).unwrap();
    assert_eq!(fields(&verified), fields(&plain));
    assert_eq!(verified.address().get(), 14155550123);
}

#[test]
fn every_changed_or_missing_character_is_rejected() {
    let store = at_now();
    let token = store
        .unsubscribe_token(&addr("ann@example.com"), ListId::SYSTEM)
        .unwrap()
        .expires(now());
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
                assert_eq!(fields(&t), fields(&token));
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
        keys()
            .verify(&format!("{text}{}", "A".repeat(700)), now())
            .map(drop),
        Err(TokenRejected::Oversized)
    );
    assert_eq!(
        keys().verify("!!!", now()).map(drop),
        Err(TokenRejected::Malformed)
    );
}

#[test]
fn every_flipped_bit_is_rejected() {
    let store = at_now();
    let token = store
        .unsubscribe_token(&addr("ann@example.com"), ListId::SYSTEM)
        .unwrap()
        .channel(Channel::new("sms9").unwrap());
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
    let store = at_now();
    let token = store
        .unsubscribe_token(&addr("ann@example.com"), ListId::SYSTEM)
        .unwrap()
        .expires(now().add_days(60));
    let text = keys().sign(&token);
    assert!(keys().verify(&text, now().add_days(60)).is_ok());
    assert_eq!(
        keys().verify(&text, now().add_days(61)).map(drop),
        Err(TokenRejected::Expired)
    );
    let other = UnsubscribeKeys::new(1, b"another secret that is 32+ bytes").unwrap();
    assert_eq!(
        other.verify(&text, now()).map(drop),
        Err(TokenRejected::BadSignature)
    );
    let stranger = UnsubscribeKeys::new(9, b"another secret that is 32+ bytes").unwrap();
    assert_eq!(
        stranger.verify(&text, now()).map(drop),
        Err(TokenRejected::UnknownKey)
    );
    // Rotation: new tokens under key 2, old ones still accepted.
    let rotated = UnsubscribeKeys::new(2, b"the new secret of 32 bytes, or so")
        .unwrap()
        .accept(1, b"0123456789abcdef0123456789abcdef")
        .unwrap();
    assert_eq!(
        fields(&rotated.verify(&text, now()).unwrap()),
        fields(&token)
    );
    let fresh = rotated.sign(&token);
    assert_eq!(
        keys().verify(&fresh, now()).map(drop),
        Err(TokenRejected::UnknownKey)
    );
    assert!(UnsubscribeKeys::new(1, b"short").is_err());
}

/// Accepting an old key under the signing key's own id would silently
/// replace the signing secret: refused.
#[test]
fn accepting_the_signing_keys_id_is_refused() {
    let err = UnsubscribeKeys::new(3, &[7; 32])
        .unwrap()
        .accept(3, &[9; 32])
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::SigningKeyId(3)), "{err}");
    // The keys still sign with the original secret.
    let keys = UnsubscribeKeys::new(3, &[7; 32]).unwrap();
    let store = at_now();
    let t = keys.sign(
        &store
            .unsubscribe_token(&addr("+14155550123"), ListId::SYSTEM)
            .unwrap(),
    );
    assert!(
        UnsubscribeKeys::new(3, &[7; 32])
            .unwrap()
            .verify(&t, now())
            .is_ok()
    );
}

/// CAN-SPAM: a link keeps working for at least 30 days after it is sent,
/// whatever shorter expiry the sender gave it.
#[test]
fn links_are_honoured_for_thirty_days_whatever_their_expiry() {
    let store = at_now();
    let token = store
        .unsubscribe_token(&addr("ann@example.com"), ListId::SYSTEM)
        .unwrap()
        .expires(now()); // expires the moment it is sent
    let text = keys().sign(&token);
    let recorded = store
        .unsubscribe_at(&keys(), &text, ONE_CLICK, now().add_days(29))
        .unwrap();
    assert!(matches!(recorded, Unsubscribed::Recorded { .. }));
    assert_eq!(
        keys().verify(&text, now().add_days(31)).map(drop),
        Err(TokenRejected::Expired)
    );
    assert_eq!(token.honoured_until(), Some(now().add_days(30)));
}

#[test]
fn tokens_do_not_show_the_email() {
    let store = at_now();
    let text = token_for(&store, "ann.lee@example.com", ListId::SYSTEM);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&text)
        .unwrap();
    assert!(!text.contains("ann"));
    assert!(!bytes.windows(3).any(|w| w == b"ann"));
}

/// Mail providers send the one-click POST form-urlencoded or as
/// multipart/form-data (RFC 8058, RFC 7578): both record the opt-out; a
/// multipart body without the field does not.
#[test]
fn one_click_bodies_in_either_form_encoding() {
    let multipart = "--XyZ\r\n\
                     Content-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\
                     \r\n\
                     One-Click\r\n\
                     --XyZ--\r\n";
    let other_field = multipart.replace("List-Unsubscribe", "Other");
    for (body, records) in [
        ("List-Unsubscribe=One-Click", true),
        ("a=b&List-Unsubscribe=One-Click", true),
        (multipart, true),
        (other_field.as_str(), false),
        ("List-Unsubscribe=Two-Clicks", false),
    ] {
        let store = at_now();
        let text = token_for(&store, "ann@example.com", ListId::SYSTEM);
        let got = store.unsubscribe_at(&keys(), &text, Click::Post { body }, now());
        assert_eq!(
            matches!(got, Ok(Unsubscribed::Recorded { .. })),
            records,
            "{body:?}: {got:?}"
        );
        assert_eq!(store.history(..).len(), usize::from(records), "{body:?}");
    }
}

#[test]
fn one_click_records_once_and_prefetch_changes_nothing() {
    let store = at_now();
    let promo = store
        .create_list(ListSettings::new("Promotions").confirmation("You left Promotions."))
        .unwrap();
    let text = token_for(&store, "ann@example.com", promo);
    let ann = addr("ann@example.com");

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
    let store = at_now();
    let a = addr("+14155550123");
    let token = store
        .unsubscribe_token(&a, ListId::SYSTEM)
        .unwrap()
        .channel(Channel::new("sms5").unwrap());
    let text = keys().sign(&token);
    store
        .unsubscribe_at(&keys(), &text, Click::Confirm, now())
        .unwrap();
    let other_channel = Dispatch::new(Category::Marketing).channel(Channel::new("sms6").unwrap());
    assert_eq!(
        store.check(&a, &other_channel).unwrap(),
        Some(SkipReason::OptedOut)
    );
}

/// An authentic link for a list deleted since still records an opt-out:
/// the person asked to stop, so the system list takes it.
#[test]
fn a_link_for_a_deleted_list_opts_out_of_the_system_list() {
    let store = at_now();
    let promo = store.create_list(ListSettings::new("Promotions")).unwrap();
    let text = token_for(&store, "ann@example.com", promo);
    store.delete_list(promo).unwrap();
    let done = store
        .unsubscribe_at(&keys(), &text, ONE_CLICK, now())
        .unwrap();
    let Unsubscribed::Recorded { event, .. } = done else {
        panic!("{done:?}")
    };
    assert_eq!(event.list_name.as_deref(), Some("Default"));
    assert!(on_system(&store, "ann@example.com"));
}

/// A link names the person, not a slot in one store's table: after the
/// store's opt-outs are exported and imported into a fresh store (where
/// indexes differ), an old link opts out the same person or is refused —
/// never someone else. Today's main opted out whoever held the index.
#[test]
fn links_survive_export_and_import_into_a_new_store() {
    let old = at_now();
    // bob and ann get email indexes 0 and 1 here.
    let bob_link = token_for(&old, "bob@example.com", ListId::SYSTEM);
    let ann_link = token_for(&old, "ann@example.com", ListId::SYSTEM);
    old.opt_out(&addr("bob@example.com"), &Edit::new()).unwrap();
    let mut csv = Vec::new();
    old.export_csv(&mut csv, &Export::all()).unwrap();

    let new = at_now();
    // carol takes index 0 and dave index 1 in the new store, before the
    // import gives bob index 2.
    new.opt_out(
        &addr("carol@example.com"),
        &Edit::new().list(ListId::SYSTEM),
    )
    .unwrap();
    new.unsubscribe_token(&addr("dave@example.com"), ListId::SYSTEM)
        .unwrap();
    new.import(csv.as_slice(), &Normalizer::default(), &Import::new())
        .unwrap();
    assert!(on_system(&new, "bob@example.com"));

    // ann is not in the new store: her link is refused, and dave (who
    // holds her old index) is not opted out.
    let err = new
        .unsubscribe_at(&keys(), &ann_link, ONE_CLICK, now())
        .unwrap_err();
    assert_eq!(err.rejected(), Some(TokenRejected::UnknownRecipient));
    assert!(!on_system(&new, "dave@example.com"));
    // bob's old link (index 0: carol here) finds bob, not carol.
    let done = new
        .unsubscribe_at(&keys(), &bob_link, ONE_CLICK, now())
        .unwrap();
    assert!(
        matches!(done, Unsubscribed::AlreadyOptedOut { .. }),
        "{done:?}"
    );
    // Once ann is known to the new store, her old link opts her out.
    new.unsubscribe_token(&addr("ann@example.com"), ListId::SYSTEM)
        .unwrap();
    let done = new
        .unsubscribe_at(&keys(), &ann_link, ONE_CLICK, now())
        .unwrap();
    let Unsubscribed::Recorded { event, .. } = done else {
        panic!("{done:?}")
    };
    assert_eq!(event.email.as_deref(), Some("ann@example.com"));
    assert!(!on_system(&new, "dave@example.com"));
    assert_eq!(new.count(ListId::SYSTEM).unwrap(), 3); // carol, bob, ann
}

/// Two stores sharing keys: a link from one never opts out someone else in
/// the other.
#[test]
fn a_link_from_another_store_never_opts_out_someone_else() {
    let a = at_now();
    let b = at_now();
    let link = token_for(&a, "ann@example.com", ListId::SYSTEM);
    b.unsubscribe_token(&addr("zed@example.com"), ListId::SYSTEM)
        .unwrap();
    let err = b
        .unsubscribe_at(&keys(), &link, ONE_CLICK, now())
        .unwrap_err();
    assert_eq!(err.rejected(), Some(TokenRejected::UnknownRecipient));
    assert!(b.history(..).is_empty());
}

#[test]
fn web_form_by_typed_address() {
    let store = at_now();
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
    let ann = addr("ann@example.com");
    let text = {
        let store = Store::open(dir.path()).unwrap();
        keys().sign(&store.unsubscribe_token(&ann, ListId::SYSTEM).unwrap())
    };
    {
        let store = Store::open(dir.path()).unwrap();
        let done = store
            .unsubscribe_at(&keys(), &text, ONE_CLICK, now())
            .unwrap();
        assert!(matches!(done, Unsubscribed::Recorded { .. }));
    }
    let store = Store::open(dir.path()).unwrap();
    assert!(store.contains(ListId::SYSTEM, &Scope::Account, &ann));
}

proptest! {
    /// Distinct recipients never share a token, and a token never verifies
    /// as another recipient's.
    #[test]
    fn distinct_recipients_distinct_tokens(a in 0u32..1000, b in 0u32..1000) {
        prop_assume!(a != b);
        let store = at_now();
        let (x, y) = (format!("p{a}@example.com"), format!("p{b}@example.com"));
        let (ta, tb) = (
            store.unsubscribe_token(&addr(&x), ListId::SYSTEM).unwrap(),
            store.unsubscribe_token(&addr(&y), ListId::SYSTEM).unwrap(),
        );
        let (sa, sb) = (keys().sign(&ta), keys().sign(&tb));
        prop_assert_ne!(&sa, &sb);
        store.unsubscribe_at(&keys(), &sa, ONE_CLICK, now()).unwrap();
        prop_assert!(on_system(&store, &x));
        prop_assert!(!on_system(&store, &y));
    }
}

/// A link names its list by name too: in a store where the list has
/// another id, the link still leaves the right list, never the one that
/// happens to hold its old id.
#[test]
fn links_leave_the_list_they_name_in_another_store() {
    let old = at_now();
    old.create_list(ListSettings::new("Promotions")).unwrap();
    let news = old.create_list(ListSettings::new("Newsletter")).unwrap();
    let link = token_for(&old, "+14155550123", news);

    let new = at_now();
    let news_here = new.create_list(ListSettings::new("Newsletter")).unwrap();
    let promo_here = new.create_list(ListSettings::new("Promotions")).unwrap();
    assert_eq!(promo_here, news, "the old id names another list here");
    new.unsubscribe_at(&keys(), &link, ONE_CLICK, now())
        .unwrap();
    let a = addr("+14155550123");
    assert!(new.contains(news_here, &Scope::Account, &a));
    assert!(!new.contains(promo_here, &Scope::Account, &a));
    // A list renamed since: the system list takes the opt-out.
    let third = at_now();
    third.create_list(ListSettings::new("Promotions")).unwrap();
    third.create_list(ListSettings::new("Weekly news")).unwrap();
    third
        .unsubscribe_at(&keys(), &link, ONE_CLICK, now())
        .unwrap();
    assert!(on_system(&third, "+14155550123"));
}
