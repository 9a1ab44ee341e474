//! The compact id scheme.
//!
//! Every normalized address maps to one `u64`:
//!
//! * a phone number's id is the digits of its E.164 form read as an
//!   integer (`+14155550123` → `14155550123`). Country calling codes form a
//!   prefix-free code and never start with `0`, so distinct numbers get
//!   distinct ids, and any service (or a SQL query) computes the same id
//!   without a shared dictionary. The phone metadata allows national
//!   numbers of up to 17 digits, so a phone id has at most 19 digits and is
//!   below 10^19;
//! * an email address's id is `0xFFFF_FFFF_0000_0000 + index`, where `index`
//!   is the address's position in the store's email table, saved with the
//!   store. All email ids share one 32-bit high word,
//!   so a roaring treemap stores them as one dense bitmap, and the range sits
//!   above every phone id, so the two never collide.
//!
//! Dense indexes beat hashing emails to 64 bits on both counts that matter
//! here: they cost about 2 bytes per address in a roaring bitmap against
//! about 8 for scattered 64-bit hashes, and they cannot collide.

use std::fmt;
use std::num::NonZeroU64;

/// The first email id; phone ids are all below it.
pub(crate) const EMAIL_BASE: u64 = 0xFFFF_FFFF_0000_0000;
/// Exclusive upper bound of phone ids (19 digits).
pub(crate) const PHONE_LIMIT: u64 = 10_000_000_000_000_000_000;

/// The compact, stable id of a normalized address.
///
/// See the [module documentation](crate#compact-ids) for the scheme.
///
/// # Example
///
/// ```
/// use optout::{AddressId, Normalizer};
/// use optout::address::Region;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let normalizer = Normalizer::new(Region::new("US")?);
/// let phone = normalizer.phone("(415) 555-0123")?;
/// assert_eq!(phone.id(), AddressId::from_phone_digits(14155550123).unwrap());
/// assert_eq!(phone.id().get(), 14155550123);
/// assert!(phone.id().is_phone());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "u64", into = "u64"))]
pub struct AddressId(NonZeroU64);

impl AddressId {
    /// Returns the id of the phone number whose E.164 digits are `digits`,
    /// or `None` if `digits` is zero or has more than 19 digits.
    ///
    /// No metadata is consulted: this only places the value in the phone
    /// range. Use [`Normalizer::phone`](crate::Normalizer::phone) to go from
    /// text to a checked number.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::AddressId;
    ///
    /// let id = AddressId::from_phone_digits(447911123456).unwrap();
    /// assert!(id.is_phone());
    /// assert!(AddressId::from_phone_digits(0).is_none());
    /// ```
    pub const fn from_phone_digits(digits: u64) -> Option<AddressId> {
        match NonZeroU64::new(digits) {
            Some(nz) if digits < PHONE_LIMIT => Some(AddressId(nz)),
            _ => None,
        }
    }

    /// Returns the id of the email address at `index` in a store's email
    /// table.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::AddressId;
    ///
    /// let id = AddressId::from_email_index(7);
    /// assert!(id.is_email());
    /// assert_eq!(id.email_index(), Some(7));
    /// ```
    pub const fn from_email_index(index: u32) -> AddressId {
        match NonZeroU64::new(EMAIL_BASE | index as u64) {
            Some(nz) => AddressId(nz),
            // EMAIL_BASE is non-zero, so neither is the value.
            None => AddressId(NonZeroU64::MAX),
        }
    }

    /// Returns the id for a raw value, or `None` if the value is in neither
    /// the phone nor the email range.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::AddressId;
    ///
    /// assert!(AddressId::new(14155550123).is_some());
    /// assert!(AddressId::new(0xFFFF_FFFF_0000_0001).is_some());
    /// assert!(AddressId::new(0).is_none());
    /// assert!(AddressId::new(10_000_000_000_000_000_000).is_none()); // between the ranges
    /// ```
    pub const fn new(value: u64) -> Option<AddressId> {
        if value >= EMAIL_BASE {
            Some(AddressId::from_email_index(value as u32))
        } else {
            AddressId::from_phone_digits(value)
        }
    }

