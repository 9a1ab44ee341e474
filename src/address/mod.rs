//! Address normalization: phone numbers and email addresses to canonical
//! forms and compact ids.

mod email;
mod emails;
mod id;
mod phone;
mod phone_fast;
mod phone_meta;
mod phonelib;

#[cfg(test)]
mod diff_tests;

#[cfg(fuzzing)]
pub(crate) mod fuzzing {
    use super::{Phone, PhoneReason, Strictness, phone, phone_fast, phonelib};

    /// The fast path's answer (if it gives one) and the full parser's, at
    /// the given strictness, with `region` as the default region.
    pub fn phone_paths(
        input: &str,
        region: Option<&str>,
        valid: bool,
    ) -> (
        Option<Result<Phone, PhoneReason>>,
        Result<Phone, PhoneReason>,
    ) {
        let meta = region.and_then(phone_fast::region_meta);
        let ctx = phone::PhoneContext {
            region: meta,
            lib_region: meta.and_then(|m| phonelib::lib_region(m.code)),
            strictness: if valid {
                Strictness::Valid
            } else {
                Strictness::Possible
            },
        };
        let trimmed = input.trim();
        let fast = if trimmed.is_empty() || trimmed.len() > phone::MAX_INPUT_CHARS {
            None
        } else {
            phone_fast::parse(trimmed, meta).map(|_| phone::normalize(input, &ctx))
        };
        (fast, phone::full(input, &ctx))
    }
}

use std::fmt;
use std::str::FromStr;

use rayon::prelude::*;

pub use email::{Email, EmailAliases, EmailReason};
pub(crate) use emails::EmailTable;
pub use id::{AddressId, InvalidId};
pub(crate) use id::{EMAIL_BASE, PHONE_LIMIT};
pub use phone::{Phone, PhoneReason};

use crate::error::{Error, ErrorKind};

/// A region (country or territory) by its ISO 3166-1 alpha-2 code, used as
/// the default for phone numbers written in national form.
///
/// Only regions the phone metadata knows are accepted.
///
/// # Example
///
/// ```
/// use optout::address::Region;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let gb: Region = "gb".parse()?;
/// assert_eq!(gb.as_str(), "GB");
/// assert_eq!(gb.country_code(), 44);
/// assert!(Region::new("ZZ").is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy)]
pub struct Region {
    meta: &'static phone_fast::RegionMeta,
    lib: rlibphonenumber::enums::Region,
}

impl Region {
    /// Looks up a region by code, case-insensitively.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownRegion`](crate::error::ErrorKind) if the phone metadata has no such region.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let us = optout::address::Region::new("US")?;
    /// assert_eq!(us.to_string(), "US");
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(code: &str) -> Result<Region, Error> {
        let upper = code.trim().to_ascii_uppercase();
        let known = upper.len() == 2 && upper.bytes().all(|b| b.is_ascii_uppercase());
        known
            .then(|| phone_fast::region_meta(&upper))
            .flatten()
            .and_then(Region::from_meta)
            .ok_or_else(|| {
                ErrorKind::UnknownRegion {
                    code: code.to_owned(),
                }
                .into()
            })
    }

    fn from_meta(meta: &'static phone_fast::RegionMeta) -> Option<Region> {
        let lib = phonelib::lib_region(meta.code)?;
        (meta.code.len() == 2).then_some(Region { meta, lib })
    }

    /// Returns the two-letter code.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// assert_eq!(optout::address::Region::new("de")?.as_str(), "DE");
    /// # Ok(())
    /// # }
    /// ```
    pub fn as_str(&self) -> &'static str {
        self.meta.code
    }

    /// Returns the region's country calling code.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// assert_eq!(optout::address::Region::new("CA")?.country_code(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn country_code(&self) -> u16 {
        self.meta.cc
    }

    /// Iterates over every region the phone metadata knows, by code.
    ///
    /// # Example
    ///
    /// ```
    /// let all: Vec<optout::address::Region> = optout::address::Region::all().collect();
    /// assert!(all.len() > 200);
    /// assert!(all.iter().any(|r| r.as_str() == "FR"));
    /// ```
    pub fn all() -> impl Iterator<Item = Region> {
        phone_fast::regions().iter().filter_map(Region::from_meta)
    }
}

