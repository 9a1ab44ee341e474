//! What a split returns: one outcome per input with its skip reason, and
//! the counts a person reads.

use std::fmt;

use roaring::RoaringTreemap;

use crate::address::{Address, AddressId, EmailReason, Invalid, PhoneReason};

/// Why a recipient is skipped. Its display text is the one senders report:
/// `Optout Number`, `Blocked`, `Invalid Number`, `Invalid Email`,
/// `Unknown Id`, `Duplicate`.
///
/// # Example
///
/// ```
/// use optout::address::PhoneReason;
/// use optout::filter::SkipReason;
///
/// assert_eq!(SkipReason::OptedOut.to_string(), "Optout Number");
/// assert_eq!(SkipReason::InvalidNumber(PhoneReason::TooShort).to_string(), "Invalid Number");
/// assert_eq!(SkipReason::InvalidNumber(PhoneReason::TooShort).detail(), Some("too short".into()));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum SkipReason {
    /// On a list the send honours.
    OptedOut,
    /// Blocked: receives nothing.
    Blocked,
    /// Not a usable phone number.
    InvalidNumber(PhoneReason),
    /// Not a usable email address.
    InvalidEmail(EmailReason),
    /// An id this store did not assign: an email id past its email
    /// table (from another store, say), or a value that is no id at all.
    /// Whether that person opted out or is blocked cannot be told, so
    /// nothing is sent, whatever the category.
    UnknownId,
    /// The same person appears earlier in the audience.
    Duplicate,
}

impl SkipReason {
    /// Why an input was invalid, for the invalid reasons.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::filter::SkipReason;
    ///
    /// assert_eq!(SkipReason::Blocked.detail(), None);
    /// ```
    pub fn detail(&self) -> Option<String> {
        match self {
            SkipReason::InvalidNumber(r) => Some(r.to_string()),
            SkipReason::InvalidEmail(r) => Some(r.to_string()),
            _ => None,
        }
    }
}

impl From<Invalid> for SkipReason {
    fn from(invalid: Invalid) -> SkipReason {
        match invalid {
            Invalid::Phone(r) => SkipReason::InvalidNumber(r),
            Invalid::Email(r) => SkipReason::InvalidEmail(r),
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipReason::OptedOut => "Optout Number",
            SkipReason::Blocked => "Blocked",
            SkipReason::InvalidNumber(_) => "Invalid Number",
            SkipReason::InvalidEmail(_) => "Invalid Email",
            SkipReason::UnknownId => "Unknown Id",
            SkipReason::Duplicate => "Duplicate",
        })
    }
}

/// A recipient to send to: the normalized address and its id (an email's
/// id is known only if the store has seen the address).
///
/// # Example
///
/// ```
/// use optout::{Dispatch, Normalizer, Store};
/// use optout::filter::Outcome;
/// use optout::model::Category;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let split = Store::new()
///     .compile(&Dispatch::new(Category::Marketing))?
///     .split(&Normalizer::default(), &["+14155550123"]);
/// let Outcome::Sendable(r) = &split.outcomes()[0] else { panic!() };
/// assert_eq!(r.address.to_string(), "+14155550123");
/// assert_eq!(r.id.map(|id| id.get()), Some(14155550123));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Recipient {
    /// The normalized address.
    pub address: Address,
    /// Its id; `None` for an email address the store has never seen.
    pub id: Option<AddressId>,
}

/// What happened to one input.
///
/// # Example
///
/// ```
/// use optout::{Dispatch, Normalizer, Store};
/// use optout::filter::{Outcome, SkipReason};
/// use optout::model::Category;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let split = Store::new()
///     .compile(&Dispatch::new(Category::Marketing))?
///     .split(&Normalizer::default(), &["+14155550123", "+1 415 555 0123"]);
/// assert!(split.outcomes()[0].is_sendable());
/// assert_eq!(split.outcomes()[1].skip_reason(), Some(SkipReason::Duplicate));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Outcome {
    /// Send to this recipient.
    Sendable(Recipient),
    /// Skip this input.
    Skipped {
        /// Why.
        reason: SkipReason,
        /// The normalized address, when the input was valid.
        address: Option<Address>,
    },
}

