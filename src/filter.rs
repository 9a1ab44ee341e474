//! The send filter: compile the suppression for a send once, then split
//! recipients into sendable and skipped, in parallel, keeping input order.

use std::fmt;
use std::hash::BuildHasher;
use std::sync::Arc;

use rayon::prelude::*;
use roaring::RoaringTreemap;

use crate::address::{Address, EmailReason, Invalid, Normalizer, PhoneReason};
use crate::error::Error;
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
    type Err = String;

    /// Parses `marketing`, `utility`, `otp` or `authentication`.
    fn from_str(s: &str) -> Result<Category, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "marketing" => Ok(Category::Marketing),
            "utility" | "transactional" => Ok(Category::Utility),
            "otp" | "authentication" => Ok(Category::Authentication),
            other => Err(format!(
                "unknown category {other:?} (marketing, utility or otp)"
            )),
        }
    }
}

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

/// A set of ids for membership tests during one filter run: open
/// addressing with linear probing, about one cache line touched per probe.
/// Roaring is the storage format; probing a sparse roaring treemap costs
/// several dependent cache misses, this costs one.
#[derive(Clone, Debug, Default)]
pub(crate) struct IdSet {
    slots: Vec<u64>,
    shift: u32,
    multiplier: u64,
    len: u64,
}

/// Id 0 is never a valid id, so it marks an empty slot.
const EMPTY: u64 = 0;

impl IdSet {
    pub(crate) fn from_bitmap(bitmap: &RoaringTreemap) -> IdSet {
        let len = bitmap.len();
        if len == 0 {
            return IdSet::default();
        }
        let capacity = (len.saturating_mul(2)).next_power_of_two().max(16);
        let bits = capacity.trailing_zeros();
        // A per-set random odd multiplier: inputs cannot be chosen to collide.
        let multiplier = foldhash::fast::RandomState::default().hash_one(len) | 1;
        let mut set = IdSet {
            slots: vec![EMPTY; usize::try_from(capacity).unwrap_or(usize::MAX)],
            shift: 64 - bits,
            multiplier,
            len,
        };
        for id in bitmap.iter().filter(|&id| id != EMPTY) {
            set.insert(id);
        }
        set
    }

    #[inline]
    fn slot(&self, id: u64) -> usize {
        (id.wrapping_mul(self.multiplier) >> self.shift) as usize
    }

    fn insert(&mut self, id: u64) {
        let mask = self.slots.len() - 1;
        let mut i = self.slot(id);
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
        let mask = self.slots.len() - 1;
        let mut i = self.slot(id);
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

    pub(crate) fn len(&self) -> u64 {
        self.len
    }
}

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
}

