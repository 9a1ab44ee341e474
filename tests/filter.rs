//! The send filter, scenario by scenario, as the platforms behave; and the
//! laws it keeps for any audience.

use optout::address::Region;
use optout::error::ErrorKind;
use optout::filter::{Outcome, SkipReason};
use optout::model::{Category, Channel, KeywordScope, ListId, Scope, Source, Timestamp};
use optout::store::{Edit, ListSettings};
use optout::{Address, AddressId, Dispatch, Error, Normalizer, Store};
use proptest::prelude::*;
use roaring::RoaringTreemap;

fn us() -> Normalizer {
    Normalizer::new(Region::new("US").unwrap())
}

fn phone(i: u64) -> String {
    format!("+1415555{:04}", i)
}

fn addr(n: &Normalizer, s: &str) -> Address {
    n.address(s).unwrap()
}

fn ch_a() -> Channel {
    Channel::new("+14155550100").unwrap()
}

fn ch_b() -> Channel {
    Channel::new("sms2").unwrap()
}

fn marketing(channel: Channel) -> Dispatch {
    Dispatch::new(Category::Marketing).channel(channel)
}

#[test]
fn thousand_recipients_fifty_opted_out() {
    let n = us();
    let store = Store::new();
    let audience: Vec<String> = (0..1000).map(phone).collect();
    for i in (0..1000).step_by(20) {
        store.opt_out(&addr(&n, &phone(i)), &Edit::new()).unwrap();
    }
    let split = store
        .compile(&marketing(ch_a()))
        .unwrap()
        .split(&n, &audience);
    assert_eq!(split.report().sendable, 950);
    assert_eq!(split.report().opted_out, 50);
    assert_eq!(
        split.report().to_string(),
        "950 sendable, 50 skipped (opted-out)"
    );
    for (i, reason, address) in split.skipped() {
        assert_eq!(i % 20, 0);
        assert_eq!(reason.to_string(), "Optout Number");
        assert_eq!(address.map(|a| a.to_string()), Some(phone(i as u64)));
    }
}

#[test]
fn opted_out_still_gets_utility_and_otp_blocked_gets_nothing() {
    let n = us();
    let store = Store::new();
    let opted = addr(&n, "(415) 555-0001");
    let blocked = addr(&n, "(415) 555-0002");
    store.opt_out(&opted, &Edit::new()).unwrap();
    store.block(&blocked, &Edit::new()).unwrap();
    let audience = ["(415) 555-0001", "(415) 555-0002", "(415) 555-0003"];
    for (category, expected) in [
        (
            Category::Marketing,
            [Some(SkipReason::OptedOut), Some(SkipReason::Blocked), None],
        ),
        (Category::Utility, [None, Some(SkipReason::Blocked), None]),
        (
            Category::Authentication,
            [None, Some(SkipReason::Blocked), None],
        ),
    ] {
        let split = store
            .compile(&Dispatch::new(category).channel(ch_a()))
            .unwrap()
            .split(&n, &audience);
        let got: Vec<Option<SkipReason>> =
            split.outcomes().iter().map(Outcome::skip_reason).collect();
        assert_eq!(got, expected, "{category:?}");
    }
}

#[test]
fn blocked_wins_over_opted_out() {
    let n = us();
    let store = Store::new();
    let a = addr(&n, "(415) 555-0001");
    store.opt_out(&a, &Edit::new()).unwrap();
    store.block(&a, &Edit::new()).unwrap();
    assert_eq!(
        store.check(&a, &marketing(ch_a())).unwrap(),
        Some(SkipReason::Blocked)
    );
}

#[test]
fn channel_scopes() {
    let n = us();
    let store = Store::new();
    let only_a = addr(&n, "(415) 555-0001");
    let everywhere = addr(&n, "(415) 555-0002");
    store
        .opt_out(&only_a, &Edit::new().scope(Scope::Channel(ch_a())))
        .unwrap();
    store
        .opt_out(&everywhere, &Edit::new().scope(Scope::Account))
        .unwrap();
    let check = |x: &Address, ch| store.check(x, &marketing(ch)).unwrap();
    assert_eq!(check(&only_a, ch_a()), Some(SkipReason::OptedOut));
    assert_eq!(check(&only_a, ch_b()), None);
    assert_eq!(check(&everywhere, ch_a()), Some(SkipReason::OptedOut));
    assert_eq!(check(&everywhere, ch_b()), Some(SkipReason::OptedOut));
    // A send that names no channel honours every channel's entries.
    assert_eq!(
        store
            .check(&only_a, &Dispatch::new(Category::Marketing))
            .unwrap(),
        Some(SkipReason::OptedOut)
    );
}

#[test]
fn enforcing_channel_turns_keyword_opt_outs_account_wide() {
    let n = us();
    let store = Store::new();
    store
        .set_keyword_scope(&ch_a(), KeywordScope::Account)
        .unwrap();
    let a = addr(&n, "(415) 555-0001");
    let keyword = Edit::new()
        .scope(Scope::Channel(ch_a()))
        .source(Source::Keyword);
    let changes = store.opt_out(&a, &keyword).unwrap();
    assert_eq!(changes[0].scope, Scope::Account);
    assert_eq!(
        store.check(&a, &marketing(ch_b())).unwrap(),
        Some(SkipReason::OptedOut)
    );
    // A manual channel-scoped entry on that channel stays channel-scoped.
    let b = addr(&n, "(415) 555-0002");
    store
        .opt_out(&b, &Edit::new().scope(Scope::Channel(ch_a())))
        .unwrap();
    assert_eq!(store.check(&b, &marketing(ch_b())).unwrap(), None);
    // A non-enforcing channel keeps keyword opt-outs on itself.
    let c = addr(&n, "(415) 555-0003");
    store
        .opt_out(
            &c,
            &Edit::new()
                .scope(Scope::Channel(ch_b()))
                .source(Source::Keyword),
        )
        .unwrap();
    assert_eq!(store.check(&c, &marketing(ch_a())).unwrap(), None);
}