impl Outcome {
    /// `true` for a sendable recipient.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::filter::{Outcome, SkipReason};
    ///
    /// assert!(!Outcome::Skipped { reason: SkipReason::Blocked, address: None }.is_sendable());
    /// ```
    pub fn is_sendable(&self) -> bool {
        matches!(self, Outcome::Sendable(_))
    }

    /// The reason, for a skipped input.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::filter::{Outcome, SkipReason};
    ///
    /// let o = Outcome::Skipped { reason: SkipReason::Blocked, address: None };
    /// assert_eq!(o.skip_reason(), Some(SkipReason::Blocked));
    /// ```
    pub fn skip_reason(&self) -> Option<SkipReason> {
        match self {
            Outcome::Sendable(_) => None,
            Outcome::Skipped { reason, .. } => Some(*reason),
        }
    }

    /// The normalized address, if the input was valid.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::filter::{Outcome, SkipReason};
    ///
    /// assert!(Outcome::Skipped { reason: SkipReason::Blocked, address: None }.address().is_none());
    /// ```
    pub fn address(&self) -> Option<&Address> {
        match self {
            Outcome::Sendable(r) => Some(&r.address),
            Outcome::Skipped { address, .. } => address.as_ref(),
        }
    }
}

/// Counts per outcome, with a one-line summary for people:
/// `950 sendable, 50 skipped (opted-out)`.
///
/// # Example
///
/// ```
/// use optout::filter::{Report, SkipReason};
///
/// let mut report = Report::default();
/// report.add(None);
/// report.add(Some(SkipReason::OptedOut));
/// report.add(Some(SkipReason::Blocked));
/// assert_eq!(report.to_string(), "1 sendable, 2 skipped (1 opted-out, 1 blocked)");
/// assert_eq!(report.total(), 3);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Report {
    /// Sendable recipients.
    pub sendable: u64,
    /// Skipped: on an honoured opt-out list.
    pub opted_out: u64,
    /// Skipped: blocked.
    pub blocked: u64,
    /// Skipped: not a usable phone number.
    pub invalid_number: u64,
    /// Skipped: not a usable email address.
    pub invalid_email: u64,
    /// Skipped: an id the store did not assign.
    pub unknown_id: u64,
    /// Skipped: listed earlier in the audience.
    pub duplicate: u64,
}

impl Report {
    /// Counts one outcome (`None` = sendable).
    ///
    /// # Example
    ///
    /// ```
    /// let mut r = optout::filter::Report::default();
    /// r.add(None);
    /// assert_eq!(r.sendable, 1);
    /// ```
    pub fn add(&mut self, skip: Option<SkipReason>) {
        match skip {
            None => self.sendable += 1,
            Some(SkipReason::OptedOut) => self.opted_out += 1,
            Some(SkipReason::Blocked) => self.blocked += 1,
            Some(SkipReason::InvalidNumber(_)) => self.invalid_number += 1,
            Some(SkipReason::InvalidEmail(_)) => self.invalid_email += 1,
            Some(SkipReason::UnknownId) => self.unknown_id += 1,
            Some(SkipReason::Duplicate) => self.duplicate += 1,
        }
    }

    /// All skipped inputs.
    ///
    /// # Example
    ///
    /// ```
    /// let mut r = optout::filter::Report::default();
    /// r.add(Some(optout::filter::SkipReason::Duplicate));
    /// assert_eq!(r.skipped(), 1);
    /// ```
    pub fn skipped(&self) -> u64 {
        self.opted_out
            + self.blocked
            + self.invalid_number
            + self.invalid_email
            + self.unknown_id
            + self.duplicate
    }

    /// Every input.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::filter::Report::default().total(), 0);
    /// ```
    pub fn total(&self) -> u64 {
        self.sendable + self.skipped()
    }

