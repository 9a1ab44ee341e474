//! Snapshots, logs and journals: save → load is the identity, the format is
//! pinned by golden files, damage is refused, version-1 directories still
//! open, and one suite drives the one `Store` over every log.
//!
//! Crashes (a writer killed at random moments) and a second process on a
//! directory are in `tests/crash.rs`; single I/O faults at every point are
//! in `src/persist/fault_tests.rs`.

use std::path::Path;

use optout::error::ErrorKind;
use optout::keyword::{Keywords, Language};
use optout::model::{Channel, KeywordScope, ListId, Scope, Source, Timestamp};
use optout::persist::{Journal, MemoryLog};
use optout::store::{Edit, ListSettings};
use optout::{Address, Error, Normalizer, Store};
use proptest::prelude::*;

fn bytes(store: &Store) -> Vec<u8> {
    let mut out = Vec::new();
    store.save(&mut out).unwrap();
    out
}

fn phone(i: u64) -> Address {
    Normalizer::default()
        .address(&format!("+1415555{:04}", i % 10_000))
        .unwrap()
}

fn email(i: u64) -> Address {
    Normalizer::default()
        .address(&format!("person{i}@example.com"))
        .unwrap()
}

fn ch(name: &str) -> Channel {
    Channel::new(name).unwrap()
}

fn at_42() -> Store {
    Store::builder()
        .clock(|| Timestamp::from_unix_secs(1_700_000_000))
        .build()
        .unwrap()
}

/// The fixed scenario behind the golden file.
fn scenario() -> Store {
    let store = at_42();
    let promo = store
        .create_list(
            ListSettings::new("Promotions")
                .description("Weekly deals")
                .keyword("STOPPROMO")
                .confirmation("No more deals.")
                .webhook("https://hooks.example.com/optout"),
        )
        .unwrap();
    let news = store.create_list(ListSettings::new("Newsletter")).unwrap();
    let t = Timestamp::from_unix_secs;
    store.opt_out(&phone(1), &Edit::new().at(t(100))).unwrap();
    store
        .opt_out(
            &phone(2),
            &Edit::new()
                .list(promo)
                .scope(Scope::Channel(ch("+14155550100")))
                .source(Source::Keyword)
                .at(t(200)),
        )
        .unwrap();
    store
        .opt_out(
            &email(3),
            &Edit::new()
                .source(Source::WebForm)
                .lists_of([ListId::SYSTEM, news])
                .at(t(300)),
        )
        .unwrap();
    let many: Vec<Address> = (10..20).map(phone).chain((20..25).map(email)).collect();
    store
        .opt_out_many(
            &many,
            &Edit::new().list(news).source(Source::Import).at(t(400)),
        )
        .unwrap();
    store.opt_in(&phone(1), &Edit::new().at(t(500))).unwrap();
    store.block(&phone(99), &Edit::new().at(t(600))).unwrap();
    store
        .set_keyword_scope(&ch("wa:106540352242922"), KeywordScope::Account)
        .unwrap();
    store
        .set_keywords(
            Keywords::default()
                .help_reply("Acme: help at acme.example")
                .clarify_reply("Acme: reply STOP to stop all texts, START to keep them.")
                .add_opt_out("ENOUGH"),
        )
        .unwrap();
    store
        .set_channel_keywords(
            &ch("sms-es"),
            Keywords::default()
                .languages([Language::Spanish])
                .remove("BAJA")
                .unwrap(),
        )
        .unwrap();
    let gone = store.create_list(ListSettings::new("Old")).unwrap();
    store
        .opt_out(&phone(7), &Edit::new().list(gone).at(t(700)))
        .unwrap();
    store.delete_list(gone).unwrap();
    store
        .inbound_at(&phone(8), &ch("+14155550100"), "STOPPROMO", t(800))
        .unwrap();
    store
        .inbound_at(&phone(9), &ch("+14155550100"), "remove me", t(900))
        .unwrap();
    store
}

#[test]
fn golden_file_pins_the_format() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden-v2.snapshot");
    let fresh = bytes(&scenario());
    if std::env::var_os("OPTOUT_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let golden =
        std::fs::read(&path).expect("tests/data/golden-v2.snapshot (OPTOUT_BLESS=1 writes it)");
    assert_eq!(
        fresh, golden,
        "the snapshot format changed; bump the version and bless a new golden file"
    );
    let loaded = Store::load(golden.as_slice()).unwrap();
    assert_eq!(bytes(&loaded), golden);
    assert_eq!(loaded.history(..), scenario().history(..));
}