#[test]
fn web_form_opt_outs_are_account_wide() {
    let n = us();
    let store = Store::new();
    let a = addr(&n, "ann@example.com");
    store
        .opt_out(
            &a,
            &Edit::new()
                .scope(Scope::Channel(ch_a()))
                .source(Source::WebForm),
        )
        .unwrap();
    assert_eq!(
        store.check(&a, &marketing(ch_b())).unwrap(),
        Some(SkipReason::OptedOut)
    );
}

#[test]
fn deleting_a_list_reenables_nobody_still_on_another() {
    let n = us();
    let store = Store::new();
    let promo = store.create_list(ListSettings::new("Promotions")).unwrap();
    let news = store.create_list(ListSettings::new("Newsletter")).unwrap();
    let both = addr(&n, "(415) 555-0001");
    let promo_only = addr(&n, "(415) 555-0002");
    let system_too = addr(&n, "(415) 555-0003");
    store
        .opt_out(&both, &Edit::new().lists_of([promo, news]))
        .unwrap();
    store
        .opt_out(&promo_only, &Edit::new().list(promo))
        .unwrap();
    store
        .opt_out(&system_too, &Edit::new().lists_of([promo, ListId::SYSTEM]))
        .unwrap();
    store.delete_list(promo).unwrap();
    let send = marketing(ch_a()).honour(news);
    assert_eq!(
        store.check(&both, &send).unwrap(),
        Some(SkipReason::OptedOut)
    );
    assert_eq!(store.check(&promo_only, &send).unwrap(), None);
    assert_eq!(
        store.check(&system_too, &send).unwrap(),
        Some(SkipReason::OptedOut)
    );
    assert!(matches!(
        store.delete_list(ListId::SYSTEM).map_err(Error::into_kind),
        Err(ErrorKind::SystemList { .. })
    ));
    assert!(matches!(
        store.delete_list(promo).map_err(Error::into_kind),
        Err(ErrorKind::UnknownList(_))
    ));
    // The name is free again; the old id stays dead.
    let again = store.create_list(ListSettings::new("Promotions")).unwrap();
    assert_ne!(again, promo);
}

#[test]
fn custom_lists_are_honoured_only_when_named() {
    let n = us();
    let store = Store::new();
    let promo = store.create_list(ListSettings::new("Promotions")).unwrap();
    let a = addr(&n, "(415) 555-0001");
    store.opt_out(&a, &Edit::new().list(promo)).unwrap();
    assert_eq!(store.check(&a, &marketing(ch_a())).unwrap(), None);
    assert_eq!(
        store.check(&a, &marketing(ch_a()).honour(promo)).unwrap(),
        Some(SkipReason::OptedOut)
    );
}

#[test]
fn one_number_written_three_ways_is_sent_once() {
    let n = us();
    let store = Store::new();
    let audience = ["+14155550123", "(415) 555-0123", "tel:+1-415-555-0123"];
    let split = store
        .compile(&marketing(ch_a()))
        .unwrap()
        .split(&n, &audience);
    let got: Vec<Option<SkipReason>> = split.outcomes().iter().map(Outcome::skip_reason).collect();
    assert_eq!(
        got,
        [
            None,
            Some(SkipReason::Duplicate),
            Some(SkipReason::Duplicate)
        ]
    );
    assert_eq!(
        split.report().to_string(),
        "1 sendable, 2 skipped (duplicate)"
    );
}

#[test]
fn unknown_emails_are_deduplicated_and_invalid_inputs_reported() {
    let n = us();
    let store = Store::new();
    let audience = ["Ann@Example.com", "ann@example.com ", "nope@", "hello", ""];
    let split = store
        .compile(&marketing(ch_a()))
        .unwrap()
        .split(&n, &audience);
    let got: Vec<String> = split
        .outcomes()
        .iter()
        .map(|o| o.skip_reason().map_or("send".into(), |r| r.to_string()))
        .collect();
    assert_eq!(
        got,
        [
            "send",
            "Duplicate",
            "Invalid Email",
            "Invalid Number",
            "Invalid Number"
        ]
    );
}

#[test]
fn a_change_before_compile_is_honoured_a_change_after_is_not() {
    let n = us();
    let store = Store::new();
    let a = addr(&n, "(415) 555-0001");
    store.opt_out(&a, &Edit::new()).unwrap();
    let compiled = store.compile(&marketing(ch_a())).unwrap();
    store.opt_in(&a, &Edit::new()).unwrap();
    assert_eq!(compiled.check(&a), Some(SkipReason::OptedOut));
    assert_eq!(store.compile(&marketing(ch_a())).unwrap().check(&a), None);
}