impl PartialEq for Region {
    fn eq(&self, other: &Region) -> bool {
        self.meta.code == other.meta.code
    }
}

impl Eq for Region {}

impl std::hash::Hash for Region {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.meta.code.hash(state);
    }
}

impl PartialOrd for Region {
    fn partial_cmp(&self, other: &Region) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Region {
    fn cmp(&self, other: &Region) -> std::cmp::Ordering {
        self.meta.code.cmp(other.meta.code)
    }
}

impl fmt::Debug for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Region({})", self.meta.code)
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.meta.code)
    }
}

impl FromStr for Region {
    type Err = Error;

    fn from_str(s: &str) -> Result<Region, Error> {
        Region::new(s)
    }
}

/// How strictly phone numbers are checked.
///
/// # Example
///
/// ```
/// use optout::Normalizer;
/// use optout::address::{PhoneReason, Region, Strictness};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let us = Region::new("US")?;
/// let possible = Normalizer::new(us);
/// let valid = Normalizer::builder().region(us).strictness(Strictness::Valid).build();
/// // Area code 099 does not exist, but the number has a possible length.
/// assert!(possible.phone("(099) 555-0123").is_ok());
/// assert_eq!(valid.phone("(099) 555-0123"), Err(PhoneReason::NotValid));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Strictness {
    /// Country calling code and length only. The default, and the right
    /// level for recording opt-outs: a number from a range the metadata
    /// does not know yet is still recorded.
    #[default]
    Possible,
    /// Full validation against the metadata's number patterns.
    Valid,
}

/// A normalized address.
///
/// # Example
///
/// ```
/// use optout::{Address, Normalizer};
/// use optout::address::Region;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let n = Normalizer::new(Region::new("US")?);
/// assert!(matches!(n.address("(415) 555-0123")?, Address::Phone(_)));
/// assert!(matches!(n.address("ann@example.com")?, Address::Email(_)));
/// assert_eq!(n.address("ANN@example.com")?.to_string(), "ann@example.com");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Address {
    /// A phone number.
    Phone(Phone),
    /// An email address.
    Email(Email),
}

impl Address {
    /// Returns which kind of address this is.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    /// use optout::address::AddressKind;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// assert_eq!(Normalizer::default().address("+14155550123")?.kind(), AddressKind::Phone);
    /// # Ok(())
    /// # }
    /// ```
    pub fn kind(&self) -> AddressKind {
        match self {
            Address::Phone(_) => AddressKind::Phone,
            Address::Email(_) => AddressKind::Email,
        }
    }

    /// Returns the phone number, if this is one.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let a = Normalizer::default().address("+14155550123")?;
    /// assert_eq!(a.as_phone().map(|p| p.digits()), Some(14155550123));
    /// # Ok(())
    /// # }
    /// ```
    pub fn as_phone(&self) -> Option<&Phone> {
        match self {
            Address::Phone(p) => Some(p),
            Address::Email(_) => None,
        }
    }

    /// Returns the email address, if this is one.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let a = Normalizer::default().address("ann@example.com")?;
    /// assert_eq!(a.as_email().map(|e| e.as_str()), Some("ann@example.com"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn as_email(&self) -> Option<&Email> {
        match self {
            Address::Email(e) => Some(e),
            Address::Phone(_) => None,
        }
    }

    /// Returns the phone id; email ids come from a
    /// store (see [`Store::id`](crate::Store::id)).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let n = Normalizer::default();
    /// assert_eq!(n.address("+14155550123")?.phone_id().map(|id| id.get()), Some(14155550123));
    /// assert_eq!(n.address("ann@example.com")?.phone_id(), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn phone_id(&self) -> Option<AddressId> {
        self.as_phone().map(Phone::id)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Phone(p) => p.fmt(f),
            Address::Email(e) => e.fmt(f),
        }
    }
}

