//! Differential tests: wherever the phone fast path answers, it must answer
//! exactly what the full parser answers; and the fast path's table must
//! agree with the library it was generated from.

use super::Strictness;
use super::phone::{self, PhoneContext, PhoneReason};
use super::phone_fast::{self, Length, RegionMeta};
use super::phonelib;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn context(region: Option<&'static RegionMeta>, strictness: Strictness) -> PhoneContext {
    PhoneContext {
        region,
        lib_region: region.and_then(|r| phonelib::lib_region(r.code)),
        strictness,
    }
}

/// Compares both paths on one input; returns whether the fast path answered.
fn compare(input: &str, region: Option<&'static RegionMeta>) -> bool {
    let trimmed = input.trim();
    if trimmed.is_empty() || trimmed.len() > phone::MAX_INPUT_CHARS {
        return false;
    }
    let Some(fast) = phone_fast::parse(trimmed, region) else {
        return false;
    };
    for strictness in [Strictness::Possible, Strictness::Valid] {
        let ctx = context(region, strictness);
        let full = phone::full(input, &ctx);
        let combined = phone::normalize(input, &ctx);
        let region_code = region.map_or("none", |r| r.code);
        assert_eq!(
            combined, full,
            "fast path disagrees with the full parser on {input:?} (region {region_code}, {strictness:?}); fast said {fast:?}"
        );
    }
    true
}

#[test]
fn table_matches_library_calling_codes_and_main_regions() {
    let codes = phonelib::calling_codes();
    assert!(
        codes.len() > 200,
        "library reports {} calling codes",
        codes.len()
    );
    for cc in &codes {
        let cc16 = u16::try_from(*cc).unwrap();
        let meta =
            phone_fast::main_region(cc16).unwrap_or_else(|| panic!("no table row for +{cc}"));
        assert_eq!(meta.cc, cc16);
        let lib_main = phonelib::main_region_code(*cc).unwrap();
        let ours = if meta.code == "001" { "001" } else { meta.code };
        assert_eq!(ours, lib_main, "main region of +{cc}");
    }
    for cc in 0..1000u16 {
        if phone_fast::main_region(cc).is_some() {
            assert!(
                codes.contains(&i32::from(cc)),
                "table has +{cc}, library does not"
            );
        }
    }
}

#[test]
fn table_lengths_match_library_for_every_calling_code() {
    use rlibphonenumber::{NumberLengthType, ValidationError};
    for cc in phonelib::calling_codes() {
        let cc = u16::try_from(cc).unwrap();
        let meta = phone_fast::main_region(cc).unwrap();
        for len in 1..=20 {
            let ours = phone_fast::test_length(len, meta.possible, meta.local_only);
            let theirs = match phonelib::length_verdict(cc, len) {
                Ok(NumberLengthType::IsPossible) => Length::Possible,
                Ok(NumberLengthType::IsPossibleLocalOnly) => Length::LocalOnly,
                Err(ValidationError::TooShort) => Length::TooShort,
                Err(ValidationError::TooLong) => Length::TooLong,
                Err(ValidationError::InvalidLength) => Length::Invalid,
                Err(ValidationError::InvalidCountryCode) => panic!("+{cc} unknown to the library"),
            };
            assert_eq!(ours, theirs, "+{cc}, national length {len}");
        }
    }
}

#[test]
fn table_was_generated_from_the_pinned_library_version() {
    let manifest = include_str!("../../Cargo.toml");
    let pin = format!(
        "rlibphonenumber = \"={}\"",
        super::phone_meta::SOURCE_VERSION
    );
    assert!(
        manifest.contains(&pin),
        "Cargo.toml must pin {pin}; regenerate src/address/phone_meta.rs with tools/phonemeta after an upgrade"
    );
}