impl Store {
    /// Compiles the suppression for a send: the union of the honoured
    /// lists' account-wide entries and entries for the send's channel, and
    /// the blocked set. Takes the store's read lock only while copying.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownList`] if the send honours a list that does not
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
            let mut opted = RoaringTreemap::new();
            for &list in &dispatch.lists {
                let slot = state.slot(list)?;
                if dispatch.category.honours_opt_outs() {
                    for set in slot.entries.applying_to(dispatch.channel) {
                        opted |= set;
                    }
                }
            }
            (state.blocked.clone(), opted, Arc::clone(&state.emails))
        };
        Ok(Suppression {
            category: dispatch.category,
            blocked: IdSet::from_bitmap(&blocked_bitmap),
            opted_out: IdSet::from_bitmap(&opted_out_bitmap),
            blocked_bitmap,
            opted_out_bitmap,
            emails,
        })
    }

    /// Checks one address against a send, at send time, from the live
    /// store: the same verdict the batch filter gives (duplicates aside).
    ///
    /// # Errors
    ///
    /// [`Error::UnknownList`] if the send honours a list that does not
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
        for &list in &dispatch.lists {
            lists.push(state.slot(list)?);
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

/// What the dedupe pass keys a sendable recipient on.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Key<'a> {
    Id(u64),
    UnknownEmail(&'a str),
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
        self.id_of(address).and_then(|id| self.check_id(id))
    }

    fn id_of(&self, address: &Address) -> Option<AddressId> {
        match address {
            Address::Phone(p) => Some(p.id()),
            Address::Email(e) => self.emails.id(e),
        }
    }

    fn outcome(&self, address: Address) -> Outcome {
        let id = self.id_of(&address);
        match id.and_then(|id| self.check_id(id)) {
            Some(reason) => Outcome::Skipped {
                reason,
                address: Some(address),
            },
            None => Outcome::Sendable(Recipient { address, id }),
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
        let outcomes: Vec<Outcome> = inputs
            .par_iter()
            .with_min_len(1024)
            .map(|input| match normalizer.address(input.as_ref()) {
                Ok(address) => self.outcome(address),
                Err(invalid) => Outcome::Skipped {
                    reason: invalid.into(),
                    address: None,
                },
            })
            .collect();
        finish(outcomes)
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
        let outcomes: Vec<Outcome> = addresses
            .par_iter()
            .with_min_len(1024)
            .map(|a| self.outcome(a.clone()))
            .collect();
        finish(outcomes)
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
        let mut verdicts: Vec<Option<SkipReason>> = ids
            .par_iter()
            .with_min_len(4096)
            .map(|&id| self.check_id(id))
            .collect();
        let mut seen = IdDedupe::with_capacity(ids.len());
        for (verdict, id) in verdicts.iter_mut().zip(ids) {
            if verdict.is_none() && !seen.insert(id.get()) {
                *verdict = Some(SkipReason::Duplicate);
            }
        }
        let report = verdicts
            .par_iter()
            .with_min_len(4096)
            .fold(Report::default, |mut r, v| {
                r.add(*v);
                r
            })
            .reduce(Report::default, Report::merge);
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
        let blocked = audience & &self.blocked_bitmap;
        let opted_out = &(audience & &self.opted_out_bitmap) - &blocked;
        let sendable = &(audience - &blocked) - &opted_out;
        BitmapSplit {
            sendable,
            opted_out,
            blocked,
        }
    }
}

/// Marks repeated sendable recipients as duplicates (first occurrence wins)
/// and counts the outcomes.
fn finish(mut outcomes: Vec<Outcome>) -> Split {
    let sendable = outcomes.iter().filter(|o| o.is_sendable()).count();
    let mut ids = IdDedupe::with_capacity(sendable);
    let mut emails = std::collections::HashSet::with_hasher(foldhash::fast::RandomState::default());
    let mut duplicates = Vec::new();
    for (i, outcome) in outcomes.iter().enumerate() {
        let Outcome::Sendable(r) = outcome else {
            continue;
        };
        let key = match (&r.address, r.id) {
            (_, Some(id)) => Key::Id(id.get()),
            (Address::Email(e), None) => Key::UnknownEmail(e.as_str()),
            // A phone always has an id.
            (Address::Phone(p), None) => Key::Id(p.id().get()),
        };
        let first = match key {
            Key::Id(id) => ids.insert(id),
            Key::UnknownEmail(e) => emails.insert(e),
        };
        if !first {
            duplicates.push(i);
        }
    }
    drop(emails);
    for i in duplicates {
        if let Some(outcome) = outcomes.get_mut(i) {
            let address = outcome.address().cloned();
            *outcome = Outcome::Skipped {
                reason: SkipReason::Duplicate,
                address,
            };
        }
    }
    let mut report = Report::default();
    for outcome in &outcomes {
        report.add(outcome.skip_reason());
    }
    Split { outcomes, report }
}

/// Insert-only set of ids for deduplication.
struct IdDedupe {
    set: std::collections::HashSet<u64, foldhash::fast::RandomState>,
}

impl IdDedupe {
    fn with_capacity(n: usize) -> IdDedupe {
        IdDedupe {
            set: std::collections::HashSet::with_capacity_and_hasher(n, Default::default()),
        }
    }

    /// `true` if `id` was not there yet.
    fn insert(&mut self, id: u64) -> bool {
        self.set.insert(id)
    }
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