impl From<Phone> for Address {
    fn from(p: Phone) -> Address {
        Address::Phone(p)
    }
}

impl From<Email> for Address {
    fn from(e: Email) -> Address {
        Address::Email(e)
    }
}

/// The two kinds of address.
///
/// # Example
///
/// ```
/// use optout::address::AddressKind;
///
/// assert_eq!(AddressKind::guess("ann@example.com"), AddressKind::Email);
/// assert_eq!(AddressKind::guess("+1 415 555 0123"), AddressKind::Phone);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum AddressKind {
    /// A phone number (SMS, WhatsApp, voice).
    Phone,
    /// An email address.
    Email,
}

impl AddressKind {
    /// Guesses the kind of a raw input: an `@` means email.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::address::AddressKind;
    ///
    /// assert_eq!(AddressKind::guess("tel:+14155550123"), AddressKind::Phone);
    /// ```
    pub fn guess(input: &str) -> AddressKind {
        if input.contains('@') {
            AddressKind::Email
        } else {
            AddressKind::Phone
        }
    }
}

impl fmt::Display for AddressKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressKind::Phone => "phone",
            AddressKind::Email => "email",
        })
    }
}

/// Why an input could not be normalized: the per-recipient outcome for bad
/// input (never an [`Error`]).
///
/// # Example
///
/// ```
/// use optout::Normalizer;
/// use optout::address::{Invalid, PhoneReason};
///
/// let n = Normalizer::default();
/// let err = n.address("12").unwrap_err();
/// assert_eq!(err, Invalid::Phone(PhoneReason::InvalidCountryCode));
/// assert_eq!(err.to_string(), "invalid number: invalid or missing country calling code");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Invalid {
    /// The input was read as a phone number.
    Phone(PhoneReason),
    /// The input was read as an email address.
    Email(EmailReason),
}

impl Invalid {
    /// Returns which kind of address the input was read as.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    /// use optout::address::AddressKind;
    ///
    /// let err = Normalizer::default().address("a@b").unwrap_err();
    /// assert_eq!(err.kind(), AddressKind::Email);
    /// ```
    pub fn kind(&self) -> AddressKind {
        match self {
            Invalid::Phone(_) => AddressKind::Phone,
            Invalid::Email(_) => AddressKind::Email,
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Invalid::Phone(r) => write!(f, "invalid number: {r}"),
            Invalid::Email(r) => write!(f, "invalid email: {r}"),
        }
    }
}

impl std::error::Error for Invalid {}

/// Turns raw phone numbers and email addresses into canonical
/// [`Address`]es.
///
/// A normalizer is cheap to clone, `Send + Sync`, and holds only settings:
/// the default region for national phone numbers, the [`Strictness`] of
/// phone checks and the [`EmailAliases`] policy.
///
/// The first number parsed on a thread builds that thread's phone metadata
/// (a few milliseconds); [`Normalizer::warm_up`] does it ahead of time.
///
/// # Example
///
/// ```
/// use optout::Normalizer;
/// use optout::address::Region;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let n = Normalizer::new(Region::new("US")?);
/// for input in ["+14155550123", "(415) 555-0123", "tel:+1-415-555-0123", "415.555.0123"] {
///     assert_eq!(n.phone(input)?.to_string(), "+14155550123");
/// }
/// let all = n.addresses(&["(415) 555-0123", "ann@example.com", "oops"]);
/// assert!(all[0].is_ok() && all[1].is_ok() && all[2].is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct Normalizer {
    region: Option<Region>,
    strictness: Strictness,
    aliases: EmailAliases,
}

impl Normalizer {
    /// A normalizer with `region` as the default region and default
    /// settings otherwise.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    /// use optout::address::Region;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let n = Normalizer::new(Region::new("GB")?);
    /// assert_eq!(n.phone("020 7946 0958")?.to_string(), "+442079460958");
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(region: Region) -> Normalizer {
        Normalizer::builder().region(region).build()
    }

