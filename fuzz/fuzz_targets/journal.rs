//! Replaying arbitrary journal bytes never panics; the good prefix replays
//! to the same store, and the result survives save → load.
#![no_main]

use libfuzzer_sys::fuzz_target;
use optout::Store;

fn bytes(store: &Store) -> Vec<u8> {
    let mut out = Vec::new();
    store.save(&mut out).unwrap();
    out
}

fuzz_target!(|data: &[u8]| {
    if let Ok((store, good, replayed)) = optout::fuzzing::replay_journal(data) {
        assert!(good <= data.len());
        let (again, good2, replayed2) =
            optout::fuzzing::replay_journal(&data[..good]).expect("the good prefix replays");
        assert_eq!((good2, replayed2), (good, replayed));
        let saved = bytes(&store);
        assert_eq!(saved, bytes(&again));
        assert_eq!(bytes(&Store::load(saved.as_slice()).unwrap()), saved);
    }
});
