//! Fault injection: a scripted workload on a journal whose disk fails the
//! k-th write, sync, truncation, rename, directory sync, file creation,
//! removal, reopening for append, read or directory listing, for every k. Every change reported as recorded must survive a
//! reopen, every change reported as failed must never appear, and the
//! store must go on working (or refuse clearly) afterwards.

use std::sync::{Arc, Mutex};

use super::Journal;
use super::disk::faulty::{FaultyDisk, KINDS, Kind, Plan};
use crate::address::Address;
use crate::model::{Channel, ListId, Scope};
use crate::store::{Edit, ListSettings};
use crate::{Normalizer, Store};

#[derive(Clone, Copy, Debug)]
enum Step {
    OptOut(u64),
    Block(u64),
    CreateList(u64),
    Inbound(u64),
    Email(u64),
    Checkpoint,
}

fn script(checkpoints: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    if checkpoints {
        // A checkpoint with nothing to record: the new file would have
        // the current file's name.
        steps.push(Step::Checkpoint);
    }
    for i in 0..36u64 {
        steps.push(match i % 6 {
            0 | 3 => Step::OptOut(i),
            1 => Step::CreateList(i),
            2 => Step::Inbound(i),
            4 => Step::Email(i),
            _ => Step::Block(i),
        });
        if checkpoints && i % 7 == 6 {
            steps.push(Step::Checkpoint);
        }
    }
    if checkpoints {
        // Two in a row, then changes that only the journal holds: the
        // second one's new file would have the current file's name.
        steps.extend([
            Step::Checkpoint,
            Step::Checkpoint,
            Step::OptOut(90),
            Step::Email(91),
            Step::Block(92),
        ]);
    }
    steps
}

fn phone(i: u64) -> Address {
    Normalizer::default()
        .address(&format!("+1415555{:04}", i))
        .unwrap()
}

fn email(i: u64) -> Address {
    Normalizer::default()
        .address(&format!("person{i}@example.com"))
        .unwrap()
}

fn run(store: &Store, step: Step) -> bool {
    try_run(store, step).is_ok()
}

fn try_run(store: &Store, step: Step) -> Result<(), crate::Error> {
    let sms = Channel::new("sms1").unwrap();
    match step {
        Step::OptOut(i) => store.opt_out(&phone(i), &Edit::new()).map(drop),
        Step::Block(i) => store.block(&phone(i), &Edit::new()).map(drop),
        Step::CreateList(i) => store
            .create_list(ListSettings::new(format!("list {i}")))
            .map(drop),
        Step::Inbound(i) => store.inbound(&phone(i), &sms, "STOP").map(drop),
        Step::Email(i) => store.opt_out(&email(i), &Edit::new()).map(drop),
        Step::Checkpoint => store.checkpoint(),
    }
}

/// `true` if the step's change is in the store.
fn present(store: &Store, step: Step) -> Option<bool> {
    let sms = Scope::Channel(Channel::new("sms1").unwrap());
    Some(match step {
        Step::OptOut(i) => store.contains(ListId::SYSTEM, &Scope::Account, &phone(i)),
        Step::Block(i) => store.is_blocked(&phone(i)),
        Step::CreateList(i) => store.list_named(&format!("list {i}")).is_some(),
        Step::Inbound(i) => store.contains(ListId::SYSTEM, &sms, &phone(i)),
        Step::Email(i) => store.contains(ListId::SYSTEM, &Scope::Account, &email(i)),
        Step::Checkpoint => return None,
    })
}

fn open(dir: &std::path::Path, plan: &Arc<Mutex<Plan>>) -> Result<Store, crate::Error> {
    let journal = Journal::open_on(dir, Box::new(FaultyDisk(Arc::clone(plan))))?;
    Store::builder().log(journal).build()
}

/// How many operations of each kind a fault-free run does.
fn counts(checkpoints: bool) -> Vec<(Kind, u64)> {
    let dir = tempfile::tempdir().unwrap();
    let plan = Arc::new(Mutex::new(Plan::default()));
    let store = open(dir.path(), &plan).unwrap();
    for step in script(checkpoints) {
        assert!(run(&store, step), "{step:?} fails without faults");
    }
    drop(store);
    plan.lock().unwrap().counts.clone()
}