/// A version-1 snapshot (numeric channel ids) still loads, its channels
/// named by their old numbers.
#[test]
fn version_1_snapshots_still_load() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden-v1.snapshot");
    let v1 = std::fs::read(path).unwrap();
    let store = Store::load(v1.as_slice()).unwrap();
    assert_eq!(store.lists().len(), 3);
    assert!(store.contains(ListId::new(1), &Scope::Channel(ch("101")), &phone(2)));
    assert_eq!(store.keyword_scope(&ch("202")), KeywordScope::Account);
    assert!(store.is_blocked(&phone(99)));
    // Saved again, it is a version-2 snapshot that loads the same.
    let again = Store::load(bytes(&store).as_slice()).unwrap();
    assert_eq!(again.history(..), store.history(..));
}

#[test]
fn load_restores_behaviour() {
    let original = scenario();
    let loaded = Store::load(bytes(&original).as_slice()).unwrap();
    assert_eq!(loaded.lists(), original.lists());
    assert_eq!(
        loaded.keyword_scope(&ch("wa:106540352242922")),
        KeywordScope::Account
    );
    assert_eq!(
        loaded.keywords(Some(&ch("sms-es"))),
        original.keywords(Some(&ch("sms-es")))
    );
    assert!(loaded.is_blocked(&phone(99)));
    assert!(loaded.is_clarifying(&phone(9), &ch("+14155550100")));
    for i in 0..30 {
        for a in [phone(i), email(i)] {
            for list in [ListId::SYSTEM, ListId::new(1), ListId::new(2)] {
                for scope in [Scope::Account, Scope::Channel(ch("+14155550100"))] {
                    assert_eq!(
                        loaded.contains(list, &scope, &a),
                        original.contains(list, &scope, &a)
                    );
                }
            }
        }
    }
    // Keywords still work, including list keywords, after loading.
    let out = loaded
        .inbound(&phone(19), &ch("+14155550100"), "stoppromo")
        .unwrap();
    assert_eq!(out.reply.as_deref(), Some("No more deals."));
}

#[test]
fn every_truncation_and_bit_flip_is_refused() {
    let good = bytes(&scenario());
    for cut in 0..good.len() {
        let err = Store::load(&good[..cut]).err();
        assert!(err.is_some(), "a snapshot cut at {cut} loaded");
    }
    for i in 0..good.len() {
        for bit in [0x01u8, 0x80] {
            let mut bad = good.clone();
            bad[i] ^= bit;
            match Store::load(bad.as_slice()).map_err(Error::into_kind) {
                Err(
                    ErrorKind::Corrupt { .. }
                    | ErrorKind::Foreign { .. }
                    | ErrorKind::Version { .. },
                ) => {}
                other => panic!("flipping byte {i} gave {other:?}"),
            }
        }
    }
}

#[test]
fn foreign_and_future_files_are_named() {
    assert!(matches!(
        Store::load(&b"PK\x03\x04 zip file, not ours"[..]).map_err(Error::into_kind),
        Err(ErrorKind::Foreign { .. })
    ));
    let mut future = bytes(&Store::new());
    future[8] = 3;
    assert!(matches!(
        Store::load(future.as_slice()).map_err(Error::into_kind),
        Err(ErrorKind::Version {
            found: 3,
            supported: 2,
            ..
        })
    ));
}

#[test]
fn save_to_path_is_atomic_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.snapshot");
    scenario().save_to_path(&path).unwrap();
    Store::new().save_to_path(&path).unwrap(); // replaces it whole
    assert_eq!(Store::load_from_path(&path).unwrap().lists().len(), 1);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "temporary files left behind");
}

/// Threads saving to one path at once each write their own temporary
/// file: the path always holds one whole snapshot. (Temporary files named
/// by process id alone let two threads rename a torn file over a good
/// one.)
#[test]
fn threads_saving_to_one_path_never_tear_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.snapshot");
    let big = scenario();
    for i in 0..2000 {
        big.opt_out(&phone(1000 + i), &Edit::new()).unwrap();
    }
    let small = Store::new();
    std::thread::scope(|s| {
        for t in 0..4 {
            let (path, big, small) = (&path, &big, &small);
            s.spawn(move || {
                for _ in 0..25 {
                    let store = if t % 2 == 0 { big } else { small };
                    store.save_to_path(path).unwrap();
                    Store::load_from_path(path).expect("a torn snapshot");
                }
            });
        }
    });
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 1, "temporary files left behind");
}

