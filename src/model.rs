//! The words of the domain: channels, lists, scopes, sources, categories,
//! actions, times and the limits on list settings.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

pub use crate::time::{Clock, InvalidTimestamp, SystemClock, Timestamp};

/// Longest list name, in characters.
pub const MAX_NAME_CHARS: usize = 50;
/// Longest list description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 300;
/// Longest opt-out keyword, in characters.
pub const MAX_KEYWORD_CHARS: usize = 50;
/// Longest confirmation or reply message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 300;
/// Longest channel name, in characters.
pub const MAX_CHANNEL_CHARS: usize = 100;

/// A sending channel, named the way its owner names it: a sender number
/// (`+14155550100`), a WhatsApp phone-number id (`106540352242922`), an
/// email sender (`news@example.com`) or a label (`sms1`).
///
/// A name is trimmed and then must be 1 to 100 characters long, without
/// control characters, and not `account` in any case (the word the CSV
/// `scope` column uses for account-wide entries). Names are
/// case-sensitive: `SMS1` and `sms1` are two channels. Cloning is cheap.
///
/// # Example
///
/// ```
/// use optout::model::Channel;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sms = Channel::new(" sms1 ")?;
/// assert_eq!(sms.as_str(), "sms1");
/// assert_ne!(sms, Channel::new("SMS1")?);
/// assert!(Channel::new("").is_err());
/// assert!(Channel::new("Account").is_err());
/// let sender: Channel = "+14155550100".parse()?;
/// assert_eq!(sender.to_string(), "+14155550100");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Channel(Arc<str>);

#[cfg(feature = "serde")]
impl serde::Serialize for Channel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl Channel {
    /// A channel by name.
    ///
    /// # Errors
    ///
    /// [`InvalidChannel`] for a name that is empty after trimming, longer
    /// than 100 characters, holds a control character, or is one of the
    /// words that name the whole account in a CSV `scope` column
    /// (`account`, `all`, `global`, `*`, `any`, `account-wide`, in any
    /// case).
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let wa = optout::model::Channel::new("106540352242922")?;
    /// assert_eq!(wa.as_str(), "106540352242922");
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(name: &str) -> Result<Channel, InvalidChannel> {
        let name = name.trim();
        let bad = |reason: &'static str| InvalidChannel {
            name: name.to_owned(),
            reason,
        };
        if name.is_empty() {
            return Err(bad("is empty"));
        }
        if name.chars().count() > MAX_CHANNEL_CHARS {
            return Err(bad("is longer than 100 characters"));
        }
        if name.chars().any(char::is_control) {
            return Err(bad("holds a control character"));
        }
        if ACCOUNT_WORDS.iter().any(|w| name.eq_ignore_ascii_case(w)) {
            return Err(bad("is reserved for account-wide entries"));
        }
        Ok(Channel(name.into()))
    }

    /// The name.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// assert_eq!(optout::model::Channel::new("news@example.com")?.as_str(), "news@example.com");
    /// # Ok(())
    /// # }
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Words that mean the whole account where a scope is written as text (a
/// CSV `scope` column): `account`, and what other systems write for it.
/// No channel may be named so, so exports read back as they were written.
pub(crate) const ACCOUNT_WORDS: [&str; 8] = [
    "account",
    "all",
    "global",
    "*",
    "any",
    "account-wide",
    "account wide",
    "accountwide",
];

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Channel({:?})", &*self.0)
    }
}

impl FromStr for Channel {
    type Err = InvalidChannel;

    fn from_str(s: &str) -> Result<Channel, InvalidChannel> {
        Channel::new(s)
    }
}

impl TryFrom<&str> for Channel {
    type Error = InvalidChannel;

    fn try_from(s: &str) -> Result<Channel, InvalidChannel> {
        Channel::new(s)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Channel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Channel, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Channel::new(&text).map_err(serde::de::Error::custom)
    }
}