#[test]
fn every_single_fault_loses_nothing_acknowledged_and_adds_nothing_refused() {
    // With checkpoints, and without (so that a damaged journal file is not
    // simply replaced by the next checkpoint before the reopen).
    for checkpoints in [true, false] {
        single_faults(checkpoints);
    }
}

fn single_faults(checkpoints: bool) {
    let counts = counts(checkpoints);
    let mut runs = 0;
    let mut refused = 0;
    for kind in KINDS {
        let total = counts
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0, |(_, n)| *n);
        for at in 1..=total {
            runs += 1;
            let dir = tempfile::tempdir().unwrap();
            let plan = Arc::new(Mutex::new(Plan {
                fail: vec![(kind, at)],
                ..Plan::default()
            }));
            let mut outcomes = Vec::new();
            match open(dir.path(), &plan) {
                Ok(store) => {
                    for step in script(checkpoints) {
                        let ok = run(&store, step);
                        if !ok && let Some(p) = present(&store, step) {
                            assert!(!p, "{kind:?} #{at}: {step:?} failed but was applied");
                        }
                        refused += u64::from(!ok);
                        outcomes.push((step, ok));
                    }
                }
                // The injected fault hit the open itself: it refused
                // clearly, and nothing was acknowledged.
                Err(e) => assert!(e.to_string().contains("injected"), "{e}"),
            }
            // Reopen on a healthy disk: acknowledged changes are there,
            // refused ones are not, and the store takes new changes.
            let healthy = Arc::new(Mutex::new(Plan::default()));
            let store = open(dir.path(), &healthy)
                .unwrap_or_else(|e| panic!("{kind:?} #{at}: reopen failed: {e}"));
            for (step, ok) in &outcomes {
                if let Some(p) = present(&store, *step) {
                    assert_eq!(
                        p, *ok,
                        "{kind:?} #{at}: {step:?} reported {ok} but present={p}"
                    );
                }
            }
            assert!(
                run(&store, Step::OptOut(9_999)),
                "{kind:?} #{at}: no write after reopen"
            );
            drop(store);
            let store = open(dir.path(), &healthy).unwrap();
            assert!(present(&store, Step::OptOut(9_999)).unwrap_or(false));
        }
    }
    assert!(runs > 60, "only {runs} fault runs");
    // The faults did make changes fail (the test would be empty otherwise).
    assert!(refused > runs / 2, "{refused} refused steps in {runs} runs");
    eprintln!("{runs} fault runs, {refused} refused steps");
}

/// A write whose sync fails and whose removal fails too: the journal
/// refuses every write after it (the failed record may or may not be on
/// disk), and a reopen finds every acknowledged change and takes new ones.
#[test]
fn a_failed_write_that_cannot_be_taken_back_stops_the_journal() {
    let counts = counts(false);
    let syncs = counts
        .iter()
        .find(|(k, _)| *k == Kind::Sync)
        .map_or(0, |(_, n)| *n);
    assert!(syncs > 10);
    for at in 2..=syncs {
        let dir = tempfile::tempdir().unwrap();
        let plan = Arc::new(Mutex::new(Plan {
            fail: vec![(Kind::Sync, at), (Kind::SetLen, 1)],
            ..Plan::default()
        }));
        let store = open(dir.path(), &plan).unwrap();
        let mut acknowledged = Vec::new();
        let mut broken = false;
        for step in script(false) {
            let result = try_run(&store, step);
            let ok = result.is_ok();
            if broken {
                assert!(
                    !ok,
                    "sync #{at}: {step:?} was written after the journal broke"
                );
            } else if ok {
                acknowledged.push(step);
            } else {
                broken = plan.lock().unwrap().failed;
                if broken && let Err(err) = &result {
                    // The caller can tell "failed" from "may be kept".
                    assert!(
                        matches!(err.kind(), crate::error::ErrorKind::LogBroken(_)),
                        "sync #{at}: {err}"
                    );
                }
            }
        }
        assert!(broken, "sync #{at}: the double fault never happened");
        drop(store);
        let healthy = Arc::new(Mutex::new(Plan::default()));
        let store = open(dir.path(), &healthy).unwrap();
        for step in acknowledged {
            assert_ne!(
                present(&store, step),
                Some(false),
                "sync #{at}: {step:?} lost"
            );
        }
        assert!(run(&store, Step::OptOut(9_999)));
    }
}
