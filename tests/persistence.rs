//! Snapshots and the journal: save → load is the identity, the format is
//! pinned by a golden file, damage is refused, and a killed writer loses
//! nothing it reported as recorded.

use std::hash::{BuildHasher, RandomState};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use optout::{Address, ChannelId, DurableStore, Error, Normalizer, Store};
use optout::keyword::{Keywords, Language};
use optout::model::{KeywordScope, ListId, Scope, Source, Timestamp};
use optout::store::{Edit, ListSettings};
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

/// The fixed scenario behind the golden file.
fn scenario() -> Store {
    let store = Store::with_clock(|| Timestamp::from_unix_secs(1_700_000_000));
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
                .scope(Scope::Channel(ChannelId::new(101)))
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
    store.set_keyword_scope(ChannelId::new(202), KeywordScope::Account);
    store
        .set_keywords(
            Keywords::default()
                .help_reply("Acme: help at acme.example")
                .add_opt_out("ENOUGH"),
        )
        .unwrap();
    store
        .set_channel_keywords(
            ChannelId::new(303),
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
        .inbound_at(&phone(8), ChannelId::new(101), "STOPPROMO", t(800))
        .unwrap();
    store
}

#[test]
fn golden_file_pins_the_format() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden.snapshot");
    let fresh = bytes(&scenario());
    if std::env::var_os("OPTOUT_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let golden =
        std::fs::read(&path).expect("tests/data/golden.snapshot (OPTOUT_BLESS=1 writes it)");
    assert_eq!(
        fresh, golden,
        "the snapshot format changed; bump the version and bless a new golden file"
    );
    let loaded = Store::load(golden.as_slice()).unwrap();
    assert_eq!(bytes(&loaded), golden);
    assert_eq!(loaded.history(..), scenario().history(..));
}

#[test]
fn load_restores_behaviour() {
    let original = scenario();
    let loaded = Store::load(bytes(&original).as_slice()).unwrap();
    assert_eq!(loaded.lists(), original.lists());
    assert_eq!(
        loaded.keyword_scope(ChannelId::new(202)),
        KeywordScope::Account
    );
    assert_eq!(
        loaded.keywords(ChannelId::new(303)),
        original.keywords(ChannelId::new(303))
    );
    assert!(loaded.is_blocked(&phone(99)));
    for i in 0..30 {
        for a in [phone(i), email(i)] {
            for list in [ListId::SYSTEM, ListId::new(1), ListId::new(2)] {
                for scope in [Scope::Account, Scope::Channel(ChannelId::new(101))] {
                    assert_eq!(
                        loaded.contains(list, scope, &a),
                        original.contains(list, scope, &a)
                    );
                }
            }
        }
    }
    // Keywords still work, including list keywords, after loading.
    let out = loaded
        .inbound(&phone(9), ChannelId::new(101), "stoppromo")
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
            match Store::load(bad.as_slice()) {
                Err(Error::Corrupt { .. } | Error::Foreign { .. } | Error::Version { .. }) => {}
                other => panic!("flipping byte {i} gave {other:?}"),
            }
        }
    }
}