#[test]
fn list_settings_violations_change_nothing() {
    /// Runs a change that must be refused; checks that the lists and the
    /// history are as they were, and returns the error.
    fn refused<T: std::fmt::Debug>(
        store: &Store,
        change: impl FnOnce(&Store) -> Result<T, Error>,
    ) -> ErrorKind {
        let (lists, history, seq) = (store.lists(), store.history(..), store.seq());
        let err = change(store).expect_err("the change should be refused");
        assert_eq!(store.lists(), lists, "{err}");
        assert_eq!(store.history(..), history, "{err}");
        assert_eq!(store.seq(), seq, "{err}: nothing was logged");
        err.into_kind()
    }
    let store = Store::new();
    let a = store
        .create_list(ListSettings::new("A").keyword("STOPA"))
        .unwrap();
    let someone = addr(&us(), "(415) 555-0100");
    store.opt_out(&someone, &Edit::new().list(a)).unwrap();
    assert!(matches!(
        refused(&store, |s| s.create_list(ListSettings::new("n".repeat(51)))),
        ErrorKind::TooLong {
            field: optout::error::ListField::Name,
            limit: 50,
            actual: 51
        }
    ));
    // Limits count characters, not bytes: 50 accented letters fit.
    assert!(store.create_list(ListSettings::new("é".repeat(50))).is_ok());
    assert!(matches!(
        refused(&store, |s| s
            .create_list(ListSettings::new("B").webhook("ftp://x"))),
        ErrorKind::InvalidList {
            field: optout::error::ListField::Webhook,
            ..
        }
    ));
    assert!(matches!(
        refused(&store, |s| s
            .create_list(ListSettings::new("B").keyword("stopa"))),
        ErrorKind::DuplicateKeyword { .. }
    ));
    assert!(matches!(
        refused(&store, |s| s.create_list(ListSettings::new(" a "))),
        ErrorKind::DuplicateName { .. }
    ));
    assert!(matches!(
        refused(&store, |s| s.update_list(
            a,
            ListSettings::new("A").description("d".repeat(301))
        )),
        ErrorKind::TooLong {
            field: optout::error::ListField::Description,
            ..
        }
    ));
    assert!(matches!(
        refused(&store, |s| s.update_list(
            a,
            ListSettings::new("A").confirmation("c".repeat(301))
        )),
        ErrorKind::TooLong {
            field: optout::error::ListField::Confirmation,
            ..
        }
    ));
    assert!(matches!(
        refused(&store, |s| s
            .update_list(ListId::SYSTEM, ListSettings::new("Renamed"))),
        ErrorKind::SystemList { .. }
    ));
    assert!(matches!(
        refused(&store, |s| s.delete_list(ListId::SYSTEM)),
        ErrorKind::SystemList { .. }
    ));
    store.delete_list(a).unwrap();
    assert!(matches!(
        refused(&store, |s| s.update_list(a, ListSettings::new("A"))),
        ErrorKind::UnknownList(_)
    ));
    assert!(matches!(
        refused(&store, |s| s.delete_list(a)),
        ErrorKind::UnknownList(_)
    ));
    assert!(matches!(
        refused(&store, |s| s.opt_out(&someone, &Edit::new().list(a))),
        ErrorKind::UnknownList(_)
    ));
}

#[test]
fn history_by_date_range_with_source_scope_and_list() {
    let n = us();
    let store = Store::builder()
        .clock(|| Timestamp::from_unix_secs(1_000))
        .build()
        .unwrap();
    let t = Timestamp::from_unix_secs;
    let a = addr(&n, "(415) 555-0001");
    store
        .opt_out(
            &a,
            &Edit::new()
                .at(t(100))
                .source(Source::Keyword)
                .scope(Scope::Channel(ch_a())),
        )
        .unwrap();
    store
        .opt_in(
            &a,
            &Edit::new()
                .at(t(200))
                .source(Source::Keyword)
                .scope(Scope::Channel(ch_a())),
        )
        .unwrap();
    store.opt_out(&a, &Edit::new().source(Source::Api)).unwrap(); // clock: 1000
    let all = store.history(..);
    assert_eq!(all.len(), 3);
    assert_eq!(all[2].at, t(1_000));
    let window = store.history(t(150)..t(1_000));
    assert_eq!(window.len(), 1);
    assert_eq!(window[0].action, optout::model::Action::OptIn);
    assert_eq!(window[0].list, Some(ListId::SYSTEM));
    assert_eq!(window[0].scope, Scope::Channel(ch_a()));
    assert_eq!(window[0].source, Source::Keyword);
    assert_eq!(window[0].address, a.phone_id().unwrap());
}

#[test]
fn bulk_changes_are_recorded_and_counted() {
    let n = us();
    let store = Store::new();
    let people: Vec<Address> = (0..100).map(|i| addr(&n, &phone(i))).collect();
    let bulk = store
        .opt_out_many(&people, &Edit::new().source(Source::Import))
        .unwrap();
    assert_eq!((bulk.changed, bulk.unchanged), (100, 0));
    assert_eq!(store.count(ListId::SYSTEM).unwrap(), 100);
    assert_eq!(store.history(..).len(), 100);
    assert!(store.history(..).iter().all(|c| c.source == Source::Import));
    let back = store.opt_in_many(&people[..10], &Edit::new()).unwrap();
    assert_eq!(back.changed, 10);
    assert_eq!(store.count(ListId::SYSTEM).unwrap(), 90);
}

#[test]
fn ids_and_bitmap_paths_agree_with_the_address_path() {
    let n = us();
    let store = Store::new();
    for i in (0..200).step_by(7) {
        store.opt_out(&addr(&n, &phone(i)), &Edit::new()).unwrap();
    }
    store.block(&addr(&n, &phone(3)), &Edit::new()).unwrap();
    let compiled = store.compile(&marketing(ch_a())).unwrap();
    let ids: Vec<AddressId> = (0..200)
        .map(|i| addr(&n, &phone(i)).phone_id().unwrap())
        .collect();
    let by_id = compiled.split_ids(&ids);
    let addresses: Vec<Address> = (0..200).map(|i| addr(&n, &phone(i))).collect();
    let by_address = compiled.split_addresses(&addresses);
    let expected: Vec<Option<SkipReason>> = by_address
        .outcomes()
        .iter()
        .map(Outcome::skip_reason)
        .collect();
    assert_eq!(by_id.verdicts(), expected.as_slice());
    let audience: RoaringTreemap = ids.iter().map(|id| id.get()).collect();
    let bitmap = compiled.split_bitmap(&audience);
    assert_eq!(bitmap.report(), *by_id.report());
    assert!(bitmap.blocked.contains(ids[3].get()));
}

