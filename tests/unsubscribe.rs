//! One-click unsubscribe: tokens, links and headers, clicks, web forms;
//! links that carry the person they were made for (token version 3), and
//! version-2 links already sent.

use base64::Engine as _;
use optout::address::{EmailAliases, Region};
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

type Fields = (
    Option<Address>,
    ListId,
    Option<Channel>,
    Timestamp,
    Option<Timestamp>,
);

/// What a token says, for comparing a signed token with its verified copy.
fn fields(t: &UnsubscribeToken) -> Fields {
    (
        t.address().cloned(),
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
    assert_eq!(verified.address(), Some(&addr("+14155550123")));
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
            .verify(&format!("{text}{}", "A".repeat(1300)), now())
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
    let Unsubscribed::Recorded {
        reply,
        event,
        others,
    } = first
    else {
        panic!("{first:?}")
    };
    assert_eq!(reply, "You left Promotions.");
    assert_eq!(event.list_name.as_deref(), Some("Promotions"));
    assert_eq!(event.email.as_deref(), Some("ann@example.com"));
    assert_eq!(event.source, Source::WebForm);
    assert_eq!(event.channel_id, None, "web-form opt-outs are account-wide");
    assert!(others.is_empty());
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

/// A link carries the person: after the store's opt-outs are exported and
/// imported into a fresh store (where indexes differ, and where a
/// recipient who had not opted out was never seen), a link records the
/// opt-out for exactly the person it was made for. Version 2 refused
/// such a link (`UnknownRecipient`), dropping the person's request.
#[test]
fn links_survive_export_and_import_into_a_new_store() {
    let old = at_now();
    let bob_link = token_for(&old, "bob@example.com", ListId::SYSTEM);
    let ann_link = token_for(&old, "ann@example.com", ListId::SYSTEM);
    assert_eq!(old.seq(), 0, "minting wrote something");
    old.opt_out(&addr("bob@example.com"), &Edit::new()).unwrap();
    let mut csv = Vec::new();
    old.export_csv(&mut csv, &Export::all()).unwrap();

    let new = at_now();
    // carol and dave take the first email indexes here; dave is known
    // but not on the system list.
    new.opt_out(
        &addr("carol@example.com"),
        &Edit::new().list(ListId::SYSTEM),
    )
    .unwrap();
    let weekly = new.create_list(ListSettings::new("Weekly")).unwrap();
    new.opt_out(&addr("dave@example.com"), &Edit::new().list(weekly))
        .unwrap();
    new.import(csv.as_slice(), &Normalizer::default(), &Import::new())
        .unwrap();
    assert!(on_system(&new, "bob@example.com"));
    assert!(new.id(&addr("ann@example.com")).is_none());
    let before = new.history(..).len();

    // ann was never opted out, so she is not in the export: her link
    // records her, and only her.
    let done = new
        .unsubscribe_at(&keys(), &ann_link, ONE_CLICK, now())
        .unwrap();
    let Unsubscribed::Recorded { event, others, .. } = done else {
        panic!("{done:?}")
    };
    assert_eq!(event.email.as_deref(), Some("ann@example.com"));
    assert!(others.is_empty());
    assert!(on_system(&new, "ann@example.com"));
    let ann_id = new.id(&addr("ann@example.com")).unwrap();
    let added = &new.history(..)[before..];
    assert_eq!(added.len(), 1);
    assert!(added.iter().all(|c| c.address == ann_id));
    assert!(!on_system(&new, "dave@example.com"));
    assert_eq!(new.count(ListId::SYSTEM).unwrap(), 3); // carol, bob, ann
    // bob's link finds bob, who is opted out already.
    let done = new
        .unsubscribe_at(&keys(), &bob_link, ONE_CLICK, now())
        .unwrap();
    assert!(
        matches!(done, Unsubscribed::AlreadyOptedOut { .. }),
        "{done:?}"
    );
    assert_eq!(new.history(..).len(), before + 1);
}

/// Two stores sharing keys: a link from one records the opt-out for the
/// same person in the other, who need not be known there, and for nobody
/// else.
#[test]
fn a_link_from_another_store_sharing_the_keys_records_that_person() {
    let a = at_now();
    let b = at_now();
    let link = token_for(&a, "ann@example.com", ListId::SYSTEM);
    b.opt_out(&addr("zed@example.com"), &Edit::new()).unwrap();
    let zed = b.id(&addr("zed@example.com")).unwrap();
    let done = b.unsubscribe_at(&keys(), &link, ONE_CLICK, now()).unwrap();
    let Unsubscribed::Recorded { event, .. } = done else {
        panic!("{done:?}")
    };
    assert_eq!(event.email.as_deref(), Some("ann@example.com"));
    let history = b.history(..);
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].address, b.id(&addr("ann@example.com")).unwrap());
    assert_ne!(history[1].address, zed);
    assert!(on_system(&b, "ann@example.com"));
    assert!(a.history(..).is_empty() && a.seq() == 0);
    // Phones too.
    let phone_link = token_for(&a, "+447911123456", ListId::SYSTEM);
    b.unsubscribe_at(&keys(), &phone_link, Click::Confirm, now())
        .unwrap();
    assert!(on_system(&b, "+447911123456"));
    assert_eq!(b.count(ListId::SYSTEM).unwrap(), 3);
}