#[test]
fn foreign_and_future_files_are_named() {
    assert!(matches!(
        Store::load(&b"PK\x03\x04 zip"[..]),
        Err(Error::Foreign { .. })
    ));
    let mut future = bytes(&Store::new());
    future[8] = 2;
    assert!(matches!(
        Store::load(future.as_slice()),
        Err(Error::Version {
            found: 2,
            supported: 1,
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

/// An operation for the arbitrary-store property test.
#[derive(Clone, Debug)]
enum Op {
    CreateList(u8),
    OptOut {
        who: u8,
        email: bool,
        list: u8,
        channel: Option<u8>,
        source: u8,
        at: u32,
    },
    OptIn {
        who: u8,
        email: bool,
        list: u8,
    },
    Many {
        from: u8,
        n: u8,
        list: u8,
    },
    Block(u8),
    DeleteList(u8),
    Scope(u8),
    Inbound {
        who: u8,
        channel: u8,
        text: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<u8>().prop_map(Op::CreateList),
        (
            any::<u8>(),
            any::<bool>(),
            0u8..4,
            proptest::option::of(0u8..3),
            0u8..5,
            any::<u32>()
        )
            .prop_map(|(who, email, list, channel, source, at)| Op::OptOut {
                who,
                email,
                list,
                channel,
                source,
                at
            }),
        (any::<u8>(), any::<bool>(), 0u8..4).prop_map(|(who, email, list)| Op::OptIn {
            who,
            email,
            list
        }),
        (any::<u8>(), 0u8..20, 0u8..4).prop_map(|(from, n, list)| Op::Many { from, n, list }),
        any::<u8>().prop_map(Op::Block),
        (1u8..4).prop_map(Op::DeleteList),
        (0u8..3).prop_map(Op::Scope),
        (any::<u8>(), 0u8..3, 0u8..4).prop_map(|(who, channel, text)| Op::Inbound {
            who,
            channel,
            text
        }),
    ]
}

/// The writes the ops need, on an in-memory or a durable store.
trait Target {
    fn create_list(&self, settings: ListSettings) -> Result<(), Error>;
    fn opt_out(&self, a: &Address, edit: &Edit) -> Result<(), Error>;
    fn opt_in(&self, a: &Address, edit: &Edit) -> Result<(), Error>;
    fn opt_out_many(&self, many: &[Address], edit: &Edit) -> Result<(), Error>;
    fn block(&self, a: &Address) -> Result<(), Error>;
    fn delete_list(&self, list: ListId) -> Result<(), Error>;
    fn enforce_account(&self, channel: ChannelId) -> Result<(), Error>;
    fn inbound(&self, a: &Address, channel: ChannelId, text: &str) -> Result<(), Error>;
}

macro_rules! target_for {
    ($t:ty, $scope:expr) => {
        impl Target for $t {
            fn create_list(&self, settings: ListSettings) -> Result<(), Error> {
                <$t>::create_list(self, settings).map(drop)
            }
            fn opt_out(&self, a: &Address, edit: &Edit) -> Result<(), Error> {
                <$t>::opt_out(self, a, edit).map(drop)
            }
            fn opt_in(&self, a: &Address, edit: &Edit) -> Result<(), Error> {
                <$t>::opt_in(self, a, edit).map(drop)
            }
            fn opt_out_many(&self, many: &[Address], edit: &Edit) -> Result<(), Error> {
                <$t>::opt_out_many(self, many, edit).map(drop)
            }
            fn block(&self, a: &Address) -> Result<(), Error> {
                <$t>::block(self, a, &Edit::new()).map(drop)
            }
            fn delete_list(&self, list: ListId) -> Result<(), Error> {
                <$t>::delete_list(self, list)
            }
            fn enforce_account(&self, channel: ChannelId) -> Result<(), Error> {
                $scope(self, channel)
            }
            fn inbound(&self, a: &Address, channel: ChannelId, text: &str) -> Result<(), Error> {
                <$t>::inbound(self, a, channel, text).map(drop)
            }
        }
    };
}

target_for!(Store, |s: &Store, c| {
    s.set_keyword_scope(c, KeywordScope::Account);
    Ok(())
});
target_for!(DurableStore, |s: &DurableStore, c| s
    .set_keyword_scope(c, KeywordScope::Account));

/// Applies the ops; refused operations are part of the law too: they
/// change nothing.
fn apply(store: &dyn Target, ops: &[Op]) {
    let sources = [
        Source::Manual,
        Source::Keyword,
        Source::WebForm,
        Source::Import,
        Source::Api,
    ];
    let who = |w: u8, e: bool| {
        if e {
            email(u64::from(w))
        } else {
            phone(u64::from(w))
        }
    };
    let list = |l: u8| Edit::new().list(ListId::new(u32::from(l)));
    for op in ops {
        let _ = match op {
            Op::CreateList(n) => {
                store.create_list(ListSettings::new(format!("L{}", n % 5)).keyword(format!("K{n}")))
            }
            Op::OptOut {
                who: w,
                email,
                list: l,
                channel,
                source,
                at,
            } => {
                let mut edit = list(*l)
                    .source(sources[usize::from(*source)])
                    .at(Timestamp::from_unix_secs(i64::from(*at)));
                if let Some(c) = channel {
                    edit = edit.scope(Scope::Channel(ChannelId::new(u64::from(*c))));
                }
                store.opt_out(&who(*w, *email), &edit)
            }
            Op::OptIn {
                who: w,
                email,
                list: l,
            } => store.opt_in(&who(*w, *email), &list(*l)),
            Op::Many { from, n, list: l } => {
                let many: Vec<Address> = (0..*n)
                    .map(|i| who(from.wrapping_add(i), i % 3 == 0))
                    .collect();
                store.opt_out_many(&many, &list(*l))
            }
            Op::Block(w) => store.block(&who(*w, false)),
            Op::DeleteList(l) => store.delete_list(ListId::new(u32::from(*l))),
            Op::Scope(c) => store.enforce_account(ChannelId::new(u64::from(*c))),
            Op::Inbound {
                who: w,
                channel,
                text,
            } => {
                let text = ["STOP", "START", "HELP", "K3"][usize::from(*text)];
                store.inbound(&who(*w, false), ChannelId::new(u64::from(*channel)), text)
            }
        };
    }
}

fn run(ops: &[Op]) -> Store {
    let store = Store::with_clock(|| Timestamp::from_unix_secs(42));
    apply(&store, ops);
    store
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// save → load is the identity on arbitrary stores.
    #[test]
    fn save_then_load_is_the_identity(ops in proptest::collection::vec(op(), 0..60)) {
        let store = run(&ops);
        let saved = bytes(&store);
        let loaded = Store::load(saved.as_slice()).unwrap();
        prop_assert_eq!(bytes(&loaded), saved);
        prop_assert_eq!(loaded.history(..), store.history(..));
        prop_assert_eq!(loaded.lists(), store.lists());
    }

    /// Replaying the journal rebuilds exactly the store that wrote it.
    #[test]
    fn journal_replay_is_the_identity(ops in proptest::collection::vec(op(), 0..30)) {
        let dir = tempfile::tempdir().unwrap();
        let expected = {
            let (durable, _) = DurableStore::open(dir.path()).unwrap();
            apply(&durable, &ops);
            bytes(durable.store())
        };
        let (reopened, recovery) = DurableStore::open(dir.path()).unwrap();
        prop_assert_eq!(recovery.torn_bytes, 0);
        prop_assert_eq!(bytes(reopened.store()), expected);
    }
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
        let (store, _) = DurableStore::open(dir.path()).unwrap();
        store.sync().unwrap();
        let length = || std::fs::metadata(journal_file(dir.path())).unwrap().len() as usize;
        lengths.push(length());
        for i in 0..6u64 {
            let edit = Edit::new().at(Timestamp::from_unix_secs(i as i64));
            if i % 2 == 0 {
                store.opt_out(&phone(i), &edit).unwrap();
            } else {
                store.opt_out(&email(i), &edit).unwrap();
            }
            histories.push(store.store().history(..));
            lengths.push(length());
        }
    }
    let journal = journal_file(dir.path());
    let data = std::fs::read(&journal).unwrap();
    (dir, data, histories, lengths)
}

fn journal_file(dir: &Path) -> std::path::PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "log"))
        .unwrap()
}

#[test]
fn journal_truncated_at_every_offset_opens_to_a_prefix() {
    let (dir, data, histories, _) = journal_fixture();
    let path = journal_file(dir.path());
    for cut in 0..=data.len() {
        std::fs::write(&path, &data[..cut]).unwrap();
        let (store, recovery) =
            DurableStore::open(dir.path()).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        let history = store.store().history(..);
        assert_eq!(
            history, histories[recovery.replayed as usize],
            "cut at {cut}"
        );
        assert_eq!(history.len() as u64, recovery.replayed);
        drop(store);
        // The torn tail was cut off: reopening finds a clean journal.
        let (_, again) = DurableStore::open(dir.path()).unwrap();
        assert_eq!(
            (again.replayed, again.torn_bytes),
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
    // The last record's checksum or payload damaged reads as a torn tail
    // (cut and reported); damage anywhere else is an error, never a
    // silently shorter history.
    let last = lengths[5];
    for i in 0..data.len() {
        let mut bad = data.clone();
        bad[i] ^= 0x20;
        std::fs::write(&path, &bad).unwrap();
        match DurableStore::open(dir.path()) {
            Ok((store, recovery)) => {
                assert!(i >= last + 8, "flip at {i} was not refused");
                assert_eq!(recovery.replayed, 5, "flip at {i}");
                assert_eq!(
                    recovery.torn_bytes,
                    (data.len() - last) as u64,
                    "flip at {i}"
                );
                assert_eq!(store.store().history(..), histories[5], "flip at {i}");
            }
            Err(Error::Corrupt { .. } | Error::Foreign { .. } | Error::Version { .. }) => {
                assert!(
                    i < last + 8,
                    "flip at {i} in the last record's body was refused"
                );
            }
            Err(other) => panic!("flip at {i}: {other}"),
        }
    }
}

#[test]
fn checkpoint_then_more_changes_then_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (store, _) = DurableStore::open(dir.path()).unwrap();
        store.opt_out(&phone(1), &Edit::new()).unwrap();
        store.checkpoint().unwrap();
        store.opt_out(&phone(2), &Edit::new()).unwrap();
        store.checkpoint().unwrap();
        store.opt_out(&phone(3), &Edit::new()).unwrap();
    }
    let (store, recovery) = DurableStore::open(dir.path()).unwrap();
    assert_eq!((recovery.generation, recovery.replayed), (2, 1));
    assert_eq!(store.store().count(ListId::SYSTEM).unwrap(), 3);
    let logs = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "log"))
        .count();
    assert_eq!(logs, 1, "old journals removed");
}