#[test]
fn shared_types_are_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<Store>();
    check::<optout::Suppression>();
    check::<optout::filter::Split>();
    check::<optout::filter::IdSplit>();
    check::<Dispatch>();
    check::<Edit>();
}

/// An arbitrary audience entry: an index into a small pool of people, a
/// layout to write them in, or junk.
#[derive(Clone, Debug)]
enum Entry {
    Person { who: u8, layout: u8 },
    Email { who: u8, upper: bool },
    Junk(String),
}

fn entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        6 => (0u8..40, 0u8..4).prop_map(|(who, layout)| Entry::Person { who, layout }),
        2 => (0u8..10, any::<bool>()).prop_map(|(who, upper)| Entry::Email { who, upper }),
        1 => "[a-z0-9@+ ]{0,8}".prop_map(Entry::Junk),
    ]
}

fn render(e: &Entry) -> String {
    match e {
        Entry::Person { who, layout } => {
            let local = format!("555{:04}", 100 + u32::from(*who));
            match layout {
                0 => format!("+1415{local}"),
                1 => format!("(415) {}-{}", &local[..3], &local[3..]),
                2 => format!("tel:+1-415-{}-{}", &local[..3], &local[3..]),
                _ => format!("1 415 {} {}", &local[..3], &local[3..]),
            }
        }
        Entry::Email { who, upper } => {
            let e = format!("person{who}@example.com");
            if *upper { e.to_uppercase() } else { e }
        }
        Entry::Junk(s) => s.clone(),
    }
}