/// Minting a token writes nothing: no email is given an id, nothing is
/// appended to the log (one fsync per new recipient in version 2).
#[test]
fn minting_a_thousand_tokens_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::builder().clock(now).open(dir.path()).unwrap();
    let promo = store.create_list(ListSettings::new("Promotions")).unwrap();
    let seq = store.seq();
    let journal_bytes = || -> u64 {
        std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum()
    };
    let bytes = journal_bytes();
    for i in 0..1_000 {
        let who = if i % 2 == 0 {
            format!("person{i}@example.com")
        } else {
            format!("+1415555{i:04}")
        };
        let token = store.unsubscribe_token(&addr(&who), promo).unwrap();
        assert!(!keys().sign(&token).is_empty());
    }
    assert_eq!(store.seq(), seq);
    assert_eq!(journal_bytes(), bytes);
    assert!(store.id(&addr("person0@example.com")).is_none());
    assert!(store.history(..).is_empty());
}

/// A token shows neither the email address, nor the phone number, nor
/// the channel: everything after the clear header is encrypted.
#[test]
fn tokens_do_not_show_the_phone_number_or_the_channel() {
    let store = at_now();
    let token = store
        .unsubscribe_token(&addr("+14155550123"), ListId::SYSTEM)
        .unwrap()
        .channel(Channel::new("newsletter-sender").unwrap());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(keys().sign(&token))
        .unwrap();
    let digits = 14155550123u64.to_le_bytes();
    assert!(!bytes.windows(8).any(|w| w == digits));
    assert!(!bytes.windows(4).any(|w| w == b"news"));
}

/// Email addresses travel as they were before alias folding; the store
/// that honours the click keys them by its own policy.
#[test]
fn folded_addresses_travel_unfolded_and_each_store_folds_by_its_policy() {
    let fold = Normalizer::builder()
        .email_aliases(EmailAliases::Fold)
        .build();
    let ann = fold.address("Ann.Lee+news@gmail.com").unwrap();
    let issuer = at_now();
    let token = issuer.unsubscribe_token(&ann, ListId::SYSTEM).unwrap();
    let unfolded = addr("ann.lee+news@gmail.com");
    assert_eq!(token.address(), Some(&unfolded));
    let link = keys().sign(&token);
    assert_eq!(
        keys().verify(&link, now()).unwrap().address(),
        Some(&unfolded)
    );

    let folding = Store::builder()
        .clock(now)
        .email_aliases(EmailAliases::Fold)
        .build()
        .unwrap();
    folding
        .unsubscribe_at(&keys(), &link, ONE_CLICK, now())
        .unwrap();
    assert!(on_system(&folding, "annlee@gmail.com"));
    let keeping = at_now();
    keeping
        .unsubscribe_at(&keys(), &link, ONE_CLICK, now())
        .unwrap();
    assert!(on_system(&keeping, "ann.lee+news@gmail.com"));
    assert!(!on_system(&keeping, "annlee@gmail.com"));
}