/// The child side of the crash test: records opt-outs one by one and
/// reports each after it returns. Runs only when the parent asks.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os("OPTOUT_CRASH_DIR") else {
        return;
    };
    let start: u64 = std::env::var("OPTOUT_CRASH_START")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (store, _) = DurableStore::open(&dir).unwrap();
    let mut out = std::io::stdout().lock();
    for i in start.. {
        let address = Normalizer::default()
            .address(&format!("+1212{:07}", i))
            .unwrap();
        store.opt_out(&address, &Edit::new()).unwrap();
        use std::io::Write;
        writeln!(out, "recorded {i}").unwrap();
        out.flush().unwrap();
        if i % 97 == 0 {
            store.checkpoint().unwrap();
        }
    }
}

#[test]
fn killed_writer_loses_nothing_it_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut reported: Vec<u64> = Vec::new();
    let mut next = 0u64;
    for round in 0..5u64 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env("OPTOUT_CRASH_DIR", dir.path())
            .env("OPTOUT_CRASH_START", next.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| {
                    l.strip_prefix("recorded ")
                        .and_then(|n| n.parse::<u64>().ok())
                })
                .collect::<Vec<u64>>()
        });
        // A different moment every round and every run.
        let wait = RandomState::new().hash_one(round) % 400;
        std::thread::sleep(Duration::from_millis(100 + wait));
        child.kill().unwrap();
        child.wait().unwrap();
        let got = reader.join().unwrap();
        assert!(!got.is_empty(), "round {round}: the child recorded nothing");
        next = got.last().unwrap() + 1_000;
        reported.extend(got);

        let (store, _) = DurableStore::open(dir.path()).unwrap();
        for i in &reported {
            let address = Normalizer::default()
                .address(&format!("+1212{:07}", i))
                .unwrap();
            assert!(
                store
                    .store()
                    .contains(ListId::SYSTEM, Scope::Account, &address),
                "round {round}: {i} was lost"
            );
        }
    }
}

