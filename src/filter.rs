//! The send filter: compile the suppression for a send once, then split
//! recipients into sendable and skipped, in parallel, keeping input order.

use std::fmt;
use std::hash::BuildHasher;
use std::sync::Arc;

use rayon::prelude::*;
use roaring::RoaringTreemap;

use crate::address::{Address, EmailReason, Invalid, Normalizer, PhoneReason};
use crate::error::Error;
use crate::exchange::HashedList;
use crate::id::{AddressId, EmailTable};
use crate::list::ListId;
use crate::store::{ChannelId, Store};

/// The kind of traffic a send carries.
///
/// Marketing honours opt-outs; utility (orders, shipping, account notices)
/// and authentication (OTP) traffic do not. A blocked address gets nothing
/// of any category.
///
/// # Example
///
/// ```
/// use optout::Category;
///
/// assert!(Category::Marketing.honours_opt_outs());
/// assert!(!Category::Authentication.honours_opt_outs());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Category {
    /// Promotions, newsletters, campaigns.
    Marketing,
    /// Order confirmations, shipping updates, account notices.
    Utility,
    /// One-time passwords and login codes.
    Authentication,
}

impl Category {
    /// `true` if sends of this category honour opt-out lists.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(!optout::Category::Utility.honours_opt_outs());
    /// ```
    pub fn honours_opt_outs(self) -> bool {
        self == Category::Marketing
    }
}

impl std::str::FromStr for Category {
    type Err = InvalidCategory;

    /// Parses `marketing`, `utility` (or `transactional`), `otp` or
    /// `authentication`, case-insensitively.
    fn from_str(s: &str) -> Result<Category, InvalidCategory> {
        match s.trim().to_ascii_lowercase().as_str() {
            "marketing" => Ok(Category::Marketing),
            "utility" | "transactional" => Ok(Category::Utility),
            "otp" | "authentication" => Ok(Category::Authentication),
            _ => Err(InvalidCategory(s.to_owned())),
        }
    }
}

/// The error for text that is not a [`Category`].
///
/// # Example
///
/// ```
/// let err = "spam".parse::<optout::Category>().unwrap_err();
/// assert_eq!(err.to_string(), "unknown category \"spam\" (marketing, utility or otp)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown category {0:?} (marketing, utility or otp)")]
pub struct InvalidCategory(pub String);

/// What a send is: its category, the channel it goes out on, and the
/// custom lists it honours. A marketing send always honours the system
/// list too, even when no list is named.
///
/// # Example
///
/// ```
/// use optout::{Category, ChannelId, Dispatch, ListId};
///
/// let send = Dispatch::new(Category::Marketing).channel(ChannelId::new(101));
/// assert_eq!(send.honoured_lists(), [ListId::SYSTEM]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dispatch {
    category: Category,
    channel: Option<ChannelId>,
    lists: Vec<ListId>,
}

impl Dispatch {
    /// A send of `category` on no particular channel: only account-wide
    /// opt-outs apply until [`Dispatch::channel`] names one.
    ///
    /// # Example
    ///
    /// ```
    /// let send = optout::Dispatch::new(optout::Category::Utility);
    /// assert_eq!(send.category(), optout::Category::Utility);
    /// ```
    pub fn new(category: Category) -> Dispatch {
        Dispatch {
            category,
            channel: None,
            lists: vec![ListId::SYSTEM],
        }
    }

    /// Sets the channel the send goes out on.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Category, ChannelId, Dispatch};
    ///
    /// let send = Dispatch::new(Category::Marketing).channel(ChannelId::new(3));
    /// assert_eq!(send.channel_id(), Some(ChannelId::new(3)));
    /// ```
    pub fn channel(mut self, channel: ChannelId) -> Dispatch {
        self.channel = Some(channel);
        self
    }

    /// Honours a custom list as well (marketing only).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Category, Dispatch, ListSettings, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let promo = store.create_list(ListSettings::new("Promotions"))?;
    /// let send = Dispatch::new(Category::Marketing).honour(promo);
    /// assert_eq!(send.honoured_lists().len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn honour(mut self, list: ListId) -> Dispatch {
        if !self.lists.contains(&list) {
            self.lists.push(list);
        }
        self
    }

    /// The category.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Category, Dispatch};
    /// assert_eq!(Dispatch::new(Category::Marketing).category(), Category::Marketing);
    /// ```
    pub fn category(&self) -> Category {
        self.category
    }

    /// The channel, if one was set.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Category, Dispatch};
    /// assert_eq!(Dispatch::new(Category::Marketing).channel_id(), None);
    /// ```
    pub fn channel_id(&self) -> Option<ChannelId> {
        self.channel
    }

    /// The lists a marketing send honours: the system list and the named
    /// ones.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Category, Dispatch, ListId};
    /// assert_eq!(Dispatch::new(Category::Marketing).honoured_lists(), [ListId::SYSTEM]);
    /// ```
    pub fn honoured_lists(&self) -> &[ListId] {
        &self.lists
    }
}