    /// Starts configuring a normalizer.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    /// use optout::address::{EmailAliases, Region, Strictness};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let n = Normalizer::builder()
    ///     .region(Region::new("FR")?)
    ///     .strictness(Strictness::Valid)
    ///     .email_aliases(EmailAliases::Fold)
    ///     .build();
    /// assert_eq!(n.phone("06 12 34 56 78")?.to_string(), "+33612345678");
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder() -> NormalizerBuilder {
        NormalizerBuilder::default()
    }

    /// Returns the default region, if any.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::Normalizer::default().region(), None);
    /// ```
    pub fn region(&self) -> Option<Region> {
        self.region
    }

    /// Returns the phone strictness.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    /// use optout::address::Strictness;
    ///
    /// assert_eq!(Normalizer::default().strictness(), Strictness::Possible);
    /// ```
    pub fn strictness(&self) -> Strictness {
        self.strictness
    }

    /// Returns the email alias policy.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    /// use optout::address::EmailAliases;
    ///
    /// assert_eq!(Normalizer::default().email_aliases(), EmailAliases::Keep);
    /// ```
    pub fn email_aliases(&self) -> EmailAliases {
        self.aliases
    }

    /// Normalizes a phone number written in any common format.
    ///
    /// # Errors
    ///
    /// The [`PhoneReason`] the input is not a usable number.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    /// use optout::address::Region;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let n = Normalizer::new(Region::new("US")?);
    /// assert_eq!(n.phone("011 44 20 7946 0958")?.to_string(), "+442079460958");
    /// assert_eq!(n.phone("1-800-FLOWERS")?.to_string(), "+18003569377");
    /// # Ok(())
    /// # }
    /// ```
    pub fn phone(&self, input: &str) -> Result<Phone, PhoneReason> {
        phone::normalize(input, &self.phone_context())
    }

    /// Normalizes a phone number with `region` as the default region for
    /// this input, whatever the normalizer's own: for audiences whose
    /// contacts carry their country.
    ///
    /// # Errors
    ///
    /// The [`PhoneReason`] the input is not a usable number.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    /// use optout::address::Region;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let n = Normalizer::new(Region::new("US")?);
    /// let gb = Region::new("GB")?;
    /// assert_eq!(n.phone_in("07911 123456", gb)?.to_string(), "+447911123456");
    /// # Ok(())
    /// # }
    /// ```
    pub fn phone_in(&self, input: &str, region: Region) -> Result<Phone, PhoneReason> {
        let ctx = phone::PhoneContext {
            region: Some(region.meta),
            lib_region: Some(region.lib),
            strictness: self.strictness,
        };
        phone::normalize(input, &ctx)
    }

    /// Normalizes an email address.
    ///
    /// # Errors
    ///
    /// The [`EmailReason`] the input is not a usable address.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// assert_eq!(Normalizer::default().email(" Ann@Example.COM ")?.as_str(), "ann@example.com");
    /// # Ok(())
    /// # }
    /// ```
    pub fn email(&self, input: &str) -> Result<Email, EmailReason> {
        email::normalize(input, self.aliases)
    }

    /// Normalizes an address of either kind: an input with an `@` is read
    /// as an email address, anything else as a phone number.
    ///
    /// # Errors
    ///
    /// The [`Invalid`] reason, tagged with the kind it was read as.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    /// use optout::address::{Invalid, PhoneReason};
    ///
    /// let n = Normalizer::default();
    /// assert!(n.address("ann@example.com").is_ok());
    /// assert_eq!(n.address(""), Err(Invalid::Phone(PhoneReason::Empty)));
    /// ```
    pub fn address(&self, input: &str) -> Result<Address, Invalid> {
        match AddressKind::guess(input) {
            AddressKind::Email => self
                .email(input)
                .map(Address::Email)
                .map_err(Invalid::Email),
            AddressKind::Phone => self
                .phone(input)
                .map(Address::Phone)
                .map_err(Invalid::Phone),
        }
    }