/// Regions used as defaults when reading every example number.
fn default_regions() -> Vec<Option<&'static RegionMeta>> {
    let mut out = vec![None];
    for code in [
        "US", "GB", "DE", "FR", "BR", "IN", "JP", "AU", "RU", "IT", "CN", "AR", "MX", "JE", "CA",
    ] {
        out.push(phone_fast::region_meta(code));
    }
    out
}

fn all_region_codes() -> Vec<&'static str> {
    phone_fast::regions()
        .iter()
        .map(|r| r.code)
        .filter(|c| c.len() == 2)
        .collect()
}

#[test]
fn example_numbers_in_every_format_and_region() {
    let defaults = default_regions();
    let mut answered = 0;
    let mut total = 0;
    for code in all_region_codes() {
        let own = phone_fast::region_meta(code);
        for example in phonelib::example_numbers(code) {
            for region in defaults.iter().copied().chain([own]) {
                total += 1;
                answered += usize::from(compare(&example, region));
            }
        }
    }
    assert!(total > 10_000, "only {total} cases");
    // E.164 and international forms are about half the cases, and most
    // national forms read with their own region also take the fast path.
    assert!(
        answered * 2 > total,
        "fast path answered only {answered} of {total}"
    );
}

const NOISE: &[&str] = &[
    " ", "-", ".", "(", ")", "  ", " - ", "/", "x", "#", "*", ",", "\t", "+", "0", "00", "tel:",
];

/// Rewrites an example number with random separators, exit codes, prefix
/// changes and digit edits.
fn mutate(rng: &mut Rng, input: &str) -> String {
    let digits: String = input.chars().filter(char::is_ascii_digit).collect();
    let plus = input.trim_start().starts_with('+');
    match rng.below(8) {
        0 => {
            // Random separators between digits.
            let mut out = String::new();
            if plus {
                out.push('+');
            }
            for c in digits.chars() {
                if rng.below(3) == 0 {
                    let sep: &&str = rng.pick(&[" ", "-", ".", "(", ")", " ("]);
                    out.push_str(sep);
                }
                out.push(c);
            }
            out
        }
        1 => format!(
            "{}{}",
            *rng.pick(&["00", "011", "0011", "810", "000", "001", "0"]),
            digits
        ),
        2 => {
            // A national prefix or stray digit after the country code.
            let cut = 1 + rng.below(3.min(digits.len().max(1)));
            let (a, b) = digits.split_at(cut.min(digits.len()));
            format!(
                "+{a}{}{b}",
                *rng.pick(&["0", "1", "8", "9", "00", "90", "15"])
            )
        }
        3 => {
            // Drop or duplicate a digit.
            let mut d: Vec<char> = digits.chars().collect();
            if !d.is_empty() {
                let i = rng.below(d.len());
                if rng.below(2) == 0 {
                    d.remove(i);
                } else {
                    d.insert(i, d[i]);
                }
            }
            let body: String = d.into_iter().collect();
            if plus { format!("+{body}") } else { body }
        }
        4 => {
            // Change one digit.
            let mut d: Vec<u8> = digits.bytes().collect();
            if !d.is_empty() {
                let i = rng.below(d.len());
                d[i] = b'0' + rng.below(10) as u8;
            }
            let body = String::from_utf8(d).unwrap();
            if plus { format!("+{body}") } else { body }
        }
        5 => {
            // Noise inserted anywhere.
            let mut out: Vec<char> = input.chars().collect();
            let at = rng.below(out.len() + 1);
            let noise: Vec<char> = rng.pick(NOISE).chars().collect();
            for (k, c) in noise.into_iter().enumerate() {
                out.insert(at + k, c);
            }
            out.into_iter().collect()
        }
        6 => format!("  {digits}  "),
        _ => {
            // Truncate or extend.
            let keep = rng.below(digits.len() + 3);
            let mut body: String = digits.chars().take(keep).collect();
            while body.len() < keep {
                body.push(char::from(b'0' + rng.below(10) as u8));
            }
            if plus { format!("+{body}") } else { body }
        }
    }
}

