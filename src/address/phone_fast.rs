//! The regex-free fast path for phone numbers.
//!
//! It handles ASCII input made of digits, an optional leading `+` and the
//! separators `space - . ( )`: strict E.164, international layouts
//! (`+44 20 7946 0958`, `00 49 30 1234567` with the region's exit code) and
//! national layouts (`(415) 555-0123`, `07911 123456`). It replays the
//! decisions of libphonenumber's parser using the table in `phone_meta`,
//! derived from the same metadata, and answers only where those decisions
//! are settled without a regular expression; everything else goes to the
//! full parser. The differential tests hold it to the full parser's answer.

use super::phone::PhoneReason;
use super::phone_meta::{MAIN_REGION, REGIONS};

/// What the fast path knows about one region of the metadata.
#[derive(Debug)]
pub(crate) struct RegionMeta {
    /// Region code (`"001"` for non-geographic entities).
    pub(crate) code: &'static str,
    /// Country calling code.
    pub(crate) cc: u16,
    /// Possible national number lengths (bit n = length n).
    pub(crate) possible: u32,
    /// Lengths that are possible only for local dialling.
    pub(crate) local_only: u32,
    /// Digits a non-empty national prefix match can start with.
    pub(crate) np_first: u16,
    /// What the national prefix pattern can match at the start of a number,
    /// when that is known (see [`Prefixes`]).
    pub(crate) np: Option<Prefixes>,
    /// Digits a non-empty international (exit) prefix match can start with.
    pub(crate) idd_first: u16,
    /// What the exit prefix pattern can match at the start of a number.
    pub(crate) idd: Option<Prefixes>,
    /// Two-digit starts of the general national number pattern: bit `10a+b`
    /// is set when a number can start with the digits `a b`.
    pub(crate) gen_first2: u128,
}

/// The matches of a prefix pattern, as far as the fast path needs them:
/// whole matches shorter than four digits, and the first four digits of
/// every longer match (or of a match the transform rule could rewrite).
#[derive(Debug)]
pub(crate) struct Prefixes {
    pub(crate) short: &'static [&'static str],
    pub(crate) long: &'static [&'static str],
}

impl Prefixes {
    /// The one string the pattern can match at the start of `d`:
    /// `Some(None)` if it cannot match there, `None` if the answer is not
    /// settled (a longer match is possible, or several are).
    fn match_at_start(&self, d: &[u8]) -> Option<Option<&'static str>> {
        if self.long.iter().any(|l| is_prefix(l, d)) {
            return None;
        }
        let mut found = None;
        for &s in self.short {
            if is_prefix(s, d) {
                if found.is_some() {
                    return None;
                }
                found = Some(s);
            }
        }
        Some(found)
    }
}

fn is_prefix(lit: &str, d: &[u8]) -> bool {
    lit.len() <= d.len() && lit.bytes().zip(d).all(|(l, &x)| l.wrapping_sub(b'0') == x)
}

/// The longest digit string the fast path looks at: a phone id has at most
/// 19 digits, and an exit code adds up to 4 (longer inputs go to the full
/// parser).
const MAX_DIGITS: usize = 24;
const MIN_LENGTH_FOR_NSN: usize = 2;
const MAX_LENGTH_FOR_NSN: usize = 17;

/// Region index for each country calling code (`u16::MAX` = none).
// Evaluated at compile time: an out-of-range index is a build error.
#[allow(clippy::indexing_slicing)]
static CC_INDEX: [u16; 1000] = {
    let mut table = [u16::MAX; 1000];
    let mut i = 0;
    while i < MAIN_REGION.len() {
        let (cc, region) = MAIN_REGION[i];
        table[cc as usize] = region;
        i += 1;
    }
    table
};

/// Looks up a region's row by its two-letter code.
pub(crate) fn region_meta(code: &str) -> Option<&'static RegionMeta> {
    REGIONS
        .binary_search_by(|r| r.code.cmp(code))
        .ok()
        .and_then(|i| REGIONS.get(i))
}

