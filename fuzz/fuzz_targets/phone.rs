//! Phone normalization never panics, and a normalized number read again
//! (as E.164, with no region) is the same number.
#![no_main]

use libfuzzer_sys::fuzz_target;
use optout::Normalizer;
use optout::address::Region;

const REGIONS: [&str; 8] = ["US", "GB", "DE", "BR", "IN", "JP", "AR", "FR"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let input = String::from_utf8_lossy(rest);
    let region = Region::new(REGIONS[usize::from(pick) % REGIONS.len()]).unwrap();
    let n = Normalizer::new(region);
    if let Ok(phone) = n.phone(&input) {
        let again = Normalizer::default().phone(&phone.to_string());
        assert_eq!(again.map(|p| p.id()), Ok(phone.id()), "{input:?} → {phone}");
        assert!(phone.id().is_phone());
    }
});
