//! Phone numbers: the normalized type, the reasons a number is refused, and
//! the fast-path-then-full-parser pipeline.

use std::fmt;

use super::Strictness;
use super::phone_fast::{self, FastNumber, RegionMeta};
use super::phonelib;
use crate::address::AddressId;

/// Longest input the phone parser looks at, in characters (as
/// libphonenumber caps it).
pub(crate) const MAX_INPUT_CHARS: usize = 250;

/// A normalized phone number: its E.164 form and, if the input had one, an
/// extension (which is not part of its identity).
///
/// # Example
///
/// ```
/// use optout::Normalizer;
/// use optout::address::Region;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let n = Normalizer::new(Region::new("GB")?);
/// let phone = n.phone("07911 123456")?;
/// assert_eq!(phone.to_string(), "+447911123456");
/// assert_eq!(phone.country_code(), 44);
/// assert_eq!(phone.extension(), None);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone {
    id: AddressId,
    extension: Option<Box<str>>,
}

impl Phone {
    /// `None` unless `digits` is in the phone id range.
    pub(crate) fn new(digits: u64, extension: Option<Box<str>>) -> Option<Phone> {
        let id = AddressId::from_phone_digits(digits)?;
        Some(Phone { id, extension })
    }

    /// Returns the phone number behind a phone id, without an extension.
    ///
    /// Returns `None` for an email id.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::AddressId;
    /// use optout::address::Phone;
    ///
    /// let id = AddressId::from_phone_digits(14155550123).unwrap();
    /// assert_eq!(Phone::from_id(id).unwrap().to_string(), "+14155550123");
    /// assert!(Phone::from_id(AddressId::from_email_index(0)).is_none());
    /// ```
    pub fn from_id(id: AddressId) -> Option<Phone> {
        Phone::new(id.phone_digits()?, None)
    }

    /// Returns the number's compact id: its E.164 digits as an integer.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let phone = Normalizer::default().phone("+44 20 7946 0958")?;
    /// assert_eq!(phone.id().get(), 442079460958);
    /// # Ok(())
    /// # }
    /// ```
    pub fn id(&self) -> AddressId {
        self.id
    }

    /// Returns the E.164 digits as an integer (the id's value).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// assert_eq!(Normalizer::default().phone("+33 6 12 34 56 78")?.digits(), 33612345678);
    /// # Ok(())
    /// # }
    /// ```
    pub fn digits(&self) -> u64 {
        self.id.get()
    }

    /// Returns the E.164 form, `+` and digits.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    /// use optout::address::Region;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let n = Normalizer::new(Region::new("US")?);
    /// assert_eq!(n.phone("tel:+1-415-555-0123")?.e164(), "+14155550123");
    /// # Ok(())
    /// # }
    /// ```
    pub fn e164(&self) -> String {
        self.to_string()
    }

    /// Returns the country calling code.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// assert_eq!(Normalizer::default().phone("+49 30 1234567")?.country_code(), 49);
    /// # Ok(())
    /// # }
    /// ```
    pub fn country_code(&self) -> u16 {
        let digits = self.digits();
        let len = digits.checked_ilog10().unwrap_or(0) as usize + 1;
        (1..=3usize)
            .filter_map(|k| {
                let divisor = phone_fast::POW10.get(len.checked_sub(k)?)?;
                u16::try_from(digits / divisor).ok()
            })
            .find(|&cc| phone_fast::main_region(cc).is_some())
            .unwrap_or(0)
    }

    /// Returns the extension, if the input had one (`ext. 42`, `x42`, …).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    /// use optout::address::Region;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let n = Normalizer::new(Region::new("US")?);
    /// let phone = n.phone("(415) 555-0123 ext. 42")?;
    /// assert_eq!(phone.extension(), Some("42"));
    /// assert_eq!(phone.id(), n.phone("+14155550123")?.id());
    /// # Ok(())
    /// # }
    /// ```
    pub fn extension(&self) -> Option<&str> {
        self.extension.as_deref()
    }
}

impl fmt::Display for Phone {
    /// Writes the E.164 form (the extension is not included).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{}", self.digits())
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Phone {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Why an input is not a usable phone number.
///
/// # Example
///
/// ```
/// use optout::Normalizer;
/// use optout::address::{PhoneReason, Region};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let n = Normalizer::new(Region::new("US")?);
/// assert_eq!(n.phone("415 555"), Err(PhoneReason::TooShort));
/// assert_eq!(n.phone("+999 123 456 789"), Err(PhoneReason::InvalidCountryCode));
/// assert_eq!(PhoneReason::TooShort.to_string(), "too short");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum PhoneReason {
    /// Nothing but whitespace.
    Empty,
    /// Longer than 250 characters.
    InputTooLong,
    /// Not a phone number at all.
    NotANumber,
    /// The country calling code is unknown, or the number is written
    /// nationally and no default region was given.
    InvalidCountryCode,
    /// Shorter than any number of its country.
    TooShort,
    /// Longer than any number of its country.
    TooLong,
    /// Between the shortest and longest lengths of its country, but of no
    /// length its numbers have.
    InvalidLength,
    /// A local number that needs its area code.
    LocalOnly,
    /// Possible, but not a valid number under the metadata (only with
    /// [`Strictness::Valid`]).
    NotValid,
}

impl fmt::Display for PhoneReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PhoneReason::Empty => "empty",
            PhoneReason::InputTooLong => "longer than 250 characters",
            PhoneReason::NotANumber => "not a phone number",
            PhoneReason::InvalidCountryCode => "invalid or missing country calling code",
            PhoneReason::TooShort => "too short",
            PhoneReason::TooLong => "too long",
            PhoneReason::InvalidLength => "invalid length for its country",
            PhoneReason::LocalOnly => "local number without area code",
            PhoneReason::NotValid => "not a valid number",
        })
    }
}

