//! Wherever the phone fast path answers, it answers what the full parser
//! answers.
#![no_main]

use libfuzzer_sys::fuzz_target;

const REGIONS: [Option<&str>; 9] = [
    None,
    Some("US"),
    Some("GB"),
    Some("DE"),
    Some("BR"),
    Some("IN"),
    Some("JP"),
    Some("AR"),
    Some("JE"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(input) = std::str::from_utf8(rest) else {
        return;
    };
    let region = REGIONS[usize::from(pick & 0x0f) % REGIONS.len()];
    let (fast, full) = optout::fuzzing::phone_paths(input, region, pick & 0x80 != 0);
    if let Some(fast) = fast {
        assert_eq!(fast, full, "{input:?} with {region:?}");
    }
});