/// Every byte of a version-3 token, set to every other value, is refused.
#[test]
fn tampering_any_byte_of_a_v3_token_is_refused() {
    let store = at_now();
    let promo = store.create_list(ListSettings::new("Promotions")).unwrap();
    let token = store
        .unsubscribe_token(&addr("ann@example.com"), promo)
        .unwrap()
        .channel(Channel::new("news@example.com").unwrap())
        .expires(now().add_days(90));
    let text = keys().sign(&token);
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let bytes = engine.decode(&text).unwrap();
    assert_eq!(bytes[0], 3, "version 3");
    for i in 0..bytes.len() {
        for v in 0..=255u8 {
            if v == bytes[i] {
                continue;
            }
            let mut bad = bytes.clone();
            bad[i] = v;
            let got = keys().verify(&engine.encode(&bad), now());
            assert!(got.is_err(), "byte {i} set to {v} verified: {got:?}");
        }
    }
    // Removed or added bytes too.
    for cut in 0..bytes.len() {
        assert!(keys().verify(&engine.encode(&bytes[..cut]), now()).is_err());
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(keys().verify(&engine.encode(&longer), now()).is_err());
}

/// The longest token this crate can make (a 100-character channel name of
/// four-byte characters, a long address, an expiry) still verifies.
#[test]
fn the_longest_token_verifies() {
    let store = at_now();
    let local = "a".repeat(64);
    let domain = format!(
        "{}.{}.{}.example",
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(63)
    );
    let long = format!("{local}@{domain}");
    let token = store
        .unsubscribe_token(&addr(&long), ListId::SYSTEM)
        .unwrap()
        .channel(Channel::new(&"\u{1F600}".repeat(100)).unwrap())
        .expires(now());
    let text = keys().sign(&token);
    let verified = keys().verify(&text, now()).unwrap();
    assert_eq!(fields(&verified), fields(&token));
}

/// Typical token lengths: a phone, and 20- and 60-character addresses.
#[test]
fn token_lengths() {
    let store = at_now();
    let len = |a: &str| token_for(&store, a, ListId::SYSTEM).len();
    let email20 = format!("{}@example.com", "a".repeat(8));
    let email60 = format!("{}@example.com", "a".repeat(48));
    assert_eq!((email20.len(), email60.len()), (20, 60));
    assert_eq!(len("+14155550123"), 58);
    assert_eq!(len(&email20), 74);
    assert_eq!(len(&email60), 127);
}

/// Version-2 tokens, made before version 3 (commit 215dca0) with these
/// keys and clock (`keys()`, `now()`): ann (email index 0) on list 1
/// "Promotions" with channel `news@example.com` and a 90-day expiry; bob
/// (email index 1) on the system list; the phone `+14155550123` on the
/// system list with channel `sms5`.
const V2_ANN: &str = "AgEHAOiXtpoBAAAAAAAA5WEXvZcHisxl0VKsAQAAAAIS6WMQAG5ld3NAZXhhbXBsZS5jb20AQBSGnAEAAPbAvQxgCqAfFZ4bn2a0O7o";
const V2_BOB: &str = "AgEEAOiXtpoBAAABAAAA6pShKZXc9vPboJXtAAAAAIfZD6oGUgAsOCfBqH9H4idOBQom";
const V2_PHONE: &str = "AgEBAOiXtpoBAACrjbxLAwAAAAAAAACH2Q-qBABzbXM1Qfs2aIFGT2dRwddLUv1qKA";

/// Links already sent (version 2) keep working exactly as before: they
/// verify, name their index and digest, find the person by index or by
/// digest, and are refused when the store holds no such address.
#[test]
fn version_2_links_already_sent_still_work() {
    let ann_v2 = keys().verify(V2_ANN, now()).unwrap();
    assert_eq!(ann_v2.address(), None, "a version-2 email names an index");
    assert_eq!(ann_v2.list(), ListId::new(1));
    assert_eq!(
        ann_v2.channel_name(),
        Some(&Channel::new("news@example.com").unwrap())
    );
    assert_eq!(ann_v2.issued(), now());
    assert_eq!(ann_v2.expiry(), Some(now().add_days(90)));
    assert_eq!(
        keys().verify(V2_ANN, now().add_days(91)).map(drop),
        Err(TokenRejected::Expired)
    );
    // Signed again, a version-2 token is the same string: the old layout,
    // byte for byte.
    assert_eq!(keys().sign(&ann_v2), V2_ANN);
    let phone = keys().verify(V2_PHONE, now()).unwrap();
    assert_eq!(phone.address(), Some(&addr("+14155550123")));
    assert_eq!(phone.channel_name(), Some(&Channel::new("sms5").unwrap()));

    // The issuing store: ann at index 0, "Promotions" as list 1.
    let store = at_now();
    let promo = store.create_list(ListSettings::new("Promotions")).unwrap();
    store
        .opt_out(&addr("ann@example.com"), &Edit::new())
        .unwrap();
    let got = store
        .unsubscribe_at(&keys(), V2_ANN, Click::Get, now())
        .unwrap();
    let Unsubscribed::ConfirmationNeeded { token } = got else {
        panic!("{got:?}")
    };
    assert_eq!(token.address(), Some(&addr("ann@example.com")));
    let done = store
        .unsubscribe_at(&keys(), V2_ANN, ONE_CLICK, now())
        .unwrap();
    let Unsubscribed::Recorded { event, .. } = done else {
        panic!("{done:?}")
    };
    assert_eq!(event.email.as_deref(), Some("ann@example.com"));
    assert_eq!(event.list_name.as_deref(), Some("Promotions"));
    assert!(store.contains(promo, &Scope::Account, &addr("ann@example.com")));
    store
        .unsubscribe_at(&keys(), V2_PHONE, ONE_CLICK, now())
        .unwrap();
    assert!(on_system(&store, "+14155550123"));

    // A store where bob's index holds carol: the digest finds bob.
    let moved = at_now();
    moved
        .opt_out(&addr("zed@example.com"), &Edit::new().list(ListId::SYSTEM))
        .unwrap();
    let weekly = moved.create_list(ListSettings::new("Weekly")).unwrap();
    moved
        .opt_out(&addr("carol@example.com"), &Edit::new().list(weekly))
        .unwrap();
    moved
        .opt_out(&addr("bob@example.com"), &Edit::new().list(weekly))
        .unwrap();
    let done = moved
        .unsubscribe_at(&keys(), V2_BOB, ONE_CLICK, now())
        .unwrap();
    let Unsubscribed::Recorded { event, .. } = done else {
        panic!("{done:?}")
    };
    assert_eq!(event.email.as_deref(), Some("bob@example.com"));
    assert!(!on_system(&moved, "carol@example.com"));

    // A store without bob refuses his version-2 link, as before.
    let stranger = at_now();
    stranger
        .opt_out(&addr("zed@example.com"), &Edit::new())
        .unwrap();
    stranger
        .opt_out(&addr("carol@example.com"), &Edit::new())
        .unwrap();
    let err = stranger
        .unsubscribe_at(&keys(), V2_BOB, ONE_CLICK, now())
        .unwrap_err();
    assert_eq!(err.rejected(), Some(TokenRejected::UnknownRecipient));
    assert_eq!(stranger.history(..).len(), 2);
}

/// Every flipped bit of a version-2 token is refused, as before.
#[test]
fn every_flipped_bit_of_a_v2_token_is_refused() {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    for golden in [V2_ANN, V2_BOB, V2_PHONE] {
        let bytes = engine.decode(golden).unwrap();
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut bad = bytes.clone();
                bad[i] ^= 1 << bit;
                assert!(
                    keys().verify(&engine.encode(bad), now()).is_err(),
                    "byte {i} bit {bit}"
                );
            }
        }
    }
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

    /// Mint → sign → verify gives back every field, for any valid email
    /// address or phone number, list name, channel and expiry; and two
    /// distinct recipients' tokens never verify to each other's address.
    #[test]
    fn mint_then_verify_round_trips_and_never_names_another(
        local_a in "[a-z0-9][a-z0-9._+-]{0,40}",
        local_b in "[a-z0-9][a-z0-9._+-]{0,40}",
        domain in "[a-z][a-z0-9-]{0,20}\\.[a-z]{2,6}",
        phone in proptest::option::of(2_000_000u32..9_999_999),
        list_name in "[A-Za-z0-9][A-Za-z0-9 ]{0,40}",
        channel in proptest::option::of("\\PC{1,100}"),
        expires in proptest::option::of(-1_000i64..100_000),
        issued in 0i64..4_000_000_000,
    ) {
        let a = match phone {
            Some(n) => Normalizer::default().address(&format!("+1415{n}")),
            None => Normalizer::default().address(&format!("{local_a}@{domain}")),
        };
        let b = Normalizer::default().address(&format!("{local_b}@{domain}"));
        let (Ok(a), Ok(b)) = (a, b) else {
            return Err(TestCaseError::reject("not an address"));
        };
        let store = Store::builder()
            .clock(move || Timestamp::from_unix_secs(issued))
            .build()
            .unwrap();
        let Ok(list) = store.create_list(ListSettings::new(list_name.as_str())) else {
            return Err(TestCaseError::reject("not a list name"));
        };
        let channel = channel.and_then(|c| Channel::new(&c).ok());
        let mint = |who: &Address| {
            let mut t = store.unsubscribe_token(who, list).unwrap();
            if let Some(c) = &channel {
                t = t.channel(c.clone());
            }
            if let Some(days) = expires {
                t = t.expires(Timestamp::from_unix_secs(issued).add_days(days));
            }
            t
        };
        let (ta, tb) = (mint(&a), mint(&b));
        let at = Timestamp::from_unix_secs(issued);
        let va = keys().verify(&keys().sign(&ta), at).unwrap();
        prop_assert_eq!(fields(&va), fields(&ta));
        prop_assert_eq!(va.address(), Some(&a));
        let vb = keys().verify(&keys().sign(&tb), at).unwrap();
        prop_assert_eq!(vb.address(), Some(&b));
        if a != b {
            prop_assert_ne!(va.address(), Some(&b));
            prop_assert_ne!(vb.address(), Some(&a));
            prop_assert_ne!(keys().sign(&ta), keys().sign(&tb));
        }
        // The click records the person on the list the link names.
        store.unsubscribe_at(&keys(), &keys().sign(&ta), ONE_CLICK, at).unwrap();
        prop_assert!(store.contains(list, &Scope::Account, &a));
        prop_assert_eq!(store.contains(list, &Scope::Account, &b), a == b);
    }
}