/// Why a recipient is skipped. Its display text is the one senders report:
/// `Optout Number`, `Blocked`, `Invalid Number`, `Invalid Email`,
/// `Duplicate`.
///
/// # Example
///
/// ```
/// use optout::{PhoneReason, SkipReason};
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
    /// The same person appears earlier in the audience.
    Duplicate,
}

impl SkipReason {
    /// Why an input was invalid, for the invalid reasons.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::SkipReason;
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
/// use optout::{Category, Dispatch, Normalizer, Outcome, Store};
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
/// use optout::{Category, Dispatch, Normalizer, Outcome, SkipReason, Store};
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
    /// use optout::{Outcome, SkipReason};
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
    /// use optout::{Outcome, SkipReason};
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
    /// use optout::{Outcome, SkipReason};
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
/// use optout::{Report, SkipReason};
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
    /// Skipped: listed earlier in the audience.
    pub duplicate: u64,
}

impl Report {
    /// Counts one outcome (`None` = sendable).
    ///
    /// # Example
    ///
    /// ```
    /// let mut r = optout::Report::default();
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
            Some(SkipReason::Duplicate) => self.duplicate += 1,
        }
    }

    /// All skipped inputs.
    ///
    /// # Example
    ///
    /// ```
    /// let mut r = optout::Report::default();
    /// r.add(Some(optout::SkipReason::Duplicate));
    /// assert_eq!(r.skipped(), 1);
    /// ```
    pub fn skipped(&self) -> u64 {
        self.opted_out + self.blocked + self.invalid_number + self.invalid_email + self.duplicate
    }

    /// Every input.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::Report::default().total(), 0);
    /// ```
    pub fn total(&self) -> u64 {
        self.sendable + self.skipped()
    }

    fn merge(mut self, other: Report) -> Report {
        self.sendable += other.sendable;
        self.opted_out += other.opted_out;
        self.blocked += other.blocked;
        self.invalid_number += other.invalid_number;
        self.invalid_email += other.invalid_email;
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
/// use optout::{Category, Dispatch, Normalizer, Store};
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
    outcomes: Vec<Outcome>,
    report: Report,
}

impl Split {
    /// One outcome per input, in input order.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Category, Dispatch, Normalizer, Store};
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
    /// # use optout::{Category, Dispatch, Normalizer, Store};
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
    /// # use optout::{Category, Dispatch, Normalizer, Store};
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
    /// # use optout::{Category, Dispatch, Normalizer, Store};
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
    /// # use optout::{Category, Dispatch, Normalizer, Store};
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
    /// # use optout::{Category, Dispatch, Normalizer, Store};
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
    /// # use optout::{Category, Dispatch, Normalizer, SkipReason, Store};
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
/// use optout::{AddressId, Category, Dispatch, SkipReason, Store};
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
    verdicts: Vec<Option<SkipReason>>,
    report: Report,
}

impl IdSplit {
    /// One verdict per input, `None` meaning sendable.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Category, Dispatch, Store};
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
    /// # use optout::{Category, Dispatch, Store};
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
/// use optout::{Category, Dispatch, Edit, Normalizer, Store};
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
}

impl BitmapSplit {
    /// The counts and summary.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Category, Dispatch, Store};
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
            ..Report::default()
        }
    }
}

/// A set of ids for membership tests during one filter run.
///
/// Roaring is the storage format, but probing a sparse roaring treemap costs
/// several dependent cache misses. This set answers most lookups from a
/// one-word-per-probe Bloom filter of about one byte per id, small enough
/// to stay in the CPU's second-level cache; only ids that pass it reach
/// the exact open-addressing table (one cache line per probe).
#[derive(Clone, Debug, Default)]
pub(crate) struct IdSet {
    bloom: Vec<u64>,
    bloom_shift: u32,
    slots: Vec<u64>,
    slot_shift: u32,
    seed: u64,
    len: u64,
}

/// Id 0 is never a valid id, so it marks an empty slot.
const EMPTY: u64 = 0;

