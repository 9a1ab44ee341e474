//! The one place that talks to the phone library (`rlibphonenumber`), so
//! that it can be swapped without touching the rest of the crate.
//!
//! Each thread gets its own `PhoneNumberUtil`: the library's global instance
//! shares its compiled regexes between threads and measured slower on two
//! threads than on one, while one instance per thread scales (see the
//! `normalize` bench). Building one takes a few milliseconds.
//!
//! The library panics on some inputs (a `tel:` after `;phone-context=`), so
//! such inputs are refused before parsing and every call runs under
//! `catch_unwind`: one hostile recipient must not abort a batch.

use std::panic::{AssertUnwindSafe, catch_unwind};

use rlibphonenumber::{
    NumberLengthType, ParseError, PhoneNumber as LibNumber, PhoneNumberFormat, PhoneNumberUtil,
    ValidationError, enums::Region as LibRegion,
};

use super::phone::PhoneReason;
use super::phone_fast::FastNumber;

thread_local! {
    static UTIL: Option<PhoneNumberUtil> = PhoneNumberUtil::new().ok();
}

/// A number as the full parser produced it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// E.164 digits as an integer.
    pub(crate) digits: u64,
    pub(crate) extension: Option<Box<str>>,
}

/// Runs `f` with this thread's util, containing any panic.
fn with_util<T>(f: impl FnOnce(&PhoneNumberUtil) -> T) -> Option<T> {
    UTIL.with(|util| {
        let util = util.as_ref()?;
        catch_unwind(AssertUnwindSafe(|| f(util))).ok()
    })
}

/// Builds this thread's util and compiles the lazily built patterns the
/// first ASCII, vanity and non-ASCII inputs would otherwise pay for.
pub(crate) fn warm_up() {
    for (input, region) in [
        ("+1 415-555-0123", None),
        ("1-800-FLOWERS", Some(LibRegion::US)),
        ("＋１ ４１５ ５５５ ０１２３", None),
        ("07911 123456", Some(LibRegion::GB)),
    ] {
        let _ = with_util(|util| util.parse(input, region).map(|n| util.is_valid_number(&n)));
    }
}

/// Maps one of our region codes to the library's.
pub(crate) fn lib_region(code: &str) -> Option<LibRegion> {
    LibRegion::from_code(code).ok()
}

/// `true` for input the library is known to panic on: `tel:` after
/// `;phone-context=` (ASCII case-insensitive, to be safe).
fn is_known_panic(input: &str) -> bool {
    let lower = input.to_ascii_lowercase();
    lower
        .find(";phone-context=")
        .is_some_and(|at| lower.get(at..).is_some_and(|rest| rest.contains("tel:")))
}

/// Parses with the full parser and checks the number at the given level.
pub(crate) fn parse(
    input: &str,
    region: Option<LibRegion>,
    valid: bool,
) -> Result<Parsed, PhoneReason> {
    if is_known_panic(input) {
        return Err(PhoneReason::NotANumber);
    }
    let outcome = with_util(|util| -> Result<Parsed, PhoneReason> {
        let number = util.parse(input, region).map_err(parse_reason)?;
        check(util, &number, valid)?;
        let e164 = util.format(&number, PhoneNumberFormat::E164);
        let digits = e164
            .strip_prefix('+')
            .and_then(|d| d.parse::<u64>().ok())
            .ok_or(PhoneReason::TooLong)?;
        Ok(Parsed {
            digits,
            extension: number.extension.filter(|e| !e.is_empty()).map(Into::into),
        })
    });
    outcome.unwrap_or(Err(PhoneReason::NotANumber))
}

/// Checks a number parsed by the fast path for validity.
pub(crate) fn is_valid(number: FastNumber) -> bool {
    let zeros = number.leading_zeros();
    let lib = LibNumber {
        country_code: i32::from(number.cc),
        national_number: number.nsn,
        italian_leading_zero: (zeros > 0).then_some(true),
        number_of_leading_zeros: (zeros > 1).then(|| i32::try_from(zeros).unwrap_or(i32::MAX)),
        ..LibNumber::default()
    };
    with_util(|util| util.is_valid_number(&lib)).unwrap_or(false)
}