/// A link names its list by id and by name. In a store where the id names
/// another list and the name names a third, both record the opt-out (fail
/// closed); where no list holds the name, the list with the id and the
/// system list do (the id may name an unrelated list there).
#[test]
fn links_leave_every_list_they_may_name_in_another_store() {
    let old = at_now();
    old.create_list(ListSettings::new("Promotions")).unwrap();
    let news = old.create_list(ListSettings::new("Newsletter")).unwrap();
    let link = token_for(&old, "+14155550123", news);
    let a = addr("+14155550123");

    let new = at_now();
    let news_here = new.create_list(ListSettings::new("Newsletter")).unwrap();
    let promo_here = new.create_list(ListSettings::new("Promotions")).unwrap();
    assert_eq!(promo_here, news, "the old id names another list here");
    let done = new
        .unsubscribe_at(&keys(), &link, ONE_CLICK, now())
        .unwrap();
    let Unsubscribed::Recorded { others, .. } = done else {
        panic!("{done:?}")
    };
    assert_eq!(others.len(), 1);
    assert!(new.contains(news_here, &Scope::Account, &a));
    assert!(new.contains(promo_here, &Scope::Account, &a));
    assert!(!on_system(&new, "+14155550123"));
    // No list holds the name; the id names a list: that list and the
    // system list record it.
    let third = at_now();
    third.create_list(ListSettings::new("Promotions")).unwrap();
    let weekly = third.create_list(ListSettings::new("Weekly news")).unwrap();
    third
        .unsubscribe_at(&keys(), &link, ONE_CLICK, now())
        .unwrap();
    assert!(third.contains(weekly, &Scope::Account, &a));
    assert!(on_system(&third, "+14155550123"));
}