    /// Returns the raw value.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::AddressId;
    ///
    /// assert_eq!(AddressId::from_phone_digits(33612345678).unwrap().get(), 33612345678);
    /// ```
    pub const fn get(self) -> u64 {
        self.0.get()
    }

    /// Returns `true` for a phone number's id.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::AddressId;
    ///
    /// assert!(AddressId::from_phone_digits(33612345678).unwrap().is_phone());
    /// assert!(!AddressId::from_email_index(0).is_phone());
    /// ```
    pub const fn is_phone(self) -> bool {
        self.0.get() < EMAIL_BASE
    }

    /// Returns `true` for an email address's id.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::AddressId;
    ///
    /// assert!(AddressId::from_email_index(0).is_email());
    /// ```
    pub const fn is_email(self) -> bool {
        self.0.get() >= EMAIL_BASE
    }

    /// Returns the E.164 digits of a phone id.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::AddressId;
    ///
    /// let id = AddressId::from_phone_digits(14155550123).unwrap();
    /// assert_eq!(id.phone_digits(), Some(14155550123));
    /// assert_eq!(AddressId::from_email_index(3).phone_digits(), None);
    /// ```
    pub const fn phone_digits(self) -> Option<u64> {
        if self.is_phone() {
            Some(self.0.get())
        } else {
            None
        }
    }

    /// Returns the email-table index of an email id.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::AddressId;
    ///
    /// assert_eq!(AddressId::from_email_index(3).email_index(), Some(3));
    /// ```
    pub const fn email_index(self) -> Option<u32> {
        if self.is_email() {
            // The low 32 bits are the index; the high word is all ones.
            Some(self.0.get() as u32)
        } else {
            None
        }
    }
}

impl fmt::Display for AddressId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.email_index() {
            Some(index) => write!(f, "email#{index}"),
            None => write!(f, "+{}", self.0.get()),
        }
    }
}

impl From<AddressId> for u64 {
    fn from(id: AddressId) -> u64 {
        id.0.get()
    }
}

/// The error returned when a `u64` is not a valid [`AddressId`].
///
/// # Example
///
/// ```
/// use optout::AddressId;
///
/// let err = AddressId::try_from(0u64).unwrap_err();
/// assert_eq!(err.to_string(), "0 is not an address id");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not an address id")]
pub struct InvalidId(pub u64);

impl TryFrom<u64> for AddressId {
    type Error = InvalidId;

    fn try_from(value: u64) -> Result<AddressId, InvalidId> {
        AddressId::new(value).ok_or(InvalidId(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_do_not_overlap() {
        let largest_phone = AddressId::from_phone_digits(PHONE_LIMIT - 1).unwrap();
        let smallest_email = AddressId::from_email_index(0);
        assert!(largest_phone < smallest_email);
        assert!(largest_phone.is_phone() && smallest_email.is_email());
        assert!(AddressId::from_phone_digits(PHONE_LIMIT).is_none());
        assert_eq!(AddressId::from_email_index(u32::MAX).get(), u64::MAX);
    }

    #[test]
    fn new_rejects_the_gap_and_zero() {
        assert_eq!(AddressId::new(0), None);
        assert_eq!(AddressId::new(PHONE_LIMIT), None);
        assert_eq!(AddressId::new(EMAIL_BASE - 1), None);
        assert_eq!(
            AddressId::new(EMAIL_BASE),
            Some(AddressId::from_email_index(0))
        );
    }

    #[test]
    fn display_distinguishes_kinds() {
        assert_eq!(
            AddressId::from_phone_digits(14155550123)
                .unwrap()
                .to_string(),
            "+14155550123"
        );
        assert_eq!(AddressId::from_email_index(5).to_string(), "email#5");
    }
}