    pub(crate) fn merge(mut self, other: Report) -> Report {
        self.sendable += other.sendable;
        self.opted_out += other.opted_out;
        self.blocked += other.blocked;
        self.invalid_number += other.invalid_number;
        self.invalid_email += other.invalid_email;
        self.unknown_id += other.unknown_id;
        self.duplicate += other.duplicate;
        self
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} sendable, {} skipped", self.sendable, self.skipped())?;
        let parts: Vec<(u64, &str)> = [
            (self.opted_out, "opted-out"),
            (self.blocked, "blocked"),
            (self.invalid_number, "invalid number"),
            (self.invalid_email, "invalid email"),
            (self.unknown_id, "unknown id"),
            (self.duplicate, "duplicate"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .collect();
        match parts.as_slice() {
            [] => Ok(()),
            [(_, what)] => write!(f, " ({what})"),
            many => {
                let text: Vec<String> =
                    many.iter().map(|(n, what)| format!("{n} {what}")).collect();
                write!(f, " ({})", text.join(", "))
            }
        }
    }
}

/// The result of splitting raw or typed addresses: one [`Outcome`] per
/// input, in input order, and the [`Report`].
///
/// # Example
///
/// ```
/// use optout::{Dispatch, Normalizer, Store};
/// use optout::model::Category;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let split = Store::new()
///     .compile(&Dispatch::new(Category::Marketing))?
///     .split(&Normalizer::default(), &["+14155550123", "bogus"]);
/// assert_eq!(split.len(), 2);
/// assert_eq!(split.sendable().count(), 1);
/// assert_eq!(split.skipped().count(), 1);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub(crate) outcomes: Vec<Outcome>,
    pub(crate) report: Report,
}

impl Split {
    /// One outcome per input, in input order.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Dispatch, Normalizer, Store};
    /// # use optout::model::Category;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let s = Store::new().compile(&Dispatch::new(Category::Utility))?.split(&Normalizer::default(), &["x"]);
    /// assert_eq!(s.outcomes().len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn outcomes(&self) -> &[Outcome] {
        &self.outcomes
    }

    /// Takes the outcomes.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Dispatch, Normalizer, Store};
    /// # use optout::model::Category;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let s = Store::new().compile(&Dispatch::new(Category::Utility))?.split(&Normalizer::default(), &["x"]);
    /// assert_eq!(s.into_outcomes().len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn into_outcomes(self) -> Vec<Outcome> {
        self.outcomes
    }

    /// The counts and summary.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Dispatch, Normalizer, Store};
    /// # use optout::model::Category;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let s = Store::new().compile(&Dispatch::new(Category::Utility))?.split(&Normalizer::default(), &["x"]);
    /// assert_eq!(s.report().to_string(), "0 sendable, 1 skipped (invalid number)");
    /// # Ok(())
    /// # }
    /// ```
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The number of inputs.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Dispatch, Normalizer, Store};
    /// # use optout::model::Category;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let s = Store::new().compile(&Dispatch::new(Category::Utility))?.split(&Normalizer::default(), &["x"]);
    /// assert_eq!(s.len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn len(&self) -> usize {
        self.outcomes.len()
    }

    /// `true` when there were no inputs.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Dispatch, Normalizer, Store};
    /// # use optout::model::Category;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let none: [&str; 0] = [];
    /// let s = Store::new().compile(&Dispatch::new(Category::Utility))?.split(&Normalizer::default(), &none);
    /// assert!(s.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }

    /// The sendable recipients with their input positions.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Dispatch, Normalizer, Store};
    /// # use optout::model::Category;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let s = Store::new().compile(&Dispatch::new(Category::Utility))?.split(&Normalizer::default(), &["x", "+14155550123"]);
    /// assert_eq!(s.sendable().map(|(i, _)| i).collect::<Vec<_>>(), [1]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn sendable(&self) -> impl Iterator<Item = (usize, &Recipient)> {
        self.outcomes
            .iter()
            .enumerate()
            .filter_map(|(i, o)| match o {
                Outcome::Sendable(r) => Some((i, r)),
                Outcome::Skipped { .. } => None,
            })
    }

    /// The skipped inputs with their positions, reasons and normalized
    /// addresses.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Dispatch, Normalizer, Store};
    /// # use optout::filter::SkipReason;
    /// # use optout::model::Category;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let s = Store::new().compile(&Dispatch::new(Category::Utility))?.split(&Normalizer::default(), &["x"]);
    /// let (i, reason, _) = s.skipped().next().unwrap();
    /// assert_eq!((i, reason.to_string()), (0, "Invalid Number".to_string()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn skipped(&self) -> impl Iterator<Item = (usize, SkipReason, Option<&Address>)> {
        self.outcomes
            .iter()
            .enumerate()
            .filter_map(|(i, o)| match o {
                Outcome::Sendable(_) => None,
                Outcome::Skipped { reason, address } => Some((i, *reason, address.as_ref())),
            })
    }
}

