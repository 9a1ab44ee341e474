//! Loading arbitrary bytes never panics; whatever loads saves back to the
//! same bytes and loads again (it satisfies its own invariants).
#![no_main]

use libfuzzer_sys::fuzz_target;
use optout::Store;

fuzz_target!(|data: &[u8]| {
    if let Ok(store) = Store::load(data) {
        let mut saved = Vec::new();
        store.save(&mut saved).unwrap();
        let again = Store::load(saved.as_slice()).expect("a saved store loads");
        let mut resaved = Vec::new();
        again.save(&mut resaved).unwrap();
        assert_eq!(saved, resaved);
    }
});