/// The splitmix64 finalizer: every output bit depends on every input bit.
/// Each step (xor with a shift, multiplication by an odd constant) can be
/// undone, so it is a bijection, and it maps 0 to 0.
#[inline]
fn mix(x: u64) -> u64 {
    let x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The four bits a hash sets in its Bloom word.
#[inline]
fn bloom_bits(h: u64) -> u64 {
    (1 << (h & 63)) | (1 << ((h >> 6) & 63)) | (1 << ((h >> 12) & 63)) | (1 << ((h >> 18) & 63))
}

impl IdSet {
    pub(crate) fn from_bitmap(bitmap: &RoaringTreemap) -> IdSet {
        let len = bitmap.len();
        if len == 0 {
            return IdSet::default();
        }
        let slots = len.saturating_mul(2).next_power_of_two().max(16);
        let words = (len / 8).next_power_of_two().max(8);
        // A per-set random seed: inputs cannot be chosen to collide.
        let seed = foldhash::fast::RandomState::default().hash_one(len);
        let mut set = IdSet {
            bloom: vec![0; usize::try_from(words).unwrap_or(usize::MAX)],
            bloom_shift: 64 - words.trailing_zeros(),
            slots: vec![EMPTY; usize::try_from(slots).unwrap_or(usize::MAX)],
            slot_shift: 64 - slots.trailing_zeros(),
            seed,
            len,
        };
        for id in bitmap.iter().filter(|&id| id != EMPTY) {
            set.insert(id);
        }
        set
    }

    fn insert(&mut self, id: u64) {
        let h = mix(id ^ self.seed);
        if let Some(word) = self.bloom.get_mut((h >> self.bloom_shift) as usize) {
            *word |= bloom_bits(h);
        }
        let mask = self.slots.len() - 1;
        let mut i = (h.rotate_left(32) >> self.slot_shift) as usize;
        while let Some(slot) = self.slots.get_mut(i) {
            if *slot == EMPTY || *slot == id {
                *slot = id;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    #[inline]
    pub(crate) fn contains(&self, id: u64) -> bool {
        if self.len == 0 {
            return false;
        }
        let h = mix(id ^ self.seed);
        let bits = bloom_bits(h);
        match self.bloom.get((h >> self.bloom_shift) as usize) {
            Some(word) if word & bits == bits => {}
            _ => return false,
        }
        let mask = self.slots.len() - 1;
        let mut i = (h.rotate_left(32) >> self.slot_shift) as usize;
        // The table is at most half full, so an empty slot ends every probe.
        while let Some(&slot) = self.slots.get(i) {
            if slot == id {
                return true;
            }
            if slot == EMPTY {
                return false;
            }
            i = (i + 1) & mask;
        }
        false
    }

    /// Membership of a batch of ids (0 = absent), written to `out`. The
    /// Bloom words and then the table slots are loaded in separate loops,
    /// so the processor can have all of a batch's cache misses in flight at
    /// once instead of one after another.
    pub(crate) fn contains_batch(&self, ids: &[u64], out: &mut [bool]) {
        if self.len == 0 {
            out.iter_mut().for_each(|o| *o = false);
            return;
        }
        let mut hashes = [0u64; BATCH];
        for ((&id, o), h) in ids.iter().zip(out.iter_mut()).zip(hashes.iter_mut()) {
            *h = mix(id ^ self.seed);
            let bits = bloom_bits(*h);
            let word = self
                .bloom
                .get((*h >> self.bloom_shift) as usize)
                .copied()
                .unwrap_or(0);
            *o = id != EMPTY && word & bits == bits;
        }
        let mask = self.slots.len() - 1;
        for ((&id, o), h) in ids.iter().zip(out.iter_mut()).zip(hashes) {
            if !*o {
                continue;
            }
            let mut i = (h.rotate_left(32) >> self.slot_shift) as usize;
            *o = false;
            while let Some(&slot) = self.slots.get(i) {
                if slot == id {
                    *o = true;
                    break;
                }
                if slot == EMPTY {
                    break;
                }
                i = (i + 1) & mask;
            }
        }
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }
}

/// Inputs handled together by the batched lookups.
const BATCH: usize = 32;

/// The suppression for one send, compiled from a store: who is blocked and,
/// for marketing, who is on an honoured list in the send's scope. It is an
/// owned copy, so filtering from it is consistent however the store
/// changes meanwhile.
///
/// # Example
///
/// ```
/// use optout::{Category, ChannelId, Dispatch, Edit, Normalizer, Region, SkipReason, Store};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let n = Normalizer::new(Region::new("US")?);
/// let store = Store::new();
/// let ann = n.address("(415) 555-0123")?;
/// store.opt_out(&ann, &Edit::new())?;
///
/// let marketing = store.compile(&Dispatch::new(Category::Marketing).channel(ChannelId::new(1)))?;
/// let otp = store.compile(&Dispatch::new(Category::Authentication).channel(ChannelId::new(1)))?;
/// assert_eq!(marketing.check(&ann), Some(SkipReason::OptedOut));
/// assert_eq!(otp.check(&ann), None); // login codes still go out
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Suppression {
    category: Category,
    blocked: IdSet,
    opted_out: IdSet,
    blocked_bitmap: RoaringTreemap,
    opted_out_bitmap: RoaringTreemap,
    emails: Arc<EmailTable>,
    hashed: Vec<Arc<HashedList>>,
}

impl Store {
    /// Compiles the suppression for a send: the union of the honoured
    /// lists' account-wide entries and entries for the send's channel, and
    /// the blocked set. Takes the store's read lock only while copying.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownList`] if a marketing send honours a list that does not
    /// exist.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Category, Dispatch, Error, ListSettings, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let promo = store.create_list(ListSettings::new("Promotions"))?;
    /// assert!(store.compile(&Dispatch::new(Category::Marketing).honour(promo)).is_ok());
    /// store.delete_list(promo)?;
    /// let err = store.compile(&Dispatch::new(Category::Marketing).honour(promo)).unwrap_err();
    /// assert!(matches!(err, Error::UnknownList(_)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn compile(&self, dispatch: &Dispatch) -> Result<Suppression, Error> {
        let (blocked_bitmap, opted_out_bitmap, emails) = {
            let state = self.read();
            let mut sets: Vec<&RoaringTreemap> = Vec::new();
            // Utility and OTP sends honour no list, so a stale list id in
            // their dispatch cannot hold up a login code.
            if dispatch.category.honours_opt_outs() {
                for &list in &dispatch.lists {
                    sets.extend(state.slot(list)?.entries.applying_to(dispatch.channel));
                }
            }
            let opted = crate::bitmap::union_all(&sets);
            (state.blocked.clone(), opted, Arc::clone(&state.emails))
        };
        Ok(Suppression {
            category: dispatch.category,
            blocked: IdSet::from_bitmap(&blocked_bitmap),
            opted_out: IdSet::from_bitmap(&opted_out_bitmap),
            blocked_bitmap,
            opted_out_bitmap,
            emails,
            hashed: Vec::new(),
        })
    }

    /// Checks one address against a send, at send time, from the live
    /// store: the same verdict the batch filter gives (duplicates aside).
    ///
    /// # Errors
    ///
    /// [`Error::UnknownList`] if a marketing send honours a list that does not
    /// exist.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Category, Dispatch, Edit, Normalizer, SkipReason, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let a = Normalizer::default().address("+14155550123")?;
    /// store.block(&a, &Edit::new())?;
    /// let verdict = store.check(&a, &Dispatch::new(Category::Utility))?;
    /// assert_eq!(verdict, Some(SkipReason::Blocked));
    /// # Ok(())
    /// # }
    /// ```
    pub fn check(
        &self,
        address: &Address,
        dispatch: &Dispatch,
    ) -> Result<Option<SkipReason>, Error> {
        let state = self.read();
        let mut lists = Vec::with_capacity(dispatch.lists.len());
        if dispatch.category.honours_opt_outs() {
            for &list in &dispatch.lists {
                lists.push(state.slot(list)?);
            }
        }
        let Some(id) = state.lookup(address) else {
            return Ok(None);
        };
        if state.blocked.contains(id.get()) {
            return Ok(Some(SkipReason::Blocked));
        }
        if dispatch.category.honours_opt_outs()
            && lists.iter().any(|slot| {
                slot.entries
                    .applying_to(dispatch.channel)
                    .any(|set| set.contains(id.get()))
            })
        {
            return Ok(Some(SkipReason::OptedOut));
        }
        Ok(None)
    }
}

impl Suppression {
    /// The send's category.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Category, Dispatch, Store};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let s = Store::new().compile(&Dispatch::new(Category::Utility))?;
    /// assert_eq!(s.category(), Category::Utility);
    /// # Ok(())
    /// # }
    /// ```
    pub fn category(&self) -> Category {
        self.category
    }

    /// The number of ids suppressed as opted out (and as blocked).
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Category, Dispatch, Store};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let s = Store::new().compile(&Dispatch::new(Category::Marketing))?;
    /// assert_eq!(s.len(), (0, 0));
    /// # Ok(())
    /// # }
    /// ```
    pub fn len(&self) -> (u64, u64) {
        (self.opted_out.len(), self.blocked.len())
    }

    /// Also suppresses, as opted out, every address on a partner's hashed
    /// suppression list (marketing sends only). Each recipient not
    /// otherwise suppressed is then hashed once per list.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::Arc;
    /// use optout::{Category, Digest, Dispatch, HashedList, Normalizer, SkipReason, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let partner = format!("{}\n", Digest::Sha256.hex("+14155550123"));
    /// let (list, _) = HashedList::read(partner.as_bytes(), Digest::Sha256)?;
    /// let mut suppression = Store::new().compile(&Dispatch::new(Category::Marketing))?;
    /// suppression.honour_hashed(Arc::new(list));
    /// let a = Normalizer::default().address("+1 415 555 0123")?;
    /// assert_eq!(suppression.check(&a), Some(SkipReason::OptedOut));
    /// # Ok(())
    /// # }
    /// ```
    pub fn honour_hashed(&mut self, list: Arc<HashedList>) {
        if self.category.honours_opt_outs() {
            self.hashed.push(list);
        }
    }

    fn hashed_out(&self, address: &Address) -> bool {
        self.hashed.iter().any(|l| l.contains(address))
    }

    /// Checks one id.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{AddressId, Category, Dispatch, Store};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let s = Store::new().compile(&Dispatch::new(Category::Marketing))?;
    /// assert_eq!(s.check_id(AddressId::from_phone_digits(14155550123).unwrap()), None);
    /// # Ok(())
    /// # }
    /// ```
    #[inline]
    pub fn check_id(&self, id: AddressId) -> Option<SkipReason> {
        if self.blocked.contains(id.get()) {
            Some(SkipReason::Blocked)
        } else if self.opted_out.contains(id.get()) {
            Some(SkipReason::OptedOut)
        } else {
            None
        }
    }

    /// Checks a batch of ids (at most [`BATCH`]); `None` ids are not
    /// suppressed.
    fn check_batch(&self, ids: &[Option<AddressId>], out: &mut [Option<SkipReason>]) {
        let mut raw = [0u64; BATCH];
        for (r, id) in raw.iter_mut().zip(ids) {
            *r = id.map_or(0, AddressId::get);
        }
        self.check_raw(raw.get(..ids.len()).unwrap_or(&[]), out);
    }

    /// Verdicts for up to [`BATCH`] raw ids (0 = no id).
    fn check_raw(&self, raw: &[u64], out: &mut [Option<SkipReason>]) {
        let n = raw.len().min(BATCH);
        let (raw, out) = (
            raw.get(..n).unwrap_or(&[]),
            out.get_mut(..n).unwrap_or(&mut []),
        );
        let mut blocked = [false; BATCH];
        let mut opted = [false; BATCH];
        self.blocked.contains_batch(raw, &mut blocked);
        self.opted_out.contains_batch(raw, &mut opted);
        for ((o, b), p) in out.iter_mut().zip(blocked).zip(opted) {
            *o = if b {
                Some(SkipReason::Blocked)
            } else if p {
                Some(SkipReason::OptedOut)
            } else {
                None
            };
        }
    }

    /// Checks one normalized address.
    ///
    /// # Example
    ///
    /// ```
    /// # use optout::{Category, Dispatch, Normalizer, Store};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let s = Store::new().compile(&Dispatch::new(Category::Marketing))?;
    /// assert_eq!(s.check(&Normalizer::default().address("a@example.com")?), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn check(&self, address: &Address) -> Option<SkipReason> {
        self.id_of(address)
            .and_then(|id| self.check_id(id))
            .or_else(|| self.hashed_out(address).then_some(SkipReason::OptedOut))
    }

    fn address_of(&self, id: AddressId) -> Option<Address> {
        match crate::address::Phone::from_id(id) {
            Some(p) => Some(Address::Phone(p)),
            None => self.emails.email(id).cloned().map(Address::Email),
        }
    }

    fn id_of(&self, address: &Address) -> Option<AddressId> {
        match address {
            Address::Phone(p) => Some(p.id()),
            Address::Email(e) => self.emails.id(e),
        }
    }

    /// The outcome for a valid address, given its id and verdict, and its
    /// mark for the later passes.
    fn decide(
        &self,
        address: Address,
        id: Option<AddressId>,
        verdict: Option<SkipReason>,
    ) -> (Outcome, Mark) {
        match verdict {
            Some(reason) => (
                Outcome::Skipped {
                    reason,
                    address: Some(address),
                },
                Mark::skipped(reason),
            ),
            None => {
                let mark = match (&address, id) {
                    (_, Some(id)) => Mark {
                        key: id.get(),
                        tag: Mark::SEND_ID,
                    },
                    (Address::Email(e), None) => Mark {
                        key: UNKNOWN_EMAIL.hash_one(e.as_str()),
                        tag: Mark::SEND_HASHED,
                    },
                    (Address::Phone(p), None) => Mark {
                        key: p.id().get(),
                        tag: Mark::SEND_ID,
                    },
                };
                (Outcome::Sendable(Recipient { address, id }), mark)
            }
        }
    }

    /// Splits raw inputs (phone numbers in any format, email addresses) in
    /// parallel: each is normalized, checked, and deduplicated (the first
    /// occurrence of a person is sent to).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Category, Dispatch, Edit, Normalizer, Region, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let n = Normalizer::new(Region::new("US")?);
    /// let store = Store::new();
    /// store.opt_out(&n.address("+14155550100")?, &Edit::new())?;
    /// let audience = ["(415) 555-0100", "(415) 555-0101", "415.555.0101", "oops", "ann@example.com"];
    /// let split = store.compile(&Dispatch::new(Category::Marketing))?.split(&n, &audience);
    /// assert_eq!(
    ///     split.report().to_string(),
    ///     "2 sendable, 3 skipped (1 opted-out, 1 invalid number, 1 duplicate)"
    /// );
    /// # Ok(())
    /// # }
    /// ```
    pub fn split<S: AsRef<str> + Sync>(&self, normalizer: &Normalizer, inputs: &[S]) -> Split {
        self.split_with(inputs, |input| normalizer.address(input.as_ref()))
    }

    /// The parallel split: normalize a batch, check it with batched
    /// lookups, write its outcomes and marks; then deduplicate and count.
    fn split_with<T: Sync>(
        &self,
        inputs: &[T],
        normalize: impl Fn(&T) -> Result<Address, Invalid> + Sync,
    ) -> Split {
        let placeholder = Outcome::Skipped {
            reason: SkipReason::Duplicate,
            address: None,
        };
        let mut outcomes = filled(placeholder, inputs.len());
        let mut marks = filled(Mark::default(), inputs.len());
        let chunk = 4 * 1024;
        outcomes
            .par_chunks_mut(chunk)
            .zip(marks.par_chunks_mut(chunk))
            .zip(inputs.par_chunks(chunk))
            .for_each(|((outcomes, marks), inputs)| {
                let mut addresses: Vec<Result<Address, Invalid>> = Vec::with_capacity(BATCH);
                let mut ids = [None; BATCH];
                let mut verdicts = [None; BATCH];
                for ((outcomes, marks), inputs) in outcomes
                    .chunks_mut(BATCH)
                    .zip(marks.chunks_mut(BATCH))
                    .zip(inputs.chunks(BATCH))
                {
                    addresses.clear();
                    addresses.extend(inputs.iter().map(&normalize));
                    for (id, address) in ids.iter_mut().zip(&addresses) {
                        *id = address.as_ref().ok().and_then(|a| self.id_of(a));
                    }
                    self.check_batch(ids.get(..addresses.len()).unwrap_or(&[]), &mut verdicts);
                    for ((((outcome, mark), address), id), verdict) in outcomes
                        .iter_mut()
                        .zip(marks.iter_mut())
                        .zip(addresses.drain(..))
                        .zip(ids)
                        .zip(verdicts)
                    {
                        (*outcome, *mark) = match address {
                            Err(invalid) => {
                                let reason = SkipReason::from(invalid);
                                (
                                    Outcome::Skipped {
                                        reason,
                                        address: None,
                                    },
                                    Mark::skipped(reason),
                                )
                            }
                            Ok(address) => {
                                let verdict = verdict.or_else(|| {
                                    self.hashed_out(&address).then_some(SkipReason::OptedOut)
                                });
                                self.decide(address, id, verdict)
                            }
                        };
                    }
                }
            });
        finish(outcomes, &marks)
    }

    /// Splits already normalized addresses in parallel, deduplicating as
    /// [`Suppression::split`] does.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Category, Dispatch, Normalizer, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let n = Normalizer::default();
    /// let people = vec![n.address("+14155550123")?, n.address("ann@example.com")?];
    /// let split = Store::new().compile(&Dispatch::new(Category::Marketing))?.split_addresses(&people);
    /// assert_eq!(split.report().sendable, 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn split_addresses(&self, addresses: &[Address]) -> Split {
        self.split_with(addresses, |a| Ok(a.clone()))
    }

    /// Splits pre-normalized ids in parallel, without parsing anything.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{AddressId, Category, Dispatch, Edit, Normalizer, SkipReason, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let a = Normalizer::default().address("+14155550123")?;
    /// store.opt_out(&a, &Edit::new())?;
    /// let ids = [a.phone_id().unwrap(), AddressId::from_phone_digits(14155550124).unwrap()];
    /// let split = store.compile(&Dispatch::new(Category::Marketing))?.split_ids(&ids);
    /// assert_eq!(split.verdicts(), [Some(SkipReason::OptedOut), None]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn split_ids(&self, ids: &[AddressId]) -> IdSplit {
        // One pass checks each id and hands the sendable ones to the
        // dedupe shards; a second deduplicates shard by shard.
        let chunk = chunk_len(ids.len());
        let mut verdicts: Vec<Option<SkipReason>> = filled(None, ids.len());
        let parts: Vec<(Report, Shards)> = verdicts
            .par_chunks_mut(chunk)
            .zip(ids.par_chunks(chunk))
            .enumerate()
            .map(|(c, (out, part))| {
                // Batch by batch: probe (a tight loop of independent lookups,
                // so the processor overlaps their cache misses), then count
                // and hand the sendable ids to the dedupe shards while the
                // batch is still in cache.
                let mut shards = Shards::new(part.len());
                let mut report = Report::default();
                let mut index = c * chunk;
                for (verdicts, ids) in out.chunks_mut(BATCH).zip(part.chunks(BATCH)) {
                    let mut raw = [0u64; BATCH];
                    for (r, id) in raw.iter_mut().zip(ids) {
                        *r = id.get();
                    }
                    let raw = raw.get(..ids.len()).unwrap_or(&[]);
                    self.check_raw(raw, verdicts);
                    for (verdict, &id) in verdicts.iter_mut().zip(raw) {
                        if verdict.is_none()
                            && !self.hashed.is_empty()
                            && AddressId::new(id)
                                .and_then(|id| self.address_of(id))
                                .is_some_and(|a| self.hashed_out(&a))
                        {
                            *verdict = Some(SkipReason::OptedOut);
                        }
                        report.add(*verdict);
                        if verdict.is_none() {
                            shards.push(index, Key::Id(id));
                        }
                        index += 1;
                    }
                }
                (report, shards)
            })
            .collect();
        let (reports, shards): (Vec<Report>, Vec<Shards>) = parts.into_iter().unzip();
        let mut report = reports.into_iter().fold(Report::default(), Report::merge);
        for i in dedupe(&shards, |_, _| true) {
            if let Some(verdict @ None) = verdicts.get_mut(i) {
                *verdict = Some(SkipReason::Duplicate);
                report.sendable -= 1;
                report.duplicate += 1;
            }
        }
        IdSplit { verdicts, report }
    }

    /// Splits a whole audience given as a bitmap of ids, by set difference.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Category, Dispatch, Store};
    /// use roaring::RoaringTreemap;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let audience: RoaringTreemap = (14155550000u64..14155551000).collect();
    /// let split = Store::new().compile(&Dispatch::new(Category::Marketing))?.split_bitmap(&audience);
    /// assert_eq!(split.sendable.len(), 1000);
    /// # Ok(())
    /// # }
    /// ```
    pub fn split_bitmap(&self, audience: &RoaringTreemap) -> BitmapSplit {
        // Two independent halves run in parallel: the suppressed parts of
        // the audience, and the audience minus everything suppressed.
        let ((blocked, opted_out), sendable) = rayon::join(
            || {
                let blocked = crate::bitmap::intersection(&self.blocked_bitmap, audience);
                let mut opted_out = crate::bitmap::intersection(&self.opted_out_bitmap, audience);
                opted_out -= &blocked;
                (blocked, opted_out)
            },
            || {
                let mut sendable = audience.clone();
                sendable -= &self.blocked_bitmap;
                sendable -= &self.opted_out_bitmap;
                sendable
            },
        );
        let (mut sendable, mut opted_out) = (sendable, opted_out);
        if !self.hashed.is_empty() {
            let hashed: RoaringTreemap = sendable
                .iter()
                .filter(|&v| {
                    AddressId::new(v)
                        .and_then(|id| self.address_of(id))
                        .is_some_and(|a| self.hashed_out(&a))
                })
                .collect();
            sendable -= &hashed;
            opted_out |= &hashed;
        }
        BitmapSplit {
            sendable,
            opted_out,
            blocked,
        }
    }
}