/// The result of splitting pre-normalized ids: one verdict per input id
/// (`None` = sendable), in input order, and the [`Report`].
///
/// # Example
///
/// ```
/// use optout::{AddressId, Dispatch, Store};
/// use optout::filter::SkipReason;
/// use optout::model::Category;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let id = AddressId::from_phone_digits(14155550123).unwrap();
/// let split = Store::new().compile(&Dispatch::new(Category::Marketing))?.split_ids(&[id, id]);
/// assert_eq!(split.verdicts(), [None, Some(SkipReason::Duplicate)]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdSplit {
    pub(crate) verdicts: Vec<Option<SkipReason>>,
    pub(crate) report: Report,
}

impl IdSplit {
    /// One verdict per input, `None` meaning sendable.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Dispatch, Store};
    /// # use optout::model::Category;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let s = Store::new().compile(&Dispatch::new(Category::Marketing))?.split_ids(&[]);
    /// assert!(s.verdicts().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn verdicts(&self) -> &[Option<SkipReason>] {
        &self.verdicts
    }

    /// The counts and summary.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Dispatch, Store};
    /// # use optout::model::Category;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let s = Store::new().compile(&Dispatch::new(Category::Marketing))?.split_ids(&[]);
    /// assert_eq!(s.report().total(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn report(&self) -> &Report {
        &self.report
    }
}

/// The result of splitting a whole audience given as a bitmap of ids (a set,
/// so there are no duplicates): set differences, no per-recipient work.
///
/// # Example
///
/// ```
/// use optout::{Dispatch, Normalizer, Store};
/// use optout::model::Category;
/// use optout::store::Edit;
/// use roaring::RoaringTreemap;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Store::new();
/// store.opt_out(&Normalizer::default().address("+14155550123")?, &Edit::new())?;
/// let audience: RoaringTreemap = [14155550123u64, 14155550124].into_iter().collect();
/// let split = store.compile(&Dispatch::new(Category::Marketing))?.split_bitmap(&audience);
/// assert_eq!(split.sendable.len(), 1);
/// assert!(split.opted_out.contains(14155550123));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct BitmapSplit {
    /// The audience minus everyone suppressed.
    pub sendable: RoaringTreemap,
    /// Audience members on an honoured opt-out list (and not blocked).
    pub opted_out: RoaringTreemap,
    /// Audience members who are blocked.
    pub blocked: RoaringTreemap,
    /// Values that are no id this store assigned (see
    /// [`SkipReason::UnknownId`]).
    pub unknown: RoaringTreemap,
}

impl BitmapSplit {
    /// The counts and summary.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Dispatch, Store};
    /// # use optout::model::Category;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let s = Store::new().compile(&Dispatch::new(Category::Marketing))?.split_bitmap(&Default::default());
    /// assert_eq!(s.report().to_string(), "0 sendable, 0 skipped");
    /// # Ok(())
    /// # }
    /// ```
    pub fn report(&self) -> Report {
        Report {
            sendable: self.sendable.len(),
            opted_out: self.opted_out.len(),
            blocked: self.blocked.len(),
            unknown_id: self.unknown.len(),
            ..Report::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_summary_lines() {
        let mut r = Report {
            sendable: 950,
            opted_out: 50,
            ..Report::default()
        };
        assert_eq!(r.to_string(), "950 sendable, 50 skipped (opted-out)");
        r.duplicate = 2;
        assert_eq!(
            r.to_string(),
            "950 sendable, 52 skipped (50 opted-out, 2 duplicate)"
        );
        assert_eq!(Report::default().to_string(), "0 sendable, 0 skipped");
    }
}