/// A store with the pool's people opted out (written in E.164), blocked
/// (written nationally) and emails opted out, as the property tests draw them.
fn store_of(n: &Normalizer, opted: &[u8], blocked: &[u8], opted_emails: &[u8]) -> Store {
    let store = Store::new();
    for &who in opted {
        let a = addr(n, &render(&Entry::Person { who, layout: 0 }));
        store.opt_out(&a, &Edit::new()).unwrap();
    }
    for &who in blocked {
        let a = addr(n, &render(&Entry::Person { who, layout: 1 }));
        store.block(&a, &Edit::new()).unwrap();
    }
    for &who in opted_emails {
        let a = addr(n, &render(&Entry::Email { who, upper: false }));
        store.opt_out(&a, &Edit::new()).unwrap();
    }
    store
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Every input is accounted for exactly once and in order; the batch
    /// filter agrees with the single-address check; duplicates are exactly
    /// the later sendable occurrences of a person.
    #[test]
    fn every_input_accounted_for_once(
        audience in proptest::collection::vec(entry(), 0..120),
        opted in proptest::collection::vec(0u8..40, 0..15),
        blocked in proptest::collection::vec(0u8..40, 0..5),
        opted_emails in proptest::collection::vec(0u8..10, 0..4),
        category in prop::sample::select(vec![Category::Marketing, Category::Utility, Category::Authentication]),
    ) {
        let n = us();
        let store = store_of(&n, &opted, &blocked, &opted_emails);
        let dispatch = Dispatch::new(category).channel(ch_a());
        let inputs: Vec<String> = audience.iter().map(render).collect();
        let split = store.compile(&dispatch).unwrap().split(&n, &inputs);

        prop_assert_eq!(split.len(), inputs.len());
        prop_assert_eq!(split.report().total(), inputs.len() as u64);
        let mut seen = std::collections::HashSet::new();
        for (input, outcome) in inputs.iter().zip(split.outcomes()) {
            match n.address(input) {
                Err(invalid) => prop_assert_eq!(outcome.skip_reason(), Some(SkipReason::from(invalid))),
                Ok(address) => {
                    prop_assert_eq!(outcome.address(), Some(&address));
                    let single = store.check(&address, &dispatch).unwrap();
                    let key = address.to_string();
                    match single {
                        Some(reason) => prop_assert_eq!(outcome.skip_reason(), Some(reason)),
                        None if seen.insert(key) => prop_assert!(outcome.is_sendable()),
                        None => prop_assert_eq!(outcome.skip_reason(), Some(SkipReason::Duplicate)),
                    }
                }
            }
        }
        let sendable = split.sendable().count() as u64;
        prop_assert_eq!(sendable, split.report().sendable);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// A split fed in chunks of random sizes gives, input for input, what
    /// the split of the whole audience gives — duplicates across chunks
    /// included — and the same report; the ids path too.
    #[test]
    fn a_streamed_split_is_the_whole_split(
        audience in proptest::collection::vec(entry(), 0..150),
        cuts in proptest::collection::vec(0usize..40, 0..12),
        opted in proptest::collection::vec(0u8..40, 0..15),
        blocked in proptest::collection::vec(0u8..40, 0..5),
        opted_emails in proptest::collection::vec(0u8..10, 0..4),
        category in prop::sample::select(vec![Category::Marketing, Category::Utility, Category::Authentication]),
    ) {
        let n = us();
        let store = store_of(&n, &opted, &blocked, &opted_emails);
        let suppression = store.compile(&Dispatch::new(category).channel(ch_a())).unwrap();
        let inputs: Vec<String> = audience.iter().map(render).collect();
        let whole = suppression.split(&n, &inputs);

        // Chunk boundaries from the random cuts (empty chunks included).
        let mut stream = suppression.stream();
        let mut verdicts = Vec::new();
        let mut rest: &[String] = &inputs;
        for cut in cuts.iter().chain(std::iter::once(&usize::MAX)) {
            let (chunk, tail) = rest.split_at((*cut).min(rest.len()));
            stream.push(&n, chunk, &mut verdicts);
            rest = tail;
        }
        prop_assert_eq!(verdicts.len(), inputs.len());
        prop_assert_eq!(&stream.report(), whole.report());
        for (k, (verdict, outcome)) in verdicts.iter().zip(whole.outcomes()).enumerate() {
            prop_assert_eq!(verdict.reason(), outcome.skip_reason(), "input {}: {:?}", k, inputs[k]);
            let id = outcome.address().and_then(|a| store.id(a));
            prop_assert_eq!(verdict.id(), id, "input {}: {:?}", k, inputs[k]);
        }

        // The ids of the valid phone inputs, streamed the same way.
        let ids: Vec<AddressId> = inputs
            .iter()
            .filter_map(|i| n.address(i).ok().and_then(|a| a.phone_id()))
            .collect();
        let whole = suppression.split_ids(&ids);
        let mut stream = suppression.stream();
        let mut verdicts = Vec::new();
        let mut rest: &[AddressId] = &ids;
        for cut in cuts.iter().chain(std::iter::once(&usize::MAX)) {
            let (chunk, tail) = rest.split_at((*cut).min(rest.len()));
            stream.push_ids(chunk, &mut verdicts);
            rest = tail;
        }
        let reasons: Vec<Option<SkipReason>> = verdicts.iter().map(|v| v.reason()).collect();
        prop_assert_eq!(reasons.as_slice(), whole.verdicts());
        prop_assert_eq!(&stream.report(), whole.report());
    }
}

/// A streamed split of 200,000 inputs in chunks of 7,000 (so parallel
/// pieces and shards are exercised) against the whole split: the first
/// occurrence wins across chunks, and its memory holds only the people
/// sent to.
#[test]
fn a_streamed_split_of_many_chunks_is_the_whole_split() {
    let n = us();
    let store = Store::new();
    let number = |i: u64| 14_150_000_000 + i * 37;
    let opted: Vec<AddressId> = (0..100_000u64)
        .filter(|i| i.is_multiple_of(7))
        .filter_map(|i| AddressId::new(number(i)))
        .collect();
    store.opt_out_ids(&opted, &Edit::new()).unwrap();
    let suppression = store.compile(&marketing(ch_a())).unwrap();
    // Everyone once in E.164, then again in reverse in a national layout,
    // with emails and junk between.
    let inputs: Vec<String> = (0..100_000u64)
        .map(|i| format!("+{}", number(i)))
        .chain((0..100_000u64).rev().map(|i| {
            let d = number(i) - 10_000_000_000;
            match i % 50 {
                0 => format!("person{}@Example.com", i % 1000),
                1 => "not a number".to_owned(),
                _ => format!(
                    "({}) {:03}-{:04}",
                    d / 10_000_000,
                    d / 10_000 % 1000,
                    d % 10_000
                ),
            }
        }))
        .collect();
    let whole = suppression.split(&n, &inputs);
    let mut stream = suppression.stream();
    let mut verdicts = Vec::new();
    for chunk in inputs.chunks(7_000) {
        stream.push(&n, chunk, &mut verdicts);
    }
    let reasons: Vec<Option<SkipReason>> = verdicts.iter().map(|v| v.reason()).collect();
    let expected: Vec<Option<SkipReason>> =
        whole.outcomes().iter().map(|o| o.skip_reason()).collect();
    assert_eq!(reasons, expected);
    assert_eq!(&stream.report(), whole.report());
    // Later national spellings of people sent to, and 2,000 emails of 20
    // people.
    let repeats = (0..100_000u64)
        .filter(|i| i % 50 > 1 && !i.is_multiple_of(7))
        .count();
    assert_eq!(stream.report().duplicate, (repeats + 2_000 - 20) as u64);
    // 16 bytes a slot at most twice the people sent to, plus the emails.
    let people = stream.report().sendable as usize;
    assert!(
        stream.memory() <= people * 8 * 4 + 64 * 1024 * 8 + 1_000 * 64,
        "{}",
        stream.memory()
    );
}

/// Duplicates far apart land in different parallel chunks (each at least
/// 65,536 inputs): the first occurrence still wins, whichever chunk and
/// shard it is in.
#[test]
fn duplicates_across_parallel_chunks() {
    let n = us();
    let store = Store::new();
    let people = 80_000u64;
    let number = |i: u64| 14_150_000_000 + i * 37;
    let opted: Vec<AddressId> = (0..people)
        .filter(|i| i.is_multiple_of(7))
        .filter_map(|i| AddressId::new(number(i)))
        .collect();
    store.opt_out_ids(&opted, &Edit::new()).unwrap();
    let suppression = store
        .compile(&Dispatch::new(Category::Marketing).channel(ch_a()))
        .unwrap();
    let expect = |first: bool, i: u64| match (i.is_multiple_of(7), first) {
        (true, _) => Some(SkipReason::OptedOut),
        (false, true) => None,
        (false, false) => Some(SkipReason::Duplicate),
    };

    // Ids: everyone, then everyone again in reverse order.
    let order: Vec<u64> = (0..people).chain((0..people).rev()).collect();
    let ids: Vec<AddressId> = order
        .iter()
        .filter_map(|&i| AddressId::new(number(i)))
        .collect();
    let split = suppression.split_ids(&ids);
    for (k, (&i, verdict)) in order.iter().zip(split.verdicts()).enumerate() {
        assert_eq!(*verdict, expect(k < people as usize, i), "input {k}");
    }

    // Strings: E.164 first, national layout later.
    let inputs: Vec<String> = order
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let d = number(i) - 10_000_000_000;
            if k < people as usize {
                format!("+1{d}")
            } else {
                format!(
                    "({}) {:03}-{:04}",
                    d / 10_000_000,
                    d / 10_000 % 1000,
                    d % 10_000
                )
            }
        })
        .collect();
    let split = suppression.split(&n, &inputs);
    for (k, (&i, outcome)) in order.iter().zip(split.outcomes()).enumerate() {
        assert_eq!(
            outcome.skip_reason(),
            expect(k < people as usize, i),
            "input {k}: {}",
            inputs[k]
        );
    }
    let opted_people = people.div_ceil(7);
    assert_eq!(split.report().sendable, people - opted_people);
    assert_eq!(split.report().opted_out, 2 * opted_people);
    assert_eq!(split.report().duplicate, people - opted_people);
}