/// A name that cannot be a [`Channel`].
///
/// # Example
///
/// ```
/// let err = optout::model::Channel::new("  ").unwrap_err();
/// assert_eq!(err.to_string(), "channel name \"\" is empty");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("channel name {name:?} {reason}")]
pub struct InvalidChannel {
    /// The name as given, trimmed.
    pub name: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Identifies a list within a store. The system list is [`ListId::SYSTEM`];
/// ids of custom lists are handed out by
/// [`Store::create_list`](crate::Store::create_list) and never reused, so an
/// id kept in a token or a record keeps pointing at the list it was made
/// for even after that list is deleted.
///
/// # Example
///
/// ```
/// use optout::Store;
/// use optout::model::ListId;
/// use optout::store::ListSettings;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Store::new();
/// let promo = store.create_list(ListSettings::new("Promotions"))?;
/// assert_ne!(promo, ListId::SYSTEM);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct ListId(u32);

impl ListId {
    /// The system (default) list: always present, honoured by every
    /// marketing send, never deleted or renamed.
    pub const SYSTEM: ListId = ListId(0);

    /// The id with this raw value (as returned by [`ListId::get`], kept in
    /// your own records). Store methods refuse an id they do not have.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::model::ListId;
    ///
    /// assert_eq!(ListId::new(0), ListId::SYSTEM);
    /// ```
    pub const fn new(raw: u32) -> ListId {
        ListId(raw)
    }

    /// The raw value.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::model::ListId::SYSTEM.get(), 0);
    /// ```
    pub const fn get(self) -> u32 {
        self.0
    }

    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for ListId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "list#{}", self.0)
    }
}

/// Where an opt-out applies.
///
/// A send on channel C is suppressed by account-wide entries and by
/// entries scoped to C, never by entries scoped to another channel. A send
/// that names no channel is suppressed by entries of every scope.
///
/// # Example
///
/// ```
/// use optout::model::{Channel, Scope};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// assert_eq!(Scope::default(), Scope::Account);
/// assert_eq!(Scope::Channel(Channel::new("sms1")?).to_string(), "channel sms1");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Scope {
    /// Every channel of the account.
    #[default]
    Account,
    /// One channel.
    Channel(Channel),
}

impl Scope {
    /// The channel, for a channel scope.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::model::Scope::Account.channel(), None);
    /// ```
    pub fn channel(&self) -> Option<&Channel> {
        match self {
            Scope::Account => None,
            Scope::Channel(c) => Some(c),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Account => f.write_str("account"),
            Scope::Channel(c) => write!(f, "channel {c}"),
        }
    }
}

/// How a change came in.
///
/// # Example
///
/// ```
/// use optout::model::Source;
///
/// assert_eq!(Source::WebForm.to_string(), "web form");
/// assert_eq!("web-form".parse::<Source>(), Ok(Source::WebForm));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Source {
    /// Entered by a person.
    #[default]
    Manual,
    /// An inbound keyword (STOP, START, …).
    Keyword,
    /// A web form or unsubscribe link; always account-wide.
    WebForm,
    /// A file import.
    Import,
    /// An API call or a connector.
    Api,
}

impl Source {
    pub(crate) const ALL: [Source; 5] = [
        Source::Manual,
        Source::Keyword,
        Source::WebForm,
        Source::Import,
        Source::Api,
    ];

    pub(crate) fn code(self) -> u8 {
        match self {
            Source::Manual => 0,
            Source::Keyword => 1,
            Source::WebForm => 2,
            Source::Import => 3,
            Source::Api => 4,
        }
    }

    pub(crate) fn from_code(code: u8) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.code() == code)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Manual => "manual",
            Source::Keyword => "keyword",
            Source::WebForm => "web form",
            Source::Import => "import",
            Source::Api => "api",
        })
    }
}

impl FromStr for Source {
    type Err = ();

    /// Parses the display text, case-insensitively, with `-` or `_` for
    /// spaces (`web-form`, `WEB_FORM`); `connector` is [`Source::Api`].
    fn from_str(s: &str) -> Result<Source, ()> {
        match s.trim().to_lowercase().replace(['_', '-'], " ").as_str() {
            "manual" => Ok(Source::Manual),
            "keyword" => Ok(Source::Keyword),
            "web form" | "webform" => Ok(Source::WebForm),
            "import" => Ok(Source::Import),
            "api" | "connector" => Ok(Source::Api),
            _ => Err(()),
        }
    }
}