/// What the dedupe pass keys an item on: an id, or (for an email address
/// the store has never seen) a hash of it that is checked against the
/// address itself before two items are called the same.
#[derive(Clone, Copy)]
enum Key {
    Id(u64),
    Hashed(u64),
}

/// Hashes email addresses the store does not know, for deduplication.
const UNKNOWN_EMAIL: foldhash::fast::FixedState =
    foldhash::fast::FixedState::with_seed(0x0ddb_a11c_0ffe_e123);

/// A compact per-input summary the dedupe and report passes read instead
/// of the outcomes: the dedupe key of a sendable input and what happened.
#[derive(Clone, Copy, Debug, Default)]
struct Mark {
    key: u64,
    tag: u8,
}

impl Mark {
    const SEND_ID: u8 = 0;
    const SEND_HASHED: u8 = 1;
    const OPTED_OUT: u8 = 2;
    const BLOCKED: u8 = 3;
    const INVALID_NUMBER: u8 = 4;
    const INVALID_EMAIL: u8 = 5;
    const DUPLICATE: u8 = 6;

    fn skipped(reason: SkipReason) -> Mark {
        let tag = match reason {
            SkipReason::OptedOut => Mark::OPTED_OUT,
            SkipReason::Blocked => Mark::BLOCKED,
            SkipReason::InvalidNumber(_) => Mark::INVALID_NUMBER,
            SkipReason::InvalidEmail(_) => Mark::INVALID_EMAIL,
            SkipReason::Duplicate => Mark::DUPLICATE,
        };
        Mark { key: 0, tag }
    }