/// A stale list id in a utility or OTP dispatch does not hold up the send
/// (those categories honour no list); a marketing send that names it is
/// refused rather than sent unfiltered.
#[test]
fn a_deleted_list_stops_only_marketing_sends() {
    let n = us();
    let store = Store::new();
    let promo = store.create_list(ListSettings::new("Promo")).unwrap();
    let blocked = addr(&n, "(415) 555-0100");
    store.block(&blocked, &Edit::new()).unwrap();
    store.delete_list(promo).unwrap();
    for category in [Category::Utility, Category::Authentication] {
        let send = Dispatch::new(category).channel(ch_a()).honour(promo);
        let split = store
            .compile(&send)
            .unwrap()
            .split(&n, &["(415) 555-0100", "(415) 555-0101"]);
        assert_eq!(
            split.report().to_string(),
            "1 sendable, 1 skipped (blocked)"
        );
        assert_eq!(
            store.check(&blocked, &send).unwrap(),
            Some(SkipReason::Blocked)
        );
    }
    let marketing = Dispatch::new(Category::Marketing)
        .channel(ch_a())
        .honour(promo);
    assert!(matches!(
        store.compile(&marketing).map_err(Error::into_kind),
        Err(ErrorKind::UnknownList(_))
    ));
    assert!(matches!(
        store.check(&blocked, &marketing).map_err(Error::into_kind),
        Err(ErrorKind::UnknownList(_))
    ));
}

/// A send that names no channel cannot tell which channel's opt-outs
/// apply, so all of them do (fail closed). Today's main found a person who
/// had sent STOP on one channel sendable by such a send.
#[test]
fn a_send_naming_no_channel_honours_every_channel() {
    let n = us();
    let store = Store::new();
    let ann = addr(&n, "(415) 555-0001");
    let sms = Channel::new("sms1").unwrap();
    store.inbound(&ann, &sms, "STOP").unwrap();
    let any = Dispatch::new(Category::Marketing);
    assert_eq!(store.check(&ann, &any).unwrap(), Some(SkipReason::OptedOut));
    let split = store.compile(&any).unwrap().split(&n, &["(415) 555-0001"]);
    assert_eq!(split.report().opted_out, 1);
    // Named channels keep their scopes.
    assert_eq!(store.check(&ann, &marketing(ch_b())).unwrap(), None);
    assert_eq!(
        store.check(&ann, &marketing(sms)).unwrap(),
        Some(SkipReason::OptedOut)
    );
}

/// The store owns its email alias policy: whatever normalizer records an
/// opt-out or checks a send, every spelling the policy treats as one
/// person is suppressed. Today's main missed a Fold-recorded opt-out on a
/// Keep send, and the reverse.
#[test]
fn the_store_owns_email_alias_folding() {
    use optout::address::EmailAliases;
    let keep = Normalizer::default();
    let fold = Normalizer::builder()
        .email_aliases(EmailAliases::Fold)
        .build();
    let send = Dispatch::new(Category::Marketing);
    for (record_with, send_with) in [(&fold, &keep), (&keep, &fold), (&keep, &keep)] {
        let store = Store::builder()
            .email_aliases(EmailAliases::Fold)
            .build()
            .unwrap();
        store
            .opt_out(&addr(record_with, "J.Doe+news@gmail.com"), &Edit::new())
            .unwrap();
        for spelling in [
            "jdoe@gmail.com",
            "j.d.o.e+x@googlemail.com",
            "J.DOE@GMAIL.COM",
        ] {
            let a = addr(send_with, spelling);
            assert_eq!(
                store.check(&a, &send).unwrap(),
                Some(SkipReason::OptedOut),
                "{spelling}"
            );
            assert_eq!(
                store.compile(&send).unwrap().check(&a),
                Some(SkipReason::OptedOut)
            );
        }
        let split = store.compile(&send).unwrap().split(
            send_with,
            &["jdoe@gmail.com", "ann@example.com", "Ann@Example.com"],
        );
        assert_eq!(
            split.report().to_string(),
            "1 sendable, 2 skipped (1 opted-out, 1 duplicate)"
        );
    }
    // Keeping aliases apart, a folded address still names the mailbox it
    // was folded from.
    let store = Store::new();
    store
        .opt_out(&addr(&fold, "J.Doe+news@gmail.com"), &Edit::new())
        .unwrap();
    assert_eq!(
        store
            .check(&addr(&keep, "j.doe+news@gmail.com"), &send)
            .unwrap(),
        Some(SkipReason::OptedOut)
    );
    assert_eq!(
        store.check(&addr(&keep, "jdoe@gmail.com"), &send).unwrap(),
        None
    );
    // Sends that fold see the two as one person; the store does not.
    let split = store
        .compile(&send)
        .unwrap()
        .split(&fold, &["jdoe@gmail.com", "j.doe@gmail.com"]);
    assert_eq!(split.report().to_string(), "2 sendable, 0 skipped");
}