/// In the issuing store: a list renamed since its links were sent still
/// records them, and — since no list holds the name the link was made
/// for, and a store cannot tell its own links from another's — so does
/// the system list (fail closed); when another list has taken the old
/// name, both lists record the opt-out; a deleted list hands it to the
/// system list.
#[test]
fn a_renamed_list_or_a_moved_name_records_on_every_candidate() {
    let ann = addr("ann@example.com");
    // Renamed: the list with the id records it, and the system list.
    let store = at_now();
    let promo = store.create_list(ListSettings::new("Promotions")).unwrap();
    let link = token_for(&store, "ann@example.com", promo);
    store
        .update_list(promo, ListSettings::new("Deals"))
        .unwrap();
    let done = store
        .unsubscribe_at(&keys(), &link, ONE_CLICK, now())
        .unwrap();
    let Unsubscribed::Recorded { event, others, .. } = done else {
        panic!("{done:?}")
    };
    let mut names: Vec<Option<String>> = std::iter::once(event)
        .chain(others)
        .map(|e| e.list_name)
        .collect();
    names.sort();
    assert_eq!(
        names,
        [Some("Deals".to_owned()), Some("Default".to_owned())]
    );
    assert!(store.contains(promo, &Scope::Account, &ann));
    assert!(on_system(&store, "ann@example.com"));

    // Renamed, and a new list took the old name: both record it.
    let store = at_now();
    let promo = store.create_list(ListSettings::new("Promotions")).unwrap();
    let link = token_for(&store, "ann@example.com", promo);
    store
        .update_list(promo, ListSettings::new("Deals"))
        .unwrap();
    let promo2 = store.create_list(ListSettings::new("promotions")).unwrap();
    let done = store
        .unsubscribe_at(&keys(), &link, ONE_CLICK, now())
        .unwrap();
    let Unsubscribed::Recorded { event, others, .. } = done else {
        panic!("{done:?}")
    };
    let mut names = vec![event.list_name.clone().unwrap()];
    names.extend(others.iter().map(|e| e.list_name.clone().unwrap()));
    names.sort();
    assert_eq!(names, ["Deals", "promotions"]);
    assert!(store.contains(promo, &Scope::Account, &ann));
    assert!(store.contains(promo2, &Scope::Account, &ann));
    assert!(!on_system(&store, "ann@example.com"));
    let again = store
        .unsubscribe_at(&keys(), &link, ONE_CLICK, now())
        .unwrap();
    assert!(matches!(again, Unsubscribed::AlreadyOptedOut { .. }));

    // Deleted, and another list took its name: that list records it.
    let store = at_now();
    let promo = store.create_list(ListSettings::new("Promotions")).unwrap();
    let link = token_for(&store, "ann@example.com", promo);
    store.delete_list(promo).unwrap();
    let promo2 = store.create_list(ListSettings::new("Promotions")).unwrap();
    store
        .unsubscribe_at(&keys(), &link, ONE_CLICK, now())
        .unwrap();
    assert!(store.contains(promo2, &Scope::Account, &ann));
}

/// A token read from a link and signed again after a key rotation stays
/// under the key its list binding was made with: the re-signed link still
/// records on its list, for its person.
#[test]
fn a_link_signed_again_after_rotation_keeps_its_bindings() {
    let store = at_now();
    let news = store.create_list(ListSettings::new("Newsletter")).unwrap();
    let text = token_for(&store, "ann@example.com", news);
    let rotated = UnsubscribeKeys::new(2, b"the new secret of 32 bytes, or so")
        .unwrap()
        .accept(1, b"0123456789abcdef0123456789abcdef")
        .unwrap();
    let read = rotated.verify(&text, now()).unwrap();
    let again = rotated.sign(&read);
    let done = store
        .unsubscribe_at(&rotated, &again, ONE_CLICK, now())
        .unwrap();
    let Unsubscribed::Recorded { others, .. } = done else {
        panic!("{done:?}")
    };
    assert!(others.is_empty(), "recorded on more lists than its own");
    assert!(store.contains(news, &Scope::Account, &addr("ann@example.com")));
    assert!(!on_system(&store, "ann@example.com"));
}
