//! Filters running while the store changes: every filter result must be
//! one the store could give at some moment — never a torn mix — and never
//! older than one the same reader saw before; the types that are shared
//! between threads are `Send + Sync`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use optout::filter::SkipReason;
use optout::model::{Category, ListId};
use optout::store::{Edit, ListSettings};
use optout::{Address, Dispatch, Normalizer, Store};

/// One writer's script: opt-outs, opt-ins and a list deletion and
/// re-creation, on addresses no other writer touches.
#[derive(Clone, Copy, Debug)]
enum Step {
    OptOut(usize),
    OptIn(usize),
    ListOptOut(usize),
    DeleteList,
    CreateList,
}

const PEOPLE: usize = 40;

fn script(seed: u64) -> Vec<Step> {
    let mut x = seed;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..400)
        .map(|_| match next() % 10 {
            0..=3 => Step::OptOut((next() % PEOPLE as u64) as usize),
            4..=5 => Step::OptIn((next() % PEOPLE as u64) as usize),
            6..=7 => Step::ListOptOut((next() % PEOPLE as u64) as usize),
            8 => Step::DeleteList,
            _ => Step::CreateList,
        })
        .collect()
}

fn person(writer: usize, i: usize) -> Address {
    Normalizer::default()
        .address(&format!("+1{}55501{:02}", 212 + writer, i))
        .unwrap()
}

fn list_name(writer: usize) -> String {
    format!("List {writer}")
}

/// Applies a step; refused steps (deleting an absent list) change nothing.
fn apply(store: &Store, writer: usize, step: Step) {
    let list = || store.list_named(&list_name(writer)).map(|l| l.id());
    let _ = match step {
        Step::OptOut(i) => store.opt_out(&person(writer, i), &Edit::new()).map(drop),
        Step::OptIn(i) => store.opt_in(&person(writer, i), &Edit::new()).map(drop),
        Step::ListOptOut(i) => match list() {
            Some(l) => store
                .opt_out(&person(writer, i), &Edit::new().list(l))
                .map(drop),
            None => Ok(()),
        },
        Step::DeleteList => match list() {
            Some(l) => store.delete_list(l).map(drop),
            None => Ok(()),
        },
        Step::CreateList => store
            .create_list(ListSettings::new(list_name(writer)))
            .map(drop),
    };
}

/// The verdicts a marketing send honouring the writer's list gives for the
/// writer's people, in every state its script passes through.
fn states(writer: usize, steps: &[Step]) -> Vec<Vec<Option<SkipReason>>> {
    let store = Store::new();
    store
        .create_list(ListSettings::new(list_name(writer)))
        .unwrap();
    let verdicts = |store: &Store| -> Vec<Option<SkipReason>> {
        let mut send = Dispatch::new(Category::Marketing)
            .channel(optout::model::Channel::new("sms1").unwrap());
        if let Some(l) = store.list_named(&list_name(writer)) {
            send = send.honour(l.id());
        }
        (0..PEOPLE)
            .map(|i| store.check(&person(writer, i), &send).unwrap())
            .collect()
    };
    let mut out = vec![verdicts(&store)];
    for &step in steps {
        apply(&store, writer, step);
        out.push(verdicts(&store));
    }
    out
}