/// Deleting a list leaves a history record of every address it removed
/// (today's main dropped them without a trace) and re-enables nobody still
/// on another list.
#[test]
fn deleting_a_list_keeps_a_record_of_every_address() {
    use optout::model::Action;
    let n = us();
    let store = Store::new();
    let promo = store.create_list(ListSettings::new("Promotions")).unwrap();
    let people: Vec<Address> = (0..5).map(|i| addr(&n, &phone(i))).collect();
    store
        .opt_out_many(&people[..3], &Edit::new().list(promo))
        .unwrap();
    store
        .opt_out(
            &people[3],
            &Edit::new().list(promo).scope(Scope::Channel(ch_a())),
        )
        .unwrap();
    store.opt_out(&people[0], &Edit::new()).unwrap();
    assert_eq!(store.delete_list(promo).unwrap(), 4);
    let deleted: Vec<_> = store
        .history(..)
        .into_iter()
        .filter(|c| c.action == Action::ListDeleted)
        .collect();
    assert_eq!(deleted.len(), 4);
    assert!(deleted.iter().all(|c| c.list == Some(promo)));
    let ids: Vec<u64> = deleted.iter().map(|c| c.address.get()).collect();
    for p in &people[..4] {
        assert!(ids.contains(&p.phone_id().unwrap().get()));
    }
    assert!(deleted.iter().any(|c| c.scope == Scope::Channel(ch_a())));
    // Still on the system list: still suppressed.
    let send = Dispatch::new(Category::Marketing);
    assert_eq!(
        store.check(&people[0], &send).unwrap(),
        Some(SkipReason::OptedOut)
    );
    assert_eq!(store.check(&people[1], &send).unwrap(), None);
    // The record survives a save and load.
    let mut bytes = Vec::new();
    store.save(&mut bytes).unwrap();
    assert_eq!(
        Store::load(bytes.as_slice()).unwrap().history(..),
        store.history(..)
    );
}

/// The batch filter never treats an oversized batch as empty: every id of
/// a long audience gets its verdict, past any internal batch size.
#[test]
fn every_id_of_a_long_audience_is_checked() {
    let store = Store::new();
    let ids: Vec<AddressId> = (0..10_000u64)
        .filter_map(|i| AddressId::new(14_150_000_000 + i))
        .collect();
    store.opt_out_ids(&ids, &Edit::new()).unwrap();
    let suppression = store.compile(&Dispatch::new(Category::Marketing)).unwrap();
    let split = suppression.split_ids(&ids);
    assert_eq!(split.report().opted_out, 10_000);
    let addresses: Vec<Address> = ids
        .iter()
        .map(|id| Address::Phone(optout::address::Phone::from_id(*id).unwrap()))
        .collect();
    assert_eq!(
        suppression.split_addresses(&addresses).report().opted_out,
        10_000
    );
}

/// An id this store did not give out (an email id from another store, or a
/// value that is no id at all) cannot be checked, so it is never sent —
/// not even for an OTP — and is reported as such.
#[test]
fn ids_this_store_did_not_assign_are_never_sent() {
    let n = us();
    let other = Store::new();
    other
        .opt_out(&addr(&n, "zed@example.com"), &Edit::new())
        .unwrap();
    other
        .opt_out(&addr(&n, "amy@example.com"), &Edit::new())
        .unwrap();
    let foreign = other.id(&addr(&n, "amy@example.com")).unwrap();

    let store = Store::new();
    store
        .opt_out(&addr(&n, "bob@example.com"), &Edit::new())
        .unwrap();
    let known = store.id(&addr(&n, "bob@example.com")).unwrap();
    let phone_id = addr(&n, &phone(1)).phone_id().unwrap();
    for category in [
        Category::Marketing,
        Category::Utility,
        Category::Authentication,
    ] {
        let s = store.compile(&Dispatch::new(category)).unwrap();
        assert_eq!(s.check_id(foreign), Some(SkipReason::UnknownId));
        let split = s.split_ids(&[foreign, phone_id, known]);
        let known_verdict = (category == Category::Marketing).then_some(SkipReason::OptedOut);
        assert_eq!(
            split.verdicts(),
            [Some(SkipReason::UnknownId), None, known_verdict]
        );
        assert_eq!(split.report().unknown_id, 1);
        assert_eq!(SkipReason::UnknownId.to_string(), "Unknown Id");
        let mut streamed = Vec::new();
        let mut stream = s.stream();
        stream.push_ids(&[foreign, phone_id], &mut streamed);
        stream.push_ids(&[known, foreign], &mut streamed);
        let reasons: Vec<_> = streamed.iter().map(|v| v.reason()).collect();
        assert_eq!(
            reasons,
            [
                Some(SkipReason::UnknownId),
                None,
                known_verdict,
                Some(SkipReason::UnknownId)
            ]
        );

        let junk = [
            0,
            10_000_000_000_000_000_000,
            0xFFFF_FFFE_FFFF_FFFF,
            foreign.get(),
            u64::MAX,
        ];
        let audience: RoaringTreemap = junk
            .into_iter()
            .chain([phone_id.get(), known.get()])
            .collect();
        let split = s.split_bitmap(&audience);
        assert_eq!(split.unknown, junk.into_iter().collect::<RoaringTreemap>());
        assert!(split.sendable.contains(phone_id.get()));
        assert_eq!(split.report().unknown_id, 5);
        assert_eq!(split.report().total(), 7);
    }
}