impl std::error::Error for PhoneReason {}

/// What the phone pipeline needs from a normalizer.
pub(crate) struct PhoneContext {
    pub(crate) region: Option<&'static RegionMeta>,
    pub(crate) lib_region: Option<rlibphonenumber::enums::Region>,
    pub(crate) strictness: Strictness,
}

/// Normalizes one phone number: fast path first, full parser otherwise.
pub(crate) fn normalize(input: &str, ctx: &PhoneContext) -> Result<Phone, PhoneReason> {
    let input = trim(input);
    if input.is_empty() {
        return Err(PhoneReason::Empty);
    }
    if input.len() > MAX_INPUT_CHARS && input.chars().count() > MAX_INPUT_CHARS {
        return Err(PhoneReason::InputTooLong);
    }
    match phone_fast::parse(input, ctx.region) {
        Some(Ok(number)) if ctx.strictness == Strictness::Possible && !number.risky => {
            Phone::new(number.digits, None).ok_or(PhoneReason::TooLong)
        }
        Some(Ok(number)) => {
            let phone = finish_fast(number, ctx.strictness)?;
            // Only a national number starting with a national prefix digit
            // can move when read again.
            Ok(if number.risky {
                settle(phone, ctx)
            } else {
                phone
            })
        }
        Some(Err(reason)) => Err(reason),
        None => full(input, ctx),
    }
}

/// `str::trim`, skipping the Unicode scan in the common case of an input
/// that starts and ends with a visible ASCII character.
fn trim(input: &str) -> &str {
    let visible = |b: Option<&u8>| b.is_some_and(|&b| b > b' ' && b < 0x7f);
    let bytes = input.as_bytes();
    if visible(bytes.first()) && visible(bytes.last()) {
        input
    } else {
        input.trim()
    }
}

/// The full parser alone (also the judge in the differential tests).
pub(crate) fn full(input: &str, ctx: &PhoneContext) -> Result<Phone, PhoneReason> {
    let valid = ctx.strictness == Strictness::Valid;
    let parsed = phonelib::parse(input, ctx.lib_region, valid)?;
    let phone = Phone::new(parsed.digits, parsed.extension).ok_or(PhoneReason::TooLong)?;
    Ok(settle(phone, ctx))
}

/// Makes the E.164 form a fixed point. libphonenumber can produce a
/// national number that starts with its country's national prefix (Brazil
/// `0010000000` → `+55010000000`), and reading that E.164 form again strips
/// the prefix (`+5510000000`), one prefix at a time (German `000000cccc`
/// takes four rounds). Such numbers are read again until stable, so
/// that a stored id always re-normalizes to itself; if reading again fails,
/// the first answer stands (an opt-out is never lost to this step).
fn settle(phone: Phone, ctx: &PhoneContext) -> Phone {
    let mut phone = phone;
    // Each round strips at least one digit, and an id has at most 19.
    for _ in 0..19 {
        if !national_part_starts_with_prefix(&phone) {
            break;
        }
        let valid = ctx.strictness == Strictness::Valid;
        match phonelib::parse(&phone.to_string(), None, valid) {
            Ok(again) if again.digits != phone.digits() => {
                match Phone::new(again.digits, phone.extension.clone()) {
                    Some(next) => phone = next,
                    None => break,
                }
            }
            _ => break,
        }
    }
    phone
}

fn national_part_starts_with_prefix(phone: &Phone) -> bool {
    let cc = phone.country_code();
    let Some(meta) = phone_fast::main_region(cc) else {
        return false;
    };
    let digits = phone.digits();
    let len = digits.checked_ilog10().unwrap_or(0) as usize + 1;
    let cc_len = if cc >= 100 {
        3
    } else if cc >= 10 {
        2
    } else {
        1
    };
    // The digit right after the country code.
    let first = len
        .checked_sub(cc_len + 1)
        .and_then(|i| phone_fast::POW10.get(i))
        .map_or(0, |&p| (digits / p) % 10);
    meta.np_first & (1 << first) != 0
}

fn finish_fast(number: FastNumber, strictness: Strictness) -> Result<Phone, PhoneReason> {
    let phone = Phone::new(number.digits, None).ok_or(PhoneReason::TooLong)?;
    if strictness == Strictness::Valid && !phonelib::is_valid(number) {
        return Err(PhoneReason::NotValid);
    }
    Ok(phone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_code_from_digits() {
        for (digits, cc) in [
            (14155550123, 1),
            (447911123456, 44),
            (3716123456, 371),
            (8006123456, 800),
        ] {
            assert_eq!(Phone::new(digits, None).unwrap().country_code(), cc);
        }
    }
}