fn check(util: &PhoneNumberUtil, number: &LibNumber, valid: bool) -> Result<(), PhoneReason> {
    match util.is_possible_number_with_reason(number) {
        Ok(NumberLengthType::IsPossible) => {}
        Ok(NumberLengthType::IsPossibleLocalOnly) => return Err(PhoneReason::LocalOnly),
        Err(ValidationError::InvalidCountryCode) => return Err(PhoneReason::InvalidCountryCode),
        Err(ValidationError::TooShort) => return Err(PhoneReason::TooShort),
        Err(ValidationError::TooLong) => return Err(PhoneReason::TooLong),
        Err(ValidationError::InvalidLength) => return Err(PhoneReason::InvalidLength),
    }
    if valid && !util.is_valid_number(number) {
        return Err(PhoneReason::NotValid);
    }
    Ok(())
}

fn parse_reason(err: ParseError) -> PhoneReason {
    match err {
        ParseError::InvalidCountryCode => PhoneReason::InvalidCountryCode,
        ParseError::NotANumber(_) => PhoneReason::NotANumber,
        ParseError::TooShortAfterIdd | ParseError::TooShortNsn => PhoneReason::TooShort,
        ParseError::TooLongNsn => PhoneReason::TooLong,
    }
}

/// Calling codes the library knows, for consistency tests.
#[cfg(test)]
pub(crate) fn calling_codes() -> Vec<i32> {
    with_util(|util| util.get_supported_calling_codes().collect()).unwrap_or_default()
}

/// The main region code the library uses for a calling code.
#[cfg(test)]
pub(crate) fn main_region_code(cc: i32) -> Option<String> {
    with_util(|util| {
        util.get_region_for_country_code(cc)
            .map(|r| r.as_region_str().to_string())
    })
    .flatten()
}

/// The library's length verdict for a national number of `len` digits.
#[cfg(test)]
pub(crate) fn length_verdict(cc: u16, len: usize) -> Result<NumberLengthType, ValidationError> {
    let number = LibNumber {
        country_code: i32::from(cc),
        national_number: "9".repeat(len).parse().unwrap_or(u64::MAX),
        ..LibNumber::default()
    };
    with_util(|util| util.is_possible_number_with_reason(&number))
        .unwrap_or(Err(ValidationError::InvalidCountryCode))
}

/// Example numbers for a region in E.164, international and national
/// formats, for the differential tests.
#[cfg(test)]
pub(crate) fn example_numbers(code: &str) -> Vec<String> {
    use rlibphonenumber::PhoneNumberType as T;
    let Some(region) = lib_region(code) else {
        return Vec::new();
    };
    with_util(|util| {
        let mut out = Vec::new();
        for kind in [
            T::FixedLine,
            T::Mobile,
            T::TollFree,
            T::PremiumRate,
            T::SharedCost,
            T::VoIP,
            T::PersonalNumber,
            T::Pager,
            T::UAN,
            T::VoiceMail,
        ] {
            if let Ok(n) = util.get_example_number_for_type_and_region(region, kind) {
                for format in [
                    PhoneNumberFormat::E164,
                    PhoneNumberFormat::International,
                    PhoneNumberFormat::National,
                    PhoneNumberFormat::RFC3966,
                ] {
                    out.push(util.format(&n, format).into_owned());
                }
                out.push(
                    util.format_out_of_country_calling_number(&n, LibRegion::US)
                        .into_owned(),
                );
                out.push(
                    util.format_out_of_country_calling_number(&n, LibRegion::GB)
                        .into_owned(),
                );
            }
        }
        out
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_panic_input_is_refused_not_raised() {
        assert_eq!(
            parse("1;phone-context=+1;tel:", Some(LibRegion::US), false),
            Err(PhoneReason::NotANumber)
        );
        assert_eq!(
            parse("1;PHONE-CONTEXT=+1;TEL:", Some(LibRegion::US), false),
            Err(PhoneReason::NotANumber)
        );
    }

    #[test]
    fn full_parser_formats() {
        let us = Some(LibRegion::US);
        assert_eq!(
            parse("tel:+1-415-555-0123", us, false).map(|p| p.digits),
            Ok(14155550123)
        );
        assert_eq!(
            parse("1-800-FLOWERS", us, false).map(|p| p.digits),
            Ok(18003569377)
        );
        assert_eq!(
            parse("＋１４１５５５５０１２３", us, false).map(|p| p.digits),
            Ok(14155550123)
        );
        let ext = parse("+1 415 555 0123 ext. 42", us, false).unwrap();
        assert_eq!(
            (ext.digits, ext.extension.as_deref()),
            (14155550123, Some("42"))
        );
    }
}