/// The main region's row for a country calling code.
#[inline]
pub(crate) fn main_region(cc: u16) -> Option<&'static RegionMeta> {
    let index = *CC_INDEX.get(usize::from(cc))?;
    REGIONS.get(usize::from(index))
}

/// Every row, for tests and region listings.
pub(crate) fn regions() -> &'static [RegionMeta] {
    REGIONS
}

/// The outcome of a length check, as libphonenumber's `TestNumberLength`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Length {
    Possible,
    LocalOnly,
    TooShort,
    TooLong,
    Invalid,
}

#[inline]
pub(crate) fn test_length(len: usize, possible: u32, local_only: u32) -> Length {
    if possible == 0 {
        return Length::Invalid;
    }
    if len >= 32 {
        return Length::TooLong;
    }
    let bit = 1u32 << len;
    if local_only & bit != 0 {
        return Length::LocalOnly;
    }
    let min = possible.trailing_zeros() as usize;
    let max = 31 - possible.leading_zeros() as usize;
    if min == len {
        Length::Possible
    } else if min > len {
        Length::TooShort
    } else if max < len {
        Length::TooLong
    } else if possible & bit != 0 {
        Length::Possible
    } else {
        Length::Invalid
    }
}

impl Length {
    /// The per-recipient reason for a length that is not possible.
    pub(crate) fn reason(self) -> Option<PhoneReason> {
        match self {
            Length::Possible => None,
            Length::LocalOnly => Some(PhoneReason::LocalOnly),
            Length::TooShort => Some(PhoneReason::TooShort),
            Length::TooLong => Some(PhoneReason::TooLong),
            Length::Invalid => Some(PhoneReason::InvalidLength),
        }
    }
}

/// A number the fast path parsed: country calling code and national
/// significant number, as the full parser would produce them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FastNumber {
    pub(crate) cc: u16,
    /// National significant number, leading zeros included.
    pub(crate) nsn: u64,
    pub(crate) nsn_len: u8,
    /// The national number starts with a digit its main region's national
    /// prefix can start with: reading the E.164 form again may change it.
    pub(crate) risky: bool,
    /// The E.164 digits as an integer (the phone id).
    pub(crate) digits: u64,
}

impl FastNumber {
    /// Leading zeros of the national number, as libphonenumber records them
    /// (an all-zero number keeps its last zero).
    pub(crate) fn leading_zeros(&self) -> u32 {
        let len = u32::from(self.nsn_len);
        if self.nsn == 0 {
            return len.saturating_sub(1);
        }
        let digits = self.nsn.ilog10() + 1;
        len.saturating_sub(digits)
    }
}

/// Digits collected from the input, as values 0–9.
struct Digits {
    buf: [u8; MAX_DIGITS],
    len: usize,
}