    fn key(&self) -> Option<Key> {
        match self.tag {
            Mark::SEND_ID => Some(Key::Id(self.key)),
            Mark::SEND_HASHED => Some(Key::Hashed(self.key)),
            _ => None,
        }
    }

    fn count(self, report: &mut Report) {
        match self.tag {
            Mark::SEND_ID | Mark::SEND_HASHED => report.sendable += 1,
            Mark::OPTED_OUT => report.opted_out += 1,
            Mark::BLOCKED => report.blocked += 1,
            Mark::INVALID_NUMBER => report.invalid_number += 1,
            Mark::INVALID_EMAIL => report.invalid_email += 1,
            _ => report.duplicate += 1,
        }
    }
}

/// Marks repeated sendable recipients as duplicates (first occurrence wins)
/// and counts the outcomes.
fn finish(mut outcomes: Vec<Outcome>, marks: &[Mark]) -> Split {
    fn unknown_email(o: &Outcome) -> Option<&str> {
        match o {
            Outcome::Sendable(Recipient {
                address: Address::Email(e),
                id: None,
            }) => Some(e.as_str()),
            _ => None,
        }
    }
    let duplicates = duplicates(marks, Mark::key, |a, b| {
        let text = |i: usize| outcomes.get(i).and_then(unknown_email);
        text(a).is_some() && text(a) == text(b)
    });
    let mut report = marks
        .par_iter()
        .with_min_len(16 * 1024)
        .fold(Report::default, |mut r, m| {
            m.count(&mut r);
            r
        })
        .reduce(Report::default, Report::merge);
    for i in duplicates {
        if let Some(outcome) = outcomes.get_mut(i) {
            let address = match std::mem::replace(
                outcome,
                Outcome::Skipped {
                    reason: SkipReason::Duplicate,
                    address: None,
                },
            ) {
                Outcome::Sendable(r) => Some(r.address),
                Outcome::Skipped { address, .. } => address,
            };
            *outcome = Outcome::Skipped {
                reason: SkipReason::Duplicate,
                address,
            };
            report.sendable -= 1;
            report.duplicate += 1;
        }
    }
    Split { outcomes, report }
}