#[test]
fn randomized_punctuation_and_noise() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let defaults = default_regions();
    let codes = all_region_codes();
    let mut answered = 0;
    let cases = 60_000;
    for _ in 0..cases {
        let code = *rng.pick(&codes);
        let examples = phonelib::example_numbers(code);
        if examples.is_empty() {
            continue;
        }
        let mut input = rng.pick(&examples).clone();
        for _ in 0..=rng.below(2) {
            input = mutate(&mut rng, &input);
        }
        let region = if rng.below(3) == 0 {
            phone_fast::region_meta(code)
        } else {
            *rng.pick(&defaults)
        };
        answered += usize::from(compare(&input, region));
    }
    assert!(
        answered > cases / 4,
        "fast path answered only {answered} of {cases}"
    );
}

#[test]
fn random_digit_strings() {
    let mut rng = Rng(42);
    let defaults = default_regions();
    let mut answered = 0;
    let cases = 60_000;
    for _ in 0..cases {
        let len = 3 + rng.below(20);
        let mut s: String = (0..len)
            .map(|_| char::from(b'0' + rng.below(10) as u8))
            .collect();
        if rng.below(2) == 0 {
            s.insert(0, '+');
        }
        answered += usize::from(compare(&s, *rng.pick(&defaults)));
    }
    assert!(
        answered > cases / 4,
        "fast path answered only {answered} of {cases}"
    );
}

#[test]
fn brazil_national_prefix_after_country_code() {
    // The full parser rewrites this to +5587424029418; the fast path must
    // not answer it differently.
    let input = "+55087424029418";
    compare(input, None);
    let ctx = context(None, Strictness::Possible);
    assert_eq!(
        phone::normalize(input, &ctx).map(|p| p.digits()),
        Ok(5587424029418)
    );
}

#[test]
fn reasons_agree_on_garbage() {
    let ctx = context(phone_fast::region_meta("US"), Strictness::Possible);
    for input in ["hello", "abc def", "x", "--", "((()))"] {
        assert_eq!(
            phone::normalize(input, &ctx),
            Err(PhoneReason::NotANumber),
            "{input}"
        );
        assert_eq!(
            phone::full(input, &ctx),
            Err(PhoneReason::NotANumber),
            "{input}"
        );
    }
}

#[test]
fn national_and_exit_prefixes_followed_by_random_digits() {
    // National numbers that begin with the region's own national prefix or
    // exit code: the cases where the parser's choices depend on patterns.
    let mut rng = Rng(7);
    let mut answered = 0;
    let mut total = 0;
    for meta in phone_fast::regions().iter().filter(|r| r.code.len() == 2) {
        let lists = [&meta.np, &meta.idd];
        let prefixes = lists
            .into_iter()
            .flatten()
            .flat_map(|p| p.short.iter().chain(p.long.iter()))
            .map(|s| s.to_string())
            .chain([meta.cc.to_string(), String::new()]);
        for prefix in prefixes.collect::<Vec<_>>() {
            for len in 1..=16 {
                for _ in 0..3 {
                    let tail: String = (0..len)
                        .map(|_| char::from(b'0' + rng.below(10) as u8))
                        .collect();
                    total += 1;
                    answered += usize::from(compare(&format!("{prefix}{tail}"), Some(meta)));
                }
            }
        }
    }
    assert!(
        answered * 3 > total,
        "fast path answered only {answered} of {total}"
    );
}

#[test]
fn national_prefix_kept_when_the_whole_number_is_viable() {
    // India's toll-free 000800 numbers begin with the national prefix 0 but
    // are whole numbers: the parser keeps the 0s.
    let india = phone_fast::region_meta("IN");
    for input in ["000800 1234567", "0008001234567", "000800-123-4567"] {
        compare(input, india);
    }
    let ctx = context(india, Strictness::Possible);
    assert_eq!(
        phone::normalize("000800 1234567", &ctx).map(|p| p.digits()),
        Ok(910008001234567)
    );
}