/// One step of an arbitrary workload, interpreted by [`apply`] through the
/// store's public API.
type Step = (u8, u8, u8, u8, u32);

fn step() -> impl Strategy<Value = Step> {
    (0u8..12, any::<u8>(), 0u8..4, 0u8..4, any::<u32>())
}

/// Runs the steps; refused changes are part of the law too: they change
/// nothing.
fn apply(store: &Store, steps: &[Step]) {
    let sources = [
        Source::Manual,
        Source::Keyword,
        Source::WebForm,
        Source::Import,
        Source::Api,
    ];
    let who = |w: u8| {
        if w.is_multiple_of(3) {
            email(u64::from(w))
        } else {
            phone(u64::from(w))
        }
    };
    let channel =
        |c: u8| ch(["sms1", "+14155550100", "news@example.com", "wa"][usize::from(c % 4)]);
    let list = |l: u8| Edit::new().list(ListId::new(u32::from(l)));
    for &(kind, w, l, c, at) in steps {
        let _ = match kind {
            0 => store
                .create_list(ListSettings::new(format!("L{}", w % 5)).keyword(format!("K{w}")))
                .map(drop),
            1 => {
                let mut edit = list(l)
                    .source(sources[usize::from(c) % 5])
                    .at(Timestamp::from_unix_secs(i64::from(at)));
                if at % 2 == 0 {
                    edit = edit.scope(Scope::Channel(channel(c)));
                }
                store.opt_out(&who(w), &edit).map(drop)
            }
            2 => store.opt_in(&who(w), &list(l)).map(drop),
            3 => {
                let many: Vec<Address> = (0..l * 5).map(|i| who(w.wrapping_add(i))).collect();
                store.opt_out_many(&many, &list(c)).map(drop)
            }
            4 => store.block(&who(w), &Edit::new()).map(drop),
            5 => store.delete_list(ListId::new(u32::from(l))).map(drop),
            6 => store
                .set_keyword_scope(&channel(c), KeywordScope::Account)
                .map(drop),
            7 => {
                let text = [
                    "STOP",
                    "START",
                    "HELP",
                    "K3",
                    "please stop",
                    "remove me",
                    "yes",
                ][usize::from(l + c + (w & 1)) % 7];
                store
                    .inbound(&phone(u64::from(w)), &channel(c), text)
                    .map(drop)
            }
            8 => {
                // A one-click unsubscribe: minting writes nothing, the
                // click records the opt-out (interning a new email).
                let keys = optout::unsubscribe::UnsubscribeKeys::new(
                    1,
                    b"0123456789abcdef0123456789abcdef",
                )
                .unwrap();
                let list = if at % 2 == 0 {
                    ListId::SYSTEM
                } else {
                    ListId::new(u32::from(l))
                };
                if let Ok(token) = store.unsubscribe_token(&who(w), list) {
                    let click = store.unsubscribe_at(
                        &keys,
                        &keys.sign(&token),
                        optout::unsubscribe::Click::Confirm,
                        Timestamp::from_unix_secs(42),
                    );
                    assert!(click.is_ok(), "{click:?}");
                }
                Ok(())
            }
            9 => {
                // An import: each flush (the whole file, all or nothing)
                // is one logged change.
                let file = format!(
                    "address,list,scope,source\n{},L{},{},keyword\n{},,account,web form\n{}\n",
                    who(w),
                    l,
                    channel(c),
                    who(w.wrapping_add(1)),
                    if at % 3 == 0 { "not an address" } else { "" },
                );
                let mode = if at % 2 == 0 {
                    optout::exchange::ImportMode::AllOrNothing
                } else {
                    optout::exchange::ImportMode::ApplyValid
                };
                store
                    .import(
                        file.as_bytes(),
                        &Normalizer::default(),
                        &optout::exchange::Import::new().mode(mode),
                    )
                    .map(drop)
            }
            10 => {
                let keywords = Keywords::default().add_opt_out(format!("ENOUGH{}", w % 3));
                if at % 2 == 0 {
                    store.set_keywords(keywords)
                } else {
                    store.set_channel_keywords(&channel(c), keywords)
                }
            }
            _ => {
                let ids: Vec<optout::AddressId> = (0..u64::from(l) + 1)
                    .filter_map(|i| phone(u64::from(w) + i).phone_id())
                    .collect();
                store.opt_out_ids(&ids, &list(c)).map(drop)
            }
        };
    }
}