/// Number of shards the dedupe pass splits keys into: enough for both
/// cores to share the work and for each shard's table to stay in cache.
const SHARDS: usize = 256;

/// Marks a hashed key's index in a shard entry.
const HASHED: u64 = 1 << 63;

/// A vector of `len` copies of `value`, written by all threads: the first
/// write to a fresh page costs a page fault, so a large output filled by
/// one thread would be bound by that one thread's faults.
fn filled<T: Clone + Send + Sync>(value: T, len: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(len);
    out.par_extend(rayon::iter::repeat_n(value, len).with_min_len(64 * 1024));
    out
}

/// Items per parallel chunk.
fn chunk_len(n: usize) -> usize {
    (n / (rayon::current_num_threads() * 4)).max(64 * 1024)
}

/// One chunk's keys, split by shard, each shard in input order. An entry
/// is `[index (| HASHED), key]`.
struct Shards(Vec<Vec<[u64; 2]>>);

impl Shards {
    fn new(items: usize) -> Shards {
        let expect = items / SHARDS + items / (SHARDS * 4) + 8;
        Shards((0..SHARDS).map(|_| Vec::with_capacity(expect)).collect())
    }

    #[inline]
    fn push(&mut self, index: usize, key: Key) {
        let (value, flag) = match key {
            Key::Id(v) => (v, 0),
            Key::Hashed(v) => (v, HASHED),
        };
        // Keys are stored mixed: the mix is a bijection, so mixed keys are
        // equal exactly when keys are, and its bits pick both the shard
        // (high) and the slot in the shard's table (low) without mixing
        // again. Id 0 is never valid and mixes to 0, the empty slot.
        let mixed = mix(value);
        if let Some(shard) = self.0.get_mut((mixed >> 56) as usize % SHARDS) {
            shard.push([index as u64 | flag, mixed]);
        }
    }
}

