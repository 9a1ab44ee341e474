//! Importing arbitrary files never panics, and every row is accounted for:
//! applied, unchanged or rejected with its line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use optout::{Normalizer, Store};
use optout::address::Region;
use optout::exchange::{Import, ImportFormat};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let n = Normalizer::new(Region::new("US").unwrap());
    let format = if pick % 2 == 0 {
        ImportFormat::Csv
    } else {
        ImportFormat::Lines
    };
    let store = Store::new();
    if let Ok(report) = store.import(rest, &n, &Import::new().format(format)) {
        assert_eq!(
            report.rows,
            report.applied + report.unchanged + report.rejected.len() as u64,
            "{report:?}"
        );
        assert!(report.rejected.iter().all(|r| r.line >= 1));
    }
});