impl Digits {
    fn as_slice(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

/// Runs the fast path. `None` means "ask the full parser".
///
/// `input` must already be trimmed and at most the input length cap.
#[inline(always)]
pub(crate) fn parse(
    input: &str,
    region: Option<&RegionMeta>,
) -> Option<Result<FastNumber, PhoneReason>> {
    // An RFC 3966 URI without parameters is its number: the parser skips
    // to the first `+` or digit either way.
    if let Some(rest) = input.strip_prefix("tel:")
        && !rest.contains(';')
    {
        return parse(rest, region);
    }
    let bytes = input.as_bytes();
    if let [b'+', rest @ ..] = bytes
        && rest.len() <= 19
        && !rest
            .iter()
            .fold(false, |bad, &b| bad | (b.wrapping_sub(b'0') > 9))
    {
        return strict_e164(rest);
    }
    let (plus, rest) = match bytes.split_first() {
        Some((b'+', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let mut digits = Digits {
        buf: [0; MAX_DIGITS],
        len: 0,
    };
    let mut letters = false;
    // The count is a local, not the struct's field, so that it stays in a
    // register through the loop.
    let mut len = 0;
    for &b in rest {
        match b {
            b'0'..=b'9' => {
                *digits.buf.get_mut(len)? = b - b'0';
                len += 1;
            }
            b' ' | b'-' | b'.' | b'(' | b')' => {}
            _ if b.is_ascii() && !b.is_ascii_digit() && b != b'+' => letters = true,
            _ => return None,
        }
    }
    digits.len = len;
    if letters {
        // With no digit and no '+' there is nothing that can start a number;
        // anything else with letters (vanity numbers, extensions) is the full
        // parser's.
        if digits.len == 0 && !plus {
            return Some(Err(PhoneReason::NotANumber));
        }
        return None;
    }
    let d = digits.as_slice();
    if d.len() < 4 {
        return None;
    }
    if plus {
        return international(d);
    }
    national(d, region?)
}

/// `+` and nothing but ASCII digits: the common stored form, without the
/// digit buffer. Same decisions as [`international`].
#[inline(always)]
fn strict_e164(ascii: &[u8]) -> Option<Result<FastNumber, PhoneReason>> {
    if ascii.len() < 4 || ascii.first() == Some(&b'0') {
        return None;
    }
    let (cc, meta, cc_len) = calling_code(ascii, b'0')?;
    let nsn = ascii.get(cc_len..)?;
    let first = nsn.first()?.wrapping_sub(b'0');
    let len = nsn.len();
    if meta.np_first & (1 << first) != 0
        || !(MIN_LENGTH_FOR_NSN..=MAX_LENGTH_FOR_NSN).contains(&len)
    {
        return None;
    }
    if let Some(reason) = test_length(len, meta.possible, meta.local_only).reason() {
        return Some(Err(reason));
    }
    let digits = digits_value(ascii, b'0')?;
    let value = digits.checked_sub(u64::from(cc).checked_mul(*POW10.get(len)?)?)?;
    Some(Ok(FastNumber {
        cc,
        nsn: value,
        nsn_len: len as u8,
        risky: meta.np_first & (1 << first) != 0,
        digits,
    }))
}

/// The country calling code at the start of `d` (digit values after
/// subtracting `zero`): the shortest prefix of one to three digits that is a
/// known code, as the parser reads it. The three lookups are independent
/// loads, so mixed country codes cost no mispredicted loop.
#[inline]
fn calling_code(d: &[u8], zero: u8) -> Option<(u16, &'static RegionMeta, usize)> {
    let digit = |i: usize| d.get(i).map_or(0, |&b| u16::from(b.wrapping_sub(zero)));
    let c1 = digit(0);
    let c2 = c1 * 10 + digit(1);
    let c3 = c2 * 10 + digit(2);
    let index = |cc: u16| CC_INDEX.get(usize::from(cc)).copied().unwrap_or(u16::MAX);
    let (i1, i2, i3) = (index(c1), index(c2), index(c3));
    let (cc, i, len) = if i1 != u16::MAX {
        (c1, i1, 1)
    } else if i2 != u16::MAX {
        (c2, i2, 2)
    } else {
        (c3, i3, 3)
    };
    if len > d.len() {
        return None;
    }
    Some((cc, REGIONS.get(usize::from(i))?, len))
}

/// `+` or exit code followed by `d`: country calling code, then the national
/// number, which the parser checks against the main region's national
/// prefix.
fn international(d: &[u8]) -> Option<Result<FastNumber, PhoneReason>> {
    if d.len() <= MIN_LENGTH_FOR_NSN || d.first() == Some(&0) {
        return None;
    }
    let (cc, meta, cc_len) = calling_code(d, 0)?;
    let nsn = d.get(cc_len..)?;
    if starts_with_any(nsn, meta.np_first) {
        return None;
    }
    finish(cc, nsn)
}

/// Digits without `+`, read with the caller's default region.
fn national(d: &[u8], region: &RegionMeta) -> Option<Result<FastNumber, PhoneReason>> {
    // When the exit code pattern cannot match here, the number is national.
    if starts_with_any(d, region.idd_first)
        && let Some(idd) = region.idd.as_ref()?.match_at_start(d)?
    {
        let rest = d.get(idd.len()..)?;
        // The parser does not treat it as an exit code when a 0 follows
        // (country codes never start with 0).
        if rest.first() == Some(&0) || rest.len() <= MIN_LENGTH_FOR_NSN {
            return None;
        }
        return international(rest);
    }
    if let Some(after_cc) = strip_cc(d, region.cc) {
        // The parser strips the region's own country code from a number
        // without `+` only after comparing patterns, unless the whole number
        // is too long for the region: only that case is settled here.
        if test_length(d.len(), region.possible, region.local_only) != Length::TooLong {
            return None;
        }
        let main = main_region(region.cc)?;
        if after_cc.is_empty() || starts_with_any(after_cc, region.np_first | main.np_first) {
            return None;
        }
        return finish(region.cc, after_cc);
    }
    let nsn = strip_national_prefix(d, region)?;
    finish(region.cc, nsn)
}

/// The national number left after the parser's national prefix step, or
/// `None` when that step depends on a pattern match.
fn strip_national_prefix<'a>(d: &'a [u8], region: &RegionMeta) -> Option<&'a [u8]> {
    if !starts_with_any(d, region.np_first) {
        return Some(d);
    }
    let Some(prefix) = region.np.as_ref()?.match_at_start(d)? else {
        return Some(d); // the prefix pattern cannot match
    };
    if prefix.is_empty() {
        return Some(d);
    }
    // The parser keeps the prefix when the whole number matches the general
    // pattern and the rest does not; rule that out by the first two digits.
    let start = match d {
        [a, b, ..] => u32::from(*a) * 10 + u32::from(*b),
        _ => return None,
    };
    if region.gen_first2 & (1u128 << start) != 0 {
        return None;
    }
    let stripped = d.get(prefix.len()..)?;
    match test_length(stripped.len(), region.possible, region.local_only) {
        Length::Possible | Length::TooLong => Some(stripped),
        _ => Some(d),
    }
}

#[inline]
fn finish(cc: u16, nsn: &[u8]) -> Option<Result<FastNumber, PhoneReason>> {
    let len = nsn.len();
    if !(MIN_LENGTH_FOR_NSN..=MAX_LENGTH_FOR_NSN).contains(&len) {
        return None;
    }
    let meta = main_region(cc)?;
    if let Some(reason) = test_length(len, meta.possible, meta.local_only).reason() {
        return Some(Err(reason));
    }
    let value = digits_value(nsn, 0)?;
    let digits = u64::from(cc)
        .checked_mul(*POW10.get(len)?)?
        .checked_add(value)?;
    Some(Ok(FastNumber {
        cc,
        nsn: value,
        nsn_len: len as u8,
        risky: meta.np_first & (1 << nsn.first().copied().unwrap_or(0)) != 0,
        digits,
    }))
}

/// Reads digits (values 0–9 after subtracting `zero`) as an integer, four
/// at a time: a multiply-add per digit is one long dependency chain, four
/// digits per step make it a quarter as long. `None` on overflow.
#[inline]
fn digits_value(d: &[u8], zero: u8) -> Option<u64> {
    let v = |b: u8| u64::from(b.wrapping_sub(zero));
    let head = d.len() % 4;
    let (first, rest) = d.split_at_checked(head)?;
    let mut acc = first.iter().fold(0u64, |acc, &b| acc * 10 + v(b));
    for quad in rest.chunks_exact(4) {
        if let [a, b, c, e] = *quad {
            let group = v(a) * 1000 + v(b) * 100 + v(c) * 10 + v(e);
            acc = acc.checked_mul(10_000)?.checked_add(group)?;
        }
    }
    Some(acc)
}

/// Powers of ten that fit in a `u64`.
// Evaluated at compile time: an out-of-range index is a build error.
#[allow(clippy::indexing_slicing)]
pub(crate) const POW10: [u64; 20] = {
    let mut table = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// `d` without a leading country calling code `cc`, if it starts with it.
fn strip_cc(d: &[u8], cc: u16) -> Option<&[u8]> {
    let len = if cc >= 100 {
        3
    } else if cc >= 10 {
        2
    } else {
        1
    };
    let (head, tail) = d.split_at_checked(len)?;
    let value = head.iter().fold(0u16, |acc, &x| acc * 10 + u16::from(x));
    (value == cc).then_some(tail)
}

fn starts_with_any(d: &[u8], set: u16) -> bool {
    d.first().is_some_and(|&first| set & (1 << first) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> &'static RegionMeta {
        region_meta("US").unwrap()
    }

    fn gb() -> &'static RegionMeta {
        region_meta("GB").unwrap()
    }

    fn ok(input: &str, region: Option<&RegionMeta>) -> u64 {
        match parse(input, region) {
            Some(Ok(n)) => n.digits,
            other => panic!("{input}: {other:?}"),
        }
    }

    #[test]
    fn strict_e164() {
        assert_eq!(ok("+14155550123", None), 14155550123);
        assert_eq!(ok("+447911123456", None), 447911123456);
        assert_eq!(ok("+390612345678", None), 390612345678);
    }

    #[test]
    fn national_layouts() {
        assert_eq!(ok("(415) 555-0123", Some(us())), 14155550123);
        assert_eq!(ok("1 415 555 0123", Some(us())), 14155550123);
        assert_eq!(ok("07911 123456", Some(gb())), 447911123456);
        assert_eq!(ok("011 44 20 7946 0958", Some(us())), 442079460958);
        assert_eq!(ok("0049 30 1234567", Some(gb())), 49301234567);
    }

    #[test]
    fn declines_what_needs_a_regex() {
        // A national prefix after the country code (Brazil strips it).
        assert_eq!(parse("+55087424029418", None), None);
        // Letters, extensions, non-ASCII.
        assert_eq!(parse("1-800-FLOWERS", Some(us())), None);
        assert_eq!(parse("+1 415 555 0123 ext 12", None), None);
        assert_eq!(parse("＋14155550123", None), None);
        // A national number without a region.
        assert_eq!(parse("4155550123", None), None);
    }

    #[test]
    fn length_reasons() {
        assert_eq!(parse("+1415555012", None), Some(Err(PhoneReason::TooShort)));
        assert_eq!(
            parse("+141555501234", None),
            Some(Err(PhoneReason::TooLong))
        );
        assert_eq!(
            parse("555-0123", Some(us())),
            Some(Err(PhoneReason::LocalOnly))
        );
        assert_eq!(
            parse("hello", Some(us())),
            Some(Err(PhoneReason::NotANumber))
        );
    }

    #[test]
    fn test_length_matches_libphonenumber_rules() {
        let possible = 1 << 7 | 1 << 9 | 1 << 10;
        let local = 1 << 5;
        assert_eq!(test_length(9, possible, local), Length::Possible);
        assert_eq!(test_length(8, possible, local), Length::Invalid);
        assert_eq!(test_length(6, possible, local), Length::TooShort);
        assert_eq!(test_length(5, possible, local), Length::LocalOnly);
        assert_eq!(test_length(11, possible, local), Length::TooLong);
        assert_eq!(test_length(3, 0, 0), Length::Invalid);
    }

    #[test]
    fn digits_value_reads_every_length() {
        for n in 0..=19usize {
            let text: String = (0..n)
                .map(|i| char::from(b'0' + ((i * 7 + 3) % 10) as u8))
                .collect();
            let expected = if n == 0 {
                0
            } else {
                text.parse::<u64>().unwrap()
            };
            assert_eq!(
                digits_value(text.as_bytes(), b'0'),
                Some(expected),
                "{text}"
            );
            let values: Vec<u8> = text.bytes().map(|b| b - b'0').collect();
            assert_eq!(digits_value(&values, 0), Some(expected), "{text}");
        }
        assert_eq!(digits_value(b"99999999999999999999", b'0'), None);
    }

    #[test]
    fn leading_zeros() {
        let n = |nsn, nsn_len| FastNumber {
            cc: 39,
            nsn,
            nsn_len,
            risky: false,
            digits: 0,
        };
        assert_eq!(n(612345678, 10).leading_zeros(), 1);
        assert_eq!(n(5, 3).leading_zeros(), 2);
        assert_eq!(n(0, 3).leading_zeros(), 2);
        assert_eq!(n(123, 3).leading_zeros(), 0);
    }
}