#[test]
fn filters_see_only_states_the_store_passed_through() {
    const WRITERS: usize = 2;
    let scripts: Vec<Vec<Step>> = (0..WRITERS).map(|w| script(0x5EED + w as u64)).collect();
    let expected: Vec<Vec<Vec<Option<SkipReason>>>> = scripts
        .iter()
        .enumerate()
        .map(|(w, s)| states(w, s))
        .collect();

    let store = Arc::new(Store::new());
    for w in 0..WRITERS {
        store.create_list(ListSettings::new(list_name(w))).unwrap();
    }
    let audience: Vec<String> = (0..WRITERS)
        .flat_map(|w| (0..PEOPLE).map(move |i| person(w, i).to_string()))
        .collect();
    let done = Arc::new(AtomicBool::new(false));

    let writers: Vec<_> = scripts
        .iter()
        .cloned()
        .enumerate()
        .map(|(w, steps)| {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                for step in steps {
                    apply(&store, w, step);
                    // Leave the readers room to run between changes.
                    thread::sleep(std::time::Duration::from_micros(200));
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (store, done, audience, expected) = (
                Arc::clone(&store),
                Arc::clone(&done),
                audience.clone(),
                expected.clone(),
            );
            thread::spawn(move || {
                let n = Normalizer::default();
                let mut checked = 0;
                let mut during = 0;
                // How far each writer had got, at the least, in the last
                // state this reader saw: a later filter never goes back.
                let mut floor = [0usize; WRITERS];
                while !done.load(Ordering::SeqCst) || checked < 20 {
                    let running = !done.load(Ordering::SeqCst);
                    // A send that honours every writer's list (those that
                    // exist when it is compiled).
                    let mut send = Dispatch::new(Category::Marketing)
                        .channel(optout::model::Channel::new("sms1").unwrap());
                    for w in 0..WRITERS {
                        if let Some(l) = store.list_named(&list_name(w)) {
                            send = send.honour(l.id());
                        }
                    }
                    let Ok(suppression) = store.compile(&send) else {
                        continue; // a list was deleted between lookup and compile
                    };
                    let split = suppression.split(&n, &audience);
                    for (w, states) in expected.iter().enumerate() {
                        let got: Vec<Option<SkipReason>> = split.outcomes()
                            [w * PEOPLE..(w + 1) * PEOPLE]
                            .iter()
                            .map(|o| o.skip_reason())
                            .collect();
                        let at: Vec<usize> = states
                            .iter()
                            .enumerate()
                            .filter(|(_, s)| **s == got)
                            .map(|(k, _)| k)
                            .collect();
                        assert!(
                            !at.is_empty(),
                            "writer {w}: a filter saw a state the store never had: {got:?}"
                        );
                        let (first, last) = (at[0], at[at.len() - 1]);
                        assert!(
                            last >= floor[w],
                            "writer {w}: a filter saw step {last} after one had seen step {}",
                            floor[w]
                        );
                        floor[w] = floor[w].max(first);
                    }
                    checked += 1;
                    during += usize::from(running);
                }
                during
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let during: usize = readers.into_iter().map(|r| r.join().unwrap()).sum();
    assert!(
        during >= 30,
        "only {during} filters ran while the writers were writing"
    );
    // The final state is the last one of each script.
    for (w, states) in expected.iter().enumerate() {
        let mut send = Dispatch::new(Category::Marketing)
            .channel(optout::model::Channel::new("sms1").unwrap());
        if let Some(l) = store.list_named(&list_name(w)) {
            send = send.honour(l.id());
        }
        let last: Vec<Option<SkipReason>> = (0..PEOPLE)
            .map(|i| store.check(&person(w, i), &send).unwrap())
            .collect();
        assert_eq!(&last, states.last().unwrap());
    }
}

#[test]
fn a_change_made_before_compile_is_always_honoured() {
    let store = Arc::new(Store::new());
    let n = Normalizer::default();
    for i in 0..200 {
        let a = n.address(&format!("+1415555{:04}", i)).unwrap();
        let store2 = Arc::clone(&store);
        let a2 = a.clone();
        thread::spawn(move || store2.opt_out(&a2, &Edit::new()).unwrap())
            .join()
            .unwrap();
        let suppression = store.compile(&Dispatch::new(Category::Marketing)).unwrap();
        assert_eq!(suppression.check(&a), Some(SkipReason::OptedOut));
    }
}

/// Every public type that should be shareable across threads is.
#[test]
fn public_types_are_send_and_sync() {
    fn shared<T: Send + Sync>() {}
    // Moved into the store they build, from any thread.
    fn sendable<T: Send>() {}
    sendable::<optout::persist::Journal>();
    sendable::<optout::store::StoreBuilder>();
    shared::<optout::Address>();
    shared::<optout::AddressId>();
    shared::<optout::address::AddressKind>();
    shared::<optout::filter::BitmapSplit>();
    shared::<optout::store::Bulk>();
    shared::<optout::model::Category>();
    shared::<optout::store::Change>();
    shared::<optout::model::Channel>();
    shared::<optout::unsubscribe::Click<'static>>();
    shared::<optout::filter::Digest>();
    shared::<optout::Dispatch>();
    shared::<optout::persist::Durability>();
    shared::<optout::persist::MemoryLog>();
    shared::<optout::store::Policy>();
    shared::<optout::store::Edit>();
    shared::<optout::address::Email>();
    shared::<optout::Error>();
    shared::<optout::store::Event>();
    shared::<optout::exchange::Export>();
    shared::<optout::filter::HashedList>();
    shared::<optout::filter::IdSplit>();
    shared::<optout::exchange::Import>();
    shared::<optout::exchange::ImportReport>();
    shared::<optout::inbound::Inbound>();
    shared::<optout::address::Invalid>();
    shared::<optout::keyword::KeywordMatcher>();
    shared::<optout::keyword::Keywords>();
    shared::<optout::store::List>();
    shared::<ListId>();
    shared::<ListSettings>();
    shared::<optout::Normalizer>();
    shared::<optout::filter::Outcome>();
    shared::<optout::address::Phone>();
    shared::<optout::persist::Recovery>();
    shared::<optout::address::Region>();
    shared::<optout::filter::Report>();
    shared::<optout::error::RowError>();
    shared::<optout::model::Scope>();
    shared::<optout::filter::SkipReason>();
    shared::<optout::filter::Split>();
    shared::<Store>();
    shared::<optout::Suppression>();
    shared::<optout::model::Timestamp>();
    shared::<optout::unsubscribe::TokenRejected>();
    shared::<optout::unsubscribe::UnsubscribeKeys>();
    shared::<optout::unsubscribe::UnsubscribeToken>();
    shared::<optout::unsubscribe::Unsubscribed>();
}