/// Positions of the items whose key appeared at an earlier position.
fn duplicates<T: Sync>(
    items: &[T],
    key: impl Fn(&T) -> Option<Key> + Sync,
    same: impl Fn(usize, usize) -> bool + Sync,
) -> Vec<usize> {
    let chunk = chunk_len(items.len());
    let shards: Vec<Shards> = items
        .par_chunks(chunk)
        .enumerate()
        .map(|(c, part)| {
            let mut shards = Shards::new(part.len());
            for (j, item) in part.iter().enumerate() {
                if let Some(k) = key(item) {
                    shards.push(c * chunk + j, k);
                }
            }
            shards
        })
        .collect();
    dedupe(&shards, same)
}

/// Deduplicates every shard (in parallel), chunk after chunk so that input
/// order is kept. Ids go through a small open-addressing set; hashed keys
/// are confirmed with `same(first, later)`.
fn dedupe(chunks: &[Shards], same: impl Fn(usize, usize) -> bool + Sync) -> Vec<usize> {
    let mut out: Vec<usize> = (0..SHARDS)
        .into_par_iter()
        .flat_map_iter(|s| {
            let entries = || chunks.iter().filter_map(|c| c.0.get(s)).flatten();
            let len = chunks
                .iter()
                .filter_map(|c| c.0.get(s))
                .map(Vec::len)
                .sum::<usize>();
            let capacity = (len * 2).next_power_of_two().max(16);
            let mask = capacity - 1;
            let mut table = vec![EMPTY; capacity];
            let mut hashed: std::collections::HashMap<u64, Vec<usize>, foldhash::fast::FixedState> =
                std::collections::HashMap::default();
            let mut dups = Vec::new();
            for &[tagged, value] in entries() {
                let index = (tagged & !HASHED) as usize;
                if tagged & HASHED != 0 {
                    let firsts = hashed.entry(value).or_default();
                    if firsts.iter().any(|&f| same(f, index)) {
                        dups.push(index);
                    } else {
                        firsts.push(index);
                    }
                    continue;
                }
                let mut i = value as usize & mask;
                while let Some(slot) = table.get_mut(i) {
                    if *slot == value {
                        dups.push(index);
                        break;
                    }
                    if *slot == EMPTY {
                        *slot = value;
                        break;
                    }
                    i = (i + 1) & mask;
                }
            }
            dups
        })
        .collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_set_membership() {
        let bitmap: RoaringTreemap = (1..=1000u64).map(|i| i * 7_919 + 14_155_550_000).collect();
        let set = IdSet::from_bitmap(&bitmap);
        assert_eq!(set.len(), 1000);
        for i in 1..=1000u64 {
            assert!(set.contains(i * 7_919 + 14_155_550_000));
            assert!(!set.contains(i * 7_919 + 14_155_550_001));
        }
        assert!(!IdSet::default().contains(5));
    }

    #[test]
    fn mix_keeps_keys_apart_and_zero_empty() {
        assert_eq!(mix(0), 0);
        let mut seen: Vec<u64> = (1..=100_000u64)
            .flat_map(|i| [i, i << 40, 14_155_550_000 + i, u64::MAX - i])
            .map(mix)
            .collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 400_000);
        assert!(!seen.contains(&0));
    }

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
