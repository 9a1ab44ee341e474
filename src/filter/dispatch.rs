//! What a send is: its category, channel, and the lists it honours.

use std::sync::Arc;

use super::hashed::HashedList;
use crate::model::{Category, Channel, ListId};

/// What a send is: its category, the channel it goes out on, the custom
/// lists it honours, and partner suppression lists it honours.
///
/// A marketing send always honours the system list, even when no list is
/// named. A send that names no channel is suppressed by the honoured
/// lists' entries of every scope — account-wide and every channel's —
/// because the store cannot tell which channel's opt-outs apply (fail
/// closed); name the channel to be suppressed only by its own and the
/// account-wide entries.
///
/// # Example
///
/// ```
/// use optout::Dispatch;
/// use optout::model::{Category, Channel, ListId};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let send = Dispatch::new(Category::Marketing).channel(Channel::new("+14155550100")?);
/// assert_eq!(send.honoured_lists(), [ListId::SYSTEM]);
/// assert_eq!(send.channel_name().map(|c| c.as_str()), Some("+14155550100"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dispatch {
    category: Category,
    channel: Option<Channel>,
    lists: Vec<ListId>,
    hashed: Vec<Arc<HashedList>>,
}

impl Dispatch {
    /// A send of `category` on no particular channel: every scope's
    /// entries apply until [`Dispatch::channel`] names one.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Dispatch;
    /// use optout::model::Category;
    ///
    /// let send = Dispatch::new(Category::Utility);
    /// assert_eq!(send.category(), Category::Utility);
    /// ```
    pub fn new(category: Category) -> Dispatch {
        Dispatch {
            category,
            channel: None,
            lists: vec![ListId::SYSTEM],
            hashed: Vec::new(),
        }
    }

    /// A marketing send (`Dispatch::new(Category::Marketing)`).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::Dispatch::marketing().category(), optout::model::Category::Marketing);
    /// ```
    pub fn marketing() -> Dispatch {
        Dispatch::new(Category::Marketing)
    }

    /// Sets the channel the send goes out on.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Dispatch;
    /// use optout::model::Channel;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let send = Dispatch::marketing().channel(Channel::new("sms1")?);
    /// assert_eq!(send.channel_name(), Some(&Channel::new("sms1")?));
    /// # Ok(())
    /// # }
    /// ```
    pub fn channel(mut self, channel: Channel) -> Dispatch {
        self.channel = Some(channel);
        self
    }

    /// Honours a custom list as well (marketing only).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Dispatch, Store};
    /// use optout::store::ListSettings;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let promo = store.create_list(ListSettings::new("Promotions"))?;
    /// let send = Dispatch::marketing().honour(promo);
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

    /// Also suppresses, as opted out, every address on a partner's hashed
    /// suppression list (marketing only). Each recipient not otherwise
    /// suppressed is then hashed once per list; the batch filter and
    /// [`Store::check`](crate::Store::check) both honour it.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::Arc;
    /// use optout::{Dispatch, Normalizer, Store};
    /// use optout::filter::{Digest, HashedList, SkipReason};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let partner = format!("{}\n", Digest::Sha256.hex("+14155550123"));
    /// let (list, _) = HashedList::read(partner.as_bytes(), Digest::Sha256)?;
    /// let send = Dispatch::marketing().honour_hashed(Arc::new(list));
    /// let a = Normalizer::default().address("+1 415 555 0123")?;
    /// let store = Store::new();
    /// assert_eq!(store.compile(&send)?.check(&a), Some(SkipReason::OptedOut));
    /// assert_eq!(store.check(&a, &send)?, Some(SkipReason::OptedOut));
    /// # Ok(())
    /// # }
    /// ```
    pub fn honour_hashed(mut self, list: Arc<HashedList>) -> Dispatch {
        self.hashed.push(list);
        self
    }

    /// The category.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Dispatch;
    /// use optout::model::Category;
    ///
    /// assert_eq!(Dispatch::new(Category::Marketing).category(), Category::Marketing);
    /// ```
    pub fn category(&self) -> Category {
        self.category
    }

    /// The channel, if one was named.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::Dispatch::marketing().channel_name(), None);
    /// ```
    pub fn channel_name(&self) -> Option<&Channel> {
        self.channel.as_ref()
    }

    /// The lists a marketing send honours: the system list and the named
    /// ones.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Dispatch;
    /// use optout::model::ListId;
    ///
    /// assert_eq!(Dispatch::marketing().honoured_lists(), [ListId::SYSTEM]);
    /// ```
    pub fn honoured_lists(&self) -> &[ListId] {
        &self.lists
    }

    /// The partner lists honoured.
    pub(crate) fn hashed_lists(&self) -> &[Arc<HashedList>] {
        &self.hashed
    }
}