/// The logs a store can run on, each as a way to build a store and a way
/// to open the same log again.
/// Opens a store on one log, again and again.
type Opener<'a> = Box<dyn Fn() -> Store + 'a>;

fn backends(dir: &Path) -> Vec<(&'static str, Opener<'_>)> {
    let memory = MemoryLog::new();
    let clock = || Timestamp::from_unix_secs(42);
    vec![
        (
            "memory log",
            Box::new(move || {
                Store::builder()
                    .clock(clock)
                    .log(memory.clone())
                    .build()
                    .unwrap()
            }),
        ),
        (
            "journal",
            Box::new(move || Store::builder().clock(clock).open(dir).unwrap()),
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(60))]

    /// save → load is the identity on arbitrary stores.
    #[test]
    fn save_then_load_is_the_identity(steps in proptest::collection::vec(step(), 0..60)) {
        let store = at_42();
        apply(&store, &steps);
        let saved = bytes(&store);
        let loaded = Store::load(saved.as_slice()).unwrap();
        prop_assert_eq!(bytes(&loaded), saved);
        prop_assert_eq!(loaded.history(..), store.history(..));
        prop_assert_eq!(loaded.lists(), store.lists());
    }

    /// On every log, replaying rebuilds exactly the store that wrote it —
    /// with and without a checkpoint in the middle — and gives the same
    /// store as running in memory.
    #[test]
    fn every_log_replays_to_the_same_store(
        steps in proptest::collection::vec(step(), 0..40),
        checkpoint_at in 0usize..40,
    ) {
        let memory_only = Store::builder().clock(|| Timestamp::from_unix_secs(42)).build().unwrap();
        apply(&memory_only, &steps);
        let expected = bytes(&memory_only);
        let dir = tempfile::tempdir().unwrap();
        for (name, open) in backends(dir.path()) {
            {
                let store = open();
                let (before, after) = steps.split_at(checkpoint_at.min(steps.len()));
                apply(&store, before);
                store.checkpoint().unwrap();
                apply(&store, after);
                prop_assert_eq!(&bytes(&store), &expected, "{} while running", name);
            }
            let reopened = open();
            prop_assert_eq!(reopened.recovery().torn_bytes, 0);
            prop_assert_eq!(&bytes(&reopened), &expected, "{} reopened", name);
        }
    }
}

/// Stores sharing one log behave like replicas: each honours what the
/// others acknowledged, and they converge to the same bytes.
#[test]
fn stores_on_one_memory_log_converge() {
    let log = MemoryLog::new();
    let open = || {
        Store::builder()
            .clock(|| Timestamp::from_unix_secs(7))
            .log(log.clone())
            .build()
            .unwrap()
    };
    let (a, b) = (open(), open());
    let sms = ch("sms1");
    assert!(a.inbound(&phone(1), &sms, "STOP").unwrap().reply.is_some());
    // b treats the same STOP as a repeat, and START as an opt-in.
    assert_eq!(b.inbound(&phone(1), &sms, "STOP").unwrap().reply, None);
    assert_eq!(
        b.inbound(&phone(1), &sms, "START").unwrap().action,
        optout::inbound::InboundAction::OptIn
    );
    a.create_list(ListSettings::new("VIP")).unwrap();
    b.create_list(ListSettings::new("News")).unwrap();
    a.refresh().unwrap();
    b.refresh().unwrap();
    assert_eq!(bytes(&a), bytes(&b));
    assert_eq!(a.seq(), log.len());
    let c = open();
    assert_eq!(bytes(&c), bytes(&a));
    // A replica that fell behind a checkpoint (the records it missed are
    // gone from the log) reloads from the checkpoint.
    for i in 10..15 {
        a.opt_out(&phone(i), &Edit::new()).unwrap();
    }
    a.set_keywords(Keywords::default().add_opt_out("ENOUGH"))
        .unwrap();
    a.checkpoint().unwrap();
    assert_eq!(
        b.check(&phone(12), &optout::Dispatch::marketing()).unwrap(),
        Some(optout::filter::SkipReason::OptedOut)
    );
    assert_eq!(bytes(&b), bytes(&a));
    let enough = b.inbound(&phone(20), &sms, "enough").unwrap();
    assert_eq!(enough.action, optout::inbound::InboundAction::OptOut);
}