fn any_value() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..4,
        14_155_550_000u64..14_155_550_020,
        9_999_999_999_999_999_990u64..10_000_000_000_000_000_010,
        0xFFFF_FFFE_FFFF_FFF0u64..0xFFFF_FFFF_0000_0008,
        u64::MAX - 4..=u64::MAX,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A bitmap audience is split into disjoint parts that add up to it,
    /// each member where the one-by-one check puts it.
    #[test]
    fn every_bitmap_member_accounted_for_once(
        audience in prop::collection::vec(any_value(), 0..60),
        opted in prop::collection::vec(14_155_550_000u64..14_155_550_020, 0..10),
        emails in 0usize..6,
    ) {
        let n = us();
        let store = Store::new();
        for i in 0..emails {
            store.opt_out(&addr(&n, &format!("p{i}@example.com")), &Edit::new()).unwrap();
        }
        let opted: Vec<AddressId> = opted.into_iter().filter_map(AddressId::new).collect();
        store.opt_out_ids(&opted, &Edit::new()).unwrap();
        let audience: RoaringTreemap = audience.into_iter().collect();
        let s = store.compile(&Dispatch::new(Category::Marketing)).unwrap();
        let split = s.split_bitmap(&audience);
        let parts = [&split.sendable, &split.opted_out, &split.blocked, &split.unknown];
        let mut union = RoaringTreemap::new();
        for part in parts {
            prop_assert!(union.is_disjoint(part));
            union |= part;
        }
        prop_assert_eq!(&union, &audience);
        for v in &audience {
            let expected = match AddressId::new(v) {
                None => Some(SkipReason::UnknownId),
                Some(id) => s.check_id(id),
            };
            let got = if split.sendable.contains(v) {
                None
            } else if split.opted_out.contains(v) {
                Some(SkipReason::OptedOut)
            } else if split.blocked.contains(v) {
                Some(SkipReason::Blocked)
            } else {
                Some(SkipReason::UnknownId)
            };
            prop_assert_eq!(got, expected, "value {}", v);
        }
    }
}

/// One step of a random history: who (0..8), what, which channel or list.
type Move = (u8, u8, u8);

fn apply_move(store: &Store, n: &Normalizer, promo: ListId, (who, what, which): Move) {
    let a = addr(n, &format!("+1415555{:04}", who % 8));
    let channel = [ch_a(), ch_b(), Channel::new("wa").unwrap()][usize::from(which % 3)].clone();
    let list = if which % 2 == 0 {
        ListId::SYSTEM
    } else {
        promo
    };
    let _ = match what % 8 {
        0 => store
            .opt_out(&a, &Edit::new().list(list).scope(Scope::Channel(channel)))
            .map(drop),
        1 => store.opt_out(&a, &Edit::new().list(list)).map(drop),
        2 => store.inbound(&a, &channel, "STOP").map(drop),
        3 => store.inbound(&a, &channel, "remove me").map(drop),
        4 => store.inbound(&a, &channel, "START").map(drop),
        5 => store.opt_in(&a, &Edit::new().list(list)).map(drop),
        6 => store.block(&a, &Edit::new()).map(drop),
        _ => store
            .set_keyword_scope(&channel, KeywordScope::Account)
            .map(drop),
    };
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Over random histories of scoped opt-outs, inbound replies,
    /// clarifications, opt-ins and blocks: the batch filter agrees with
    /// `Store::check` for every dispatch; a send naming no channel
    /// suppresses everyone a send on any one channel suppresses (it can
    /// only be stricter); utility traffic skips exactly the blocked.
    #[test]
    fn suppression_laws_over_random_histories(
        moves in prop::collection::vec((0u8..8, any::<u8>(), any::<u8>()), 0..40),
    ) {
        let n = us();
        let store = Store::new();
        let promo = store.create_list(ListSettings::new("Promotions")).unwrap();
        for m in &moves {
            apply_move(&store, &n, promo, *m);
        }
        let people: Vec<Address> = (0..8).map(|i| addr(&n, &format!("+1415555{i:04}"))).collect();
        let channels = [ch_a(), ch_b(), Channel::new("wa").unwrap()];
        for lists in [vec![], vec![promo]] {
            let with_lists = |mut d: Dispatch| {
                for &l in &lists {
                    d = d.honour(l);
                }
                d
            };
            let any_channel = with_lists(Dispatch::new(Category::Marketing));
            let anywhere = store.compile(&any_channel).unwrap();
            let split = anywhere.split_addresses(&people);
            for (person, outcome) in people.iter().zip(split.outcomes()) {
                prop_assert_eq!(outcome.skip_reason(), store.check(person, &any_channel).unwrap());
            }
            for channel in &channels {
                let send = with_lists(marketing(channel.clone()));
                let compiled = store.compile(&send).unwrap();
                let split = compiled.split_addresses(&people);
                for (person, outcome) in people.iter().zip(split.outcomes()) {
                    let single = store.check(person, &send).unwrap();
                    prop_assert_eq!(outcome.skip_reason(), single, "{} on {}", person, channel);
                    if single.is_some() {
                        prop_assert!(
                            anywhere.check(person).is_some(),
                            "{} suppressed on {} but sendable with no channel named", person, channel
                        );
                    }
                }
            }
            let utility = store.compile(&Dispatch::new(Category::Utility)).unwrap();
            for person in &people {
                prop_assert_eq!(utility.check(person).is_some(), store.is_blocked(person));
            }
        }
    }
}