    /// Normalizes many addresses in parallel (on the rayon pool), returning
    /// one result per input, in input order.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    ///
    /// let n = Normalizer::default();
    /// let inputs = vec!["+14155550123".to_string(), "nope".to_string()];
    /// let out = n.addresses(&inputs);
    /// assert_eq!(out.len(), 2);
    /// assert!(out[0].is_ok() && out[1].is_err());
    /// ```
    pub fn addresses<S: AsRef<str> + Sync>(&self, inputs: &[S]) -> Vec<Result<Address, Invalid>> {
        let ctx = self.phone_context();
        inputs
            .par_iter()
            .with_min_len(1024)
            .map(|s| {
                let s = s.as_ref();
                match AddressKind::guess(s) {
                    AddressKind::Email => self.email(s).map(Address::Email).map_err(Invalid::Email),
                    AddressKind::Phone => phone::normalize(s, &ctx)
                        .map(Address::Phone)
                        .map_err(Invalid::Phone),
                }
            })
            .collect()
    }

    /// Builds the phone metadata on every thread of the current rayon pool
    /// and on this thread, so that the first real inputs do not pay for it.
    ///
    /// # Example
    ///
    /// ```
    /// let n = optout::Normalizer::default();
    /// n.warm_up();
    /// assert!(n.phone("+14155550123").is_ok());
    /// ```
    pub fn warm_up(&self) {
        phonelib::warm_up();
        rayon::broadcast(|_| phonelib::warm_up());
    }

    /// This normalizer with a store's recording policy: its strictness and
    /// alias folding instead of this one's.
    pub(crate) fn with_policy(&self, strictness: Strictness, aliases: EmailAliases) -> Normalizer {
        Normalizer {
            region: self.region,
            strictness,
            aliases,
        }
    }

    pub(crate) fn phone_context(&self) -> phone::PhoneContext {
        phone::PhoneContext {
            region: self.region.map(|r| r.meta),
            lib_region: self.region.map(|r| r.lib),
            strictness: self.strictness,
        }
    }
}

/// Configures a [`Normalizer`].
///
/// # Example
///
/// ```
/// use optout::Normalizer;
/// use optout::address::{Region, Strictness};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let n = Normalizer::builder()
///     .region(Region::new("DE")?)
///     .strictness(Strictness::Possible)
///     .build();
/// assert_eq!(n.phone("030 1234567")?.to_string(), "+49301234567");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct NormalizerBuilder {
    region: Option<Region>,
    strictness: Strictness,
    aliases: EmailAliases,
}

impl NormalizerBuilder {
    /// Sets the default region for phone numbers written in national form.
    /// Without one, only numbers with a `+` or `tel:+` are understood.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    /// use optout::address::Region;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let n = Normalizer::builder().region(Region::new("IN")?).build();
    /// assert_eq!(n.phone("098765 43210")?.to_string(), "+919876543210");
    /// # Ok(())
    /// # }
    /// ```
    pub fn region(mut self, region: Region) -> NormalizerBuilder {
        self.region = Some(region);
        self
    }

    /// Sets how strictly phone numbers are checked.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    /// use optout::address::Strictness;
    ///
    /// let n = Normalizer::builder().strictness(Strictness::Valid).build();
    /// assert_eq!(n.strictness(), Strictness::Valid);
    /// ```
    pub fn strictness(mut self, strictness: Strictness) -> NormalizerBuilder {
        self.strictness = strictness;
        self
    }

    /// Sets the email alias policy.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    /// use optout::address::EmailAliases;
    ///
    /// let n = Normalizer::builder().email_aliases(EmailAliases::Fold).build();
    /// assert_eq!(n.email_aliases(), EmailAliases::Fold);
    /// ```
    pub fn email_aliases(mut self, aliases: EmailAliases) -> NormalizerBuilder {
        self.aliases = aliases;
        self
    }

    /// Builds the normalizer.
    ///
    /// # Example
    ///
    /// ```
    /// let n = optout::Normalizer::builder().build();
    /// assert!(n.phone("+447911123456").is_ok());
    /// ```
    pub fn build(self) -> Normalizer {
        Normalizer {
            region: self.region,
            strictness: self.strictness,
            aliases: self.aliases,
        }
    }
}