/// A small journal, the history after each of its records, and the
/// journal's length before each record and at the end.
fn journal_fixture() -> (
    tempfile::TempDir,
    Vec<u8>,
    Vec<Vec<optout::store::Change>>,
    Vec<usize>,
) {
    let dir = tempfile::tempdir().unwrap();
    let mut histories = vec![Vec::new()];
    let mut lengths = Vec::new();
    {
        let store = Store::open(dir.path()).unwrap();
        let length = || std::fs::metadata(journal_file(dir.path())).unwrap().len() as usize;
        lengths.push(length());
        for i in 0..6u64 {
            let edit = Edit::new().at(Timestamp::from_unix_secs(i as i64));
            if i % 2 == 0 {
                store.opt_out(&phone(i), &edit).unwrap();
            } else {
                store.opt_out(&email(i), &edit).unwrap();
            }
            histories.push(store.history(..));
            lengths.push(length());
        }
    }
    let journal = journal_file(dir.path());
    let data = std::fs::read(&journal).unwrap();
    (dir, data, histories, lengths)
}

fn journal_file(dir: &Path) -> std::path::PathBuf {
    let mut logs: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    logs.remove(0)
}

#[test]
fn journal_truncated_at_every_offset_opens_to_a_prefix() {
    let (dir, data, histories, lengths) = journal_fixture();
    let path = journal_file(dir.path());
    for cut in 0..=data.len() {
        std::fs::write(&path, &data[..cut]).unwrap();
        let store = Store::open(dir.path()).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        let recovery = store.recovery();
        let history = store.history(..);
        let whole = lengths
            .iter()
            .filter(|&&l| l <= cut)
            .count()
            .saturating_sub(1);
        assert_eq!(recovery.replayed as usize, whole, "cut at {cut}");
        assert_eq!(history, histories[whole], "cut at {cut}");
        drop(store);
        // The torn tail was cut off: reopening finds a clean journal.
        let again = Store::open(dir.path()).unwrap();
        assert_eq!(
            (again.recovery().replayed, again.recovery().torn_bytes),
            (recovery.replayed, 0),
            "cut at {cut}"
        );
    }
}

#[test]
fn journal_corrupted_at_every_offset_never_loads_wrong_data() {
    let (dir, data, histories, lengths) = journal_fixture();
    assert_eq!(*lengths.last().unwrap(), data.len());
    let path = journal_file(dir.path());
    // The last record's checksum or body damaged reads as a torn tail
    // (cut and reported); damage anywhere else is an error, never a
    // silently shorter history.
    let last = lengths[5];
    for i in 0..data.len() {
        let mut bad = data.clone();
        bad[i] ^= 0x20;
        std::fs::write(&path, &bad).unwrap();
        match Store::open(dir.path()) {
            Ok(store) => {
                let recovery = store.recovery();
                assert!(i >= last + 8, "flip at {i} was not refused");
                assert_eq!(recovery.replayed, 5, "flip at {i}");
                assert_eq!(
                    recovery.torn_bytes,
                    (data.len() - last) as u64,
                    "flip at {i}"
                );
                assert_eq!(store.history(..), histories[5], "flip at {i}");
            }
            Err(e) => {
                assert!(
                    matches!(
                        e.kind(),
                        ErrorKind::Corrupt { .. }
                            | ErrorKind::Foreign { .. }
                            | ErrorKind::Version { .. }
                    ),
                    "flip at {i}: {e}"
                );
                assert!(
                    i < last + 8,
                    "flip at {i} in the last record's body was refused: {e}"
                );
            }
        }
        // Put the good journal back (a refused open changed nothing).
        std::fs::write(&path, &data).unwrap();
    }
}

#[test]
fn checkpoint_then_more_changes_then_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store.opt_out(&phone(1), &Edit::new()).unwrap();
        store.checkpoint().unwrap();
        store.opt_out(&phone(2), &Edit::new()).unwrap();
        store.checkpoint().unwrap();
        store.opt_out(&phone(3), &Edit::new()).unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        (store.recovery().checkpoint, store.recovery().replayed),
        (2, 1)
    );
    assert_eq!(store.count(ListId::SYSTEM).unwrap(), 3);
    journal_file(dir.path()); // one journal file: the old ones were removed
}