/// The kind of traffic a send carries.
///
/// Marketing honours opt-outs; utility (orders, shipping, account notices)
/// and authentication (OTP) traffic do not. A blocked address gets nothing
/// of any category.
///
/// # Example
///
/// ```
/// use optout::model::Category;
///
/// assert!(Category::Marketing.honours_opt_outs());
/// assert!(!Category::Authentication.honours_opt_outs());
/// assert_eq!("otp".parse::<Category>()?, Category::Authentication);
/// # Ok::<(), optout::model::InvalidCategory>(())
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
    /// assert!(!optout::model::Category::Utility.honours_opt_outs());
    /// ```
    pub fn honours_opt_outs(self) -> bool {
        self == Category::Marketing
    }
}

impl FromStr for Category {
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
/// let err = "spam".parse::<optout::model::Category>().unwrap_err();
/// assert_eq!(err.to_string(), "unknown category \"spam\" (marketing, utility or otp)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown category {0:?} (marketing, utility or otp)")]
pub struct InvalidCategory(pub String);

/// What a change did.
///
/// # Example
///
/// ```
/// use optout::model::Action;
///
/// assert_eq!(Action::OptOut.to_string(), "opt-out");
/// assert_eq!(Action::ListDeleted.to_string(), "list-deleted");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum Action {
    /// Added to an opt-out list.
    OptOut,
    /// Removed from an opt-out list.
    OptIn,
    /// Blocked: receives nothing.
    Block,
    /// No longer blocked.
    Unblock,
    /// Removed from a list because the list was deleted (the address stays
    /// suppressed by any other list it is on).
    ListDeleted,
}

impl Action {
    pub(crate) const ALL: [Action; 5] = [
        Action::OptOut,
        Action::OptIn,
        Action::Block,
        Action::Unblock,
        Action::ListDeleted,
    ];

    pub(crate) fn code(self) -> u8 {
        match self {
            Action::OptOut => 0,
            Action::OptIn => 1,
            Action::Block => 2,
            Action::Unblock => 3,
            Action::ListDeleted => 4,
        }
    }

    pub(crate) fn from_code(code: u8) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.code() == code)
    }

    /// `true` for the actions that concern a list (all but block and
    /// unblock).
    pub(crate) fn has_list(self) -> bool {
        !matches!(self, Action::Block | Action::Unblock)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::OptOut => "opt-out",
            Action::OptIn => "opt-in",
            Action::Block => "block",
            Action::Unblock => "unblock",
            Action::ListDeleted => "list-deleted",
        })
    }
}

/// Where a channel's keyword opt-outs apply.
///
/// # Example
///
/// ```
/// use optout::Store;
/// use optout::model::{Channel, KeywordScope};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Store::new();
/// let sender = Channel::new("+14155550100")?;
/// assert_eq!(store.keyword_scope(&sender), KeywordScope::Channel);
/// store.set_keyword_scope(&sender, KeywordScope::Account)?;
/// assert_eq!(store.keyword_scope(&sender), KeywordScope::Account);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum KeywordScope {
    /// A keyword opt-out applies to the channel it arrived on (the default).
    #[default]
    Channel,
    /// The channel enforces account-level opt-outs: its keyword opt-outs
    /// apply to every channel.
    Account,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_are_checked() {
        assert_eq!(Channel::new(" sms1\t").unwrap().as_str(), "sms1");
        assert!(Channel::new(&"x".repeat(100)).is_ok());
        assert!(Channel::new(&"x".repeat(101)).is_err());
        assert!(
            Channel::new(&"é".repeat(100)).is_ok(),
            "characters, not bytes"
        );
        assert!(Channel::new("a\nb").is_err());
        assert!(Channel::new("ACCOUNT").is_err());
        assert!(Channel::new("accounts").is_ok());
    }

    #[test]
    fn codes_round_trip() {
        for s in Source::ALL {
            assert_eq!(Source::from_code(s.code()), Some(s));
            assert_eq!(s.to_string().parse::<Source>(), Ok(s));
        }
        for a in Action::ALL {
            assert_eq!(Action::from_code(a.code()), Some(a));
        }
    }
}