#[test]
fn ids_the_store_never_assigned_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (durable, _) = DurableStore::open(dir.path()).unwrap();
    let known = durable.opt_out(&email(1), &Edit::new()).unwrap()[0].address;
    assert!(known.is_email());
    let unknown = optout::AddressId::from_email_index(5);
    let phone_id = phone(3).phone_id().unwrap();
    let before = bytes(durable.store());
    let err = durable
        .opt_out_ids(&[phone_id, unknown], &Edit::new())
        .unwrap_err();
    assert!(
        matches!(err, Error::UnknownEmailId(id) if id == unknown),
        "{err}"
    );
    assert_eq!(
        bytes(durable.store()),
        before,
        "a refused change changes nothing"
    );
    // Ids the store did assign are fine, and the store still saves and
    // reopens (the refused record in the journal is refused again).
    assert_eq!(
        durable
            .opt_out_ids(&[phone_id, known], &Edit::new())
            .unwrap()
            .changed,
        1
    );
    let expected = bytes(durable.store());
    drop(durable);
    let (reopened, _) = DurableStore::open(dir.path()).unwrap();
    assert_eq!(bytes(reopened.store()), expected);
    reopened.checkpoint().unwrap();
    drop(reopened);
    let (again, _) = DurableStore::open(dir.path()).unwrap();
    assert_eq!(bytes(again.store()), expected);
}