/// A journal the snapshot does not account for — changes missing between
/// them — is an error, and nothing is deleted.
#[test]
fn a_journal_after_a_gap_is_an_error_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        for i in 0..3 {
            store.opt_out(&phone(i), &Edit::new()).unwrap();
        }
        store.checkpoint().unwrap();
        store.opt_out(&phone(4), &Edit::new()).unwrap();
    }
    // Rename the journal as if it started two changes later: records 4
    // and 5 are missing.
    let old = journal_file(dir.path());
    let data = std::fs::read(&old).unwrap();
    let mut shifted = data.clone();
    shifted[12..20].copy_from_slice(&5u64.to_le_bytes());
    let later = dir.path().join("journal-v2-0000000000000005.log");
    std::fs::write(&later, &shifted).unwrap();
    std::fs::remove_file(&old).unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Gap { .. } | ErrorKind::Corrupt { .. }
        ),
        "{err}"
    );
    assert!(later.exists(), "the journal was deleted");
    assert_eq!(std::fs::read(&later).unwrap(), shifted);
}

#[test]
fn ids_the_store_never_assigned_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let known = store.opt_out(&email(1), &Edit::new()).unwrap()[0].address;
    assert!(known.is_email());
    let unknown = optout::AddressId::from_email_index(5);
    let phone_id = phone(3).phone_id().unwrap();
    let before = bytes(&store);
    let err = store
        .opt_out_ids(&[phone_id, unknown], &Edit::new())
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::UnknownEmailId(id) if *id == unknown.get()),
        "{err}"
    );
    assert_eq!(bytes(&store), before, "a refused change changes nothing");
    assert_eq!(
        store
            .opt_out_ids(&[phone_id, known], &Edit::new())
            .unwrap()
            .changed,
        1
    );
    let expected = bytes(&store);
    drop(store);
    let reopened = Store::open(dir.path()).unwrap();
    assert_eq!(bytes(&reopened), expected);
    reopened.checkpoint().unwrap();
    drop(reopened);
    assert_eq!(bytes(&Store::open(dir.path()).unwrap()), expected);
}

/// An inbound message is logged as the list changes it caused, not as
/// text: the journal never holds the message, and a replay does not
/// depend on the word lists.
#[test]
fn inbound_messages_are_logged_as_their_changes() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .inbound(&phone(1), &ch("sms1"), "Stop texting me, zebra")
            .unwrap();
        store.inbound(&phone(2), &ch("sms1"), "STOP").unwrap();
    }
    let journal = std::fs::read(journal_file(dir.path())).unwrap();
    assert!(!journal.windows(5).any(|w| w == b"zebra"));
    assert!(!journal.windows(4).any(|w| w.eq_ignore_ascii_case(b"stop")));
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.history(..).len(), 2);
}

/// The store owns its policy: opening it with another one is refused
/// rather than matching addresses differently.
#[test]
fn a_store_keeps_its_policy() {
    let dir = tempfile::tempdir().unwrap();
    let fold = optout::address::EmailAliases::Fold;
    {
        let store = Store::builder()
            .email_aliases(fold)
            .open(dir.path())
            .unwrap();
        store.opt_out(&email(1), &Edit::new()).unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.policy().email_aliases(), fold, "kept with the store");
    drop(store);
    let err = Store::builder()
        .email_aliases(optout::address::EmailAliases::Keep)
        .open(dir.path())
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::PolicyMismatch { .. }),
        "{err}"
    );
}

/// A version-1 directory (snapshot and journal written by the previous
/// release) opens: its journal replays as it did then — YES was an opt-in
/// — and a version-2 checkpoint takes its place.
#[test]
fn version_1_directories_open_and_replay_as_before() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v1-store");
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&fixture).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let expected = std::fs::read_to_string(fixture.with_extension("history")).unwrap();
    let describe = |store: &Store| -> Vec<String> {
        store
            .history(..)
            .into_iter()
            .filter(|c| c.action != optout::model::Action::ListDeleted)
            .map(|c| {
                let who = match c.address.phone_digits() {
                    Some(d) => format!("+{d}"),
                    None => store.email(c.address).unwrap().to_string(),
                };
                format!(
                    "{} {} {:?} {} {} {}",
                    c.at.unix_millis(),
                    c.action,
                    c.list.map(|l| l.get()),
                    c.scope,
                    who,
                    c.source
                )
            })
            .collect()
    };
    let store = Store::open(dir.path()).unwrap();
    assert!(store.recovery().migrated);
    assert_eq!(describe(&store), expected.lines().collect::<Vec<_>>());
    // The deletion of a list is on record now (version 1 kept none).
    let deleted: Vec<_> = store
        .history(..)
        .into_iter()
        .filter(|c| c.action == optout::model::Action::ListDeleted)
        .collect();
    assert_eq!(deleted.len(), 1);
    let csv = std::fs::read_to_string(fixture.with_extension("csv")).unwrap();
    let mut out = Vec::new();
    store
        .export_csv(&mut out, &optout::exchange::Export::all())
        .unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), csv);
    drop(store);
    // Migrated once: the version-1 files are gone and it opens as v2.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with("journal-0")),
        "{names:?}"
    );
    let store = Store::open(dir.path()).unwrap();
    assert!(!store.recovery().migrated);
    assert_eq!(describe(&store), expected.lines().collect::<Vec<_>>());
}

/// A version-1 directory read through a wrapper around its journal (which
/// cannot hand over the version-1 files) is refused, not opened without
/// the changes its version-1 journal holds.
#[test]
fn a_version_1_journal_behind_a_wrapper_is_refused() {
    use optout::persist::{Appended, Checkpoint, Log, Visitor};
    struct Wrapped(Journal);
    impl Log for Wrapped {
        fn load_checkpoint(&mut self) -> optout::Result<Option<Checkpoint>> {
            self.0.load_checkpoint()
        }
        fn read(&mut self, after: u64, visit: &mut Visitor<'_>) -> optout::Result<()> {
            self.0.read(after, visit)
        }
        fn append(&mut self, seq: u64, record: &[u8]) -> optout::Result<Appended> {
            self.0.append(seq, record)
        }
        fn checkpoint(&mut self, seq: u64, snapshot: &[u8]) -> optout::Result<()> {
            self.0.checkpoint(seq, snapshot)
        }
        fn is_shared(&self) -> bool {
            self.0.is_shared()
        }
    }
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v1-store");
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&fixture).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let journal = Journal::open(dir.path()).unwrap();
    let err = Store::builder().log(Wrapped(journal)).build().unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Unmigrated { .. }), "{err}");
    // Nothing was changed: the directory still opens and migrates.
    let store = Store::open(dir.path()).unwrap();
    assert!(store.recovery().migrated);
}

/// Exports copy what they need under the lock and write without it: a
/// slow reader of the export never holds up a STOP.
#[test]
fn a_slow_export_does_not_hold_up_changes() {
    use std::sync::mpsc;
    struct Slow(mpsc::Receiver<()>);
    impl std::io::Write for Slow {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            // Blocks until the test lets it go.
            let _ = self.0.recv();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let store = Store::new();
    for i in 0..100 {
        store.opt_out(&phone(i), &Edit::new()).unwrap();
    }
    let (go, wait) = mpsc::channel();
    std::thread::scope(|s| {
        let exporting = s.spawn(|| {
            store
                .export_csv(Slow(wait), &optout::exchange::Export::all())
                .unwrap()
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        // The export is stuck in its writer; a change still goes through.
        store.opt_out(&phone(500), &Edit::new()).unwrap();
        assert!(store.contains(ListId::SYSTEM, &Scope::Account, &phone(500)));
        drop(go);
        assert_eq!(exporting.join().unwrap(), 100);
    });
}

/// Opening a directory another store has open is refused at once, with a
/// message that names the lock.
#[test]
fn a_second_open_of_a_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = Store::open(dir.path()).unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Locked { .. }), "{err}");
    assert!(err.to_string().contains("LOCK"), "{err}");
    assert!(Journal::open(dir.path()).is_err());
    drop(first);
    Store::open(dir.path()).unwrap();
}

/// A version-1 directory migrates however its journal is opened, also
/// through `Store::builder().log(Journal::open(dir)?)`.
#[test]
fn version_1_directories_migrate_through_the_journal_too() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/v1-store");
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&fixture).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let expected = std::fs::read_to_string(fixture.with_extension("history")).unwrap();
    let store = Store::builder()
        .log(Journal::open(dir.path()).unwrap())
        .build()
        .unwrap();
    assert!(store.recovery().migrated);
    // Every version-1 change, and the deletion's record.
    assert_eq!(store.history(..).len(), expected.lines().count() + 1);
    let history = store.history(..);
    store.checkpoint().unwrap();
    drop(store);
    assert_eq!(Store::open(dir.path()).unwrap().history(..), history);
}
