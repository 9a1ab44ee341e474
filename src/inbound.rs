//! Inbound messages: turn STOP, START and HELP replies into list changes
//! and the reply to send back; and the change events a service forwards to
//! webhooks.

use std::fmt;
use std::sync::Arc;

use crate::address::Address;
use crate::clock::Timestamp;
use crate::error::Error;
use crate::history::{Action, Change};
use crate::keyword::{KeywordHit, KeywordKind, KeywordMatcher, Keywords, Language};
use crate::list::ListId;
use crate::store::{ChannelId, Edit, Scope, Source, Store};

/// What an inbound message did.
///
/// # Example
///
/// ```
/// use optout::InboundAction;
///
/// assert_eq!(InboundAction::OptOut.to_string(), "opt-out");
/// assert_eq!(InboundAction::None.to_string(), "none");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum InboundAction {
    /// An opt-out keyword (a repeated one changes nothing and has no reply).
    OptOut,
    /// An opt-in keyword from someone who had opted out.
    OptIn,
    /// A help keyword.
    Help,
    /// Not a keyword (or an opt-in from someone who had not opted out):
    /// nothing changed; the message is for support.
    None,
}

impl fmt::Display for InboundAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InboundAction::OptOut => "opt-out",
            InboundAction::OptIn => "opt-in",
            InboundAction::Help => "help",
            InboundAction::None => "none",
        })
    }
}

/// The result of an inbound message: what it did, the reply to send back
/// (if any), and the changes it recorded.
///
/// # Example
///
/// ```
/// use optout::{ChannelId, InboundAction, Normalizer, Store};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Store::new();
/// let from = Normalizer::default().address("+14155550123")?;
/// let sms = ChannelId::new(101);
/// let first = store.inbound(&from, sms, "STOP")?;
/// assert_eq!(first.action, InboundAction::OptOut);
/// assert!(first.reply.is_some());
/// let again = store.inbound(&from, sms, "stop")?;
/// assert_eq!((again.action, again.reply), (InboundAction::OptOut, None));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Inbound {
    /// What the message did.
    pub action: InboundAction,
    /// The text to send back, if any.
    pub reply: Option<String>,
    /// The changes recorded (empty when nothing changed).
    pub changes: Vec<Change>,
    /// The language of the keyword, for shipped keywords.
    pub language: Option<Language>,
}

impl Inbound {
    fn nothing(action: InboundAction, language: Option<Language>) -> Inbound {
        Inbound {
            action,
            reply: None,
            changes: Vec::new(),
            language,
        }
    }
}

impl Store {
    /// Replaces the account's keyword settings.
    ///
    /// # Errors
    ///
    /// As [`Keywords::validate`]; nothing changes.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Keywords, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// store.set_keywords(Keywords::default().help_reply("Acme: help at acme.example"))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_keywords(&self, keywords: Keywords) -> Result<(), Error> {
        keywords.validate()?;
        let mut state = self.write();
        state.check_extra_keywords(&keywords)?;
        state.keywords = keywords;
        state.keywords_dirty = true;
        Ok(())
    }

    /// Gives a channel keyword settings of its own (a different language,
    /// say), instead of the account's.
    ///
    /// # Errors
    ///
    /// As [`Keywords::validate`]; nothing changes.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{ChannelId, Keywords, Language, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// store.set_channel_keywords(ChannelId::new(7), Keywords::default().languages([Language::Spanish]))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_channel_keywords(
        &self,
        channel: ChannelId,
        keywords: Keywords,
    ) -> Result<(), Error> {
        keywords.validate()?;
        let mut state = self.write();
        state.check_extra_keywords(&keywords)?;
        state.channel_keywords.insert(channel, keywords);
        state.keywords_dirty = true;
        Ok(())
    }

    /// The keyword settings in force on a channel (its own, or the
    /// account's).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{ChannelId, Keywords, Store};
    ///
    /// assert_eq!(Store::new().keywords(ChannelId::new(1)), Keywords::default());
    /// ```
    pub fn keywords(&self, channel: ChannelId) -> Keywords {
        let state = self.read();
        state
            .channel_keywords
            .get(&channel)
            .unwrap_or(&state.keywords)
            .clone()
    }

    /// The compiled keywords in force on a channel.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{ChannelId, Store};
    ///
    /// let m = Store::new().keyword_matcher(ChannelId::new(1));
    /// assert!(m.find("STOP").is_some());
    /// ```
    pub fn keyword_matcher(&self, channel: ChannelId) -> Arc<KeywordMatcher> {
        {
            let state = self.read();
            if !state.keywords_dirty {
                return Arc::clone(
                    state
                        .channel_matchers
                        .get(&channel)
                        .unwrap_or(&state.matcher),
                );
            }
        }
        let mut state = self.write();
        if state.keywords_dirty {
            state.recompile_keywords();
        }
        Arc::clone(
            state
                .channel_matchers
                .get(&channel)
                .unwrap_or(&state.matcher),
        )
    }

    /// Handles an inbound message from `from` on `channel`, at the time the
    /// store's clock gives. See [`Store::inbound_at`].
    ///
    /// # Errors
    ///
    /// [`Error::EmailTableFull`] when an opt-out cannot be recorded.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{ChannelId, InboundAction, Normalizer, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let from = Normalizer::default().address("+14155550123")?;
    /// let help = store.inbound(&from, ChannelId::new(1), "HELP")?;
    /// assert_eq!(help.action, InboundAction::Help);
    /// assert!(help.changes.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn inbound(
        &self,
        from: &Address,
        channel: ChannelId,
        text: &str,
    ) -> Result<Inbound, Error> {
        let at = self.time(&Edit::new());
        self.inbound_at(from, channel, text, at)
    }

    /// Handles an inbound message received at `at`.
    ///
    /// * An opt-out keyword opts the sender out of the system list (generic
    ///   words) or of the list whose keyword it is, scoped to the channel —
    ///   or account-wide where the channel enforces account-level opt-outs —
    ///   with source [`Source::Keyword`], and replies with the list's
    ///   confirmation (or the language's default). Someone already opted
    ///   out on this channel gets no second confirmation.
    /// * An opt-in keyword removes the sender from the lists they had opted
    ///   out of in that scope and replies with the opt-in confirmation;
    ///   from anyone else it does nothing.
    /// * A help keyword replies with the help text.
    /// * Anything else changes nothing.
    ///
    /// # Errors
    ///
    /// [`Error::EmailTableFull`] when an opt-out cannot be recorded.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{ChannelId, InboundAction, Normalizer, Store, Timestamp};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let from = Normalizer::default().address("+14155550123")?;
    /// let t = Timestamp::from_unix_secs(1_700_000_000);
    /// let out = store.inbound_at(&from, ChannelId::new(1), "Stop.", t)?;
    /// assert_eq!(out.changes[0].at, t);
    /// let start = store.inbound_at(&from, ChannelId::new(1), "START", t)?;
    /// assert_eq!(start.action, InboundAction::OptIn);
    /// # Ok(())
    /// # }
    /// ```
    pub fn inbound_at(
        &self,
        from: &Address,
        channel: ChannelId,
        text: &str,
        at: Timestamp,
    ) -> Result<Inbound, Error> {
        let matcher = self.keyword_matcher(channel);
        let Some(KeywordHit { kind, language, .. }) = matcher.find(text) else {
            return Ok(Inbound::nothing(InboundAction::None, None));
        };
        let keyword_edit = Edit::new()
            .scope(Scope::Channel(channel))
            .source(Source::Keyword)
            .at(at);
        let mut state = self.write();
        match kind {
            KeywordKind::OptOut(list) => {
                let scope = state.effective_scope(&keyword_edit);
                let Ok(slot) = state.slot(list) else {
                    // The list was deleted after the matcher was read.
                    return Ok(Inbound::nothing(InboundAction::None, language));
                };
                let confirmation = slot.settings.confirmation_text().map(str::to_owned);
                // A repeat changes nothing and gets no second reply. Where the
                // channel enforces account-level opt-outs, only an
                // account-wide entry makes it a repeat: an older entry for
                // this channel alone is widened now.
                let already = state.lookup(from).is_some_and(|id| match scope {
                    Scope::Account => slot.entries.account.contains(id.get()),
                    Scope::Channel(_) => slot
                        .entries
                        .applying_to(Some(channel))
                        .any(|set| set.contains(id.get())),
                });
                if already {
                    return Ok(Inbound::nothing(InboundAction::OptOut, language));
                }
                let Some(id) = state.id_of(from, true)? else {
                    return Ok(Inbound::nothing(InboundAction::OptOut, language));
                };
                let changes = state.apply(id, Action::OptOut, &keyword_edit.list(list), at)?;
                let reply = confirmation.unwrap_or_else(|| {
                    state
                        .channel_keywords
                        .get(&channel)
                        .unwrap_or(&state.keywords)
                        .reply_language(language)
                        .opt_out_reply()
                        .to_owned()
                });
                Ok(Inbound {
                    action: InboundAction::OptOut,
                    reply: Some(reply),
                    changes,
                    language,
                })
            }
            KeywordKind::OptIn => {
                let Some(id) = state.lookup(from) else {
                    return Ok(Inbound::nothing(InboundAction::None, language));
                };
                // What suppresses this channel's messages in the scope the
                // reply arrives in: the channel's own entries, and the
                // account-wide ones too where the channel enforces
                // account-level opt-outs.
                let scopes = match state.effective_scope(&keyword_edit) {
                    Scope::Account => vec![Scope::Account, Scope::Channel(channel)],
                    scope => vec![scope],
                };
                let mut changes = Vec::new();
                for scope in scopes {
                    let lists: Vec<ListId> = state
                        .live()
                        .filter(|(_, slot)| {
                            slot.entries
                                .scope(scope)
                                .is_some_and(|set| set.contains(id.get()))
                        })
                        .map(|(list, _)| list)
                        .collect();
                    if !lists.is_empty() {
                        let edit = keyword_edit.clone().lists_of(lists);
                        changes.extend(state.apply_in(id, Action::OptIn, &edit, scope, at)?);
                    }
                }
                if changes.is_empty() {
                    return Ok(Inbound::nothing(InboundAction::None, language));
                }
                // No "resubscribed" while an account-wide opt-out (a web
                // form, say) still keeps this channel's marketing away.
                let still_out = std::iter::once(ListId::SYSTEM)
                    .chain(changes.iter().filter_map(|c| c.list))
                    .filter_map(|list| state.slot(list).ok())
                    .any(|slot| {
                        slot.entries
                            .applying_to(Some(channel))
                            .any(|set| set.contains(id.get()))
                    });
                let reply = (!still_out).then(|| {
                    state
                        .channel_keywords
                        .get(&channel)
                        .unwrap_or(&state.keywords)
                        .opt_in_text(language)
                });
                Ok(Inbound {
                    action: InboundAction::OptIn,
                    reply,
                    changes,
                    language,
                })
            }
            KeywordKind::Help => {
                let reply = state
                    .channel_keywords
                    .get(&channel)
                    .unwrap_or(&state.keywords)
                    .help_text(language);
                Ok(Inbound {
                    action: InboundAction::Help,
                    reply: Some(reply),
                    changes: Vec::new(),
                    language,
                })
            }
        }
    }

    /// The webhook event for a change: list name, address, channel, action,
    /// source and time, and the list's webhook URL to deliver it to. The
    /// crate does no network I/O.
    ///
    /// With the `serde` feature an event serializes to
    /// `{"opt_list_name": "...", "mobile": 14155550123, "email": null,
    /// "channel_id": 101, "action": "opt-out", "source": "keyword",
    /// "time": "2026-11-24T10:00:00.000Z"}` (mobile as E.164 digits without
    /// `+`, absent fields as null).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{ChannelId, Normalizer, Store};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let from = Normalizer::default().address("+14155550123")?;
    /// let out = store.inbound(&from, ChannelId::new(101), "STOP")?;
    /// let event = store.event(&out.changes[0]);
    /// assert_eq!(event.list_name.as_deref(), Some("Default"));
    /// assert_eq!((event.mobile, event.email, event.channel_id), (Some(14155550123), None, Some(101)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn event(&self, change: &Change) -> Event {
        let state = self.read();
        let slot = change.list.and_then(|l| state.lists.get(l.0 as usize));
        Event {
            list_name: slot.map(|s| s.settings.name().to_owned()),
            mobile: change.address.phone_digits(),
            email: state.emails.email(change.address).map(|e| e.to_string()),
            channel_id: match change.scope {
                Scope::Account => None,
                Scope::Channel(c) => Some(c.get()),
            },
            action: change.action,
            source: change.source,
            time: change.at,
            webhook: slot.and_then(|s| s.settings.webhook_url().map(str::to_owned)),
        }
    }
}

/// A change, ready for a webhook (see [`Store::event`]).
///
/// # Example
///
/// ```
/// use optout::{Edit, Normalizer, Store};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Store::new();
/// let ann = Normalizer::default().address("ann@example.com")?;
/// let change = &store.opt_out(&ann, &Edit::new())?[0];
/// let event = store.event(change);
/// assert_eq!(event.email.as_deref(), Some("ann@example.com"));
/// assert_eq!(event.mobile, None);
/// assert_eq!(event.channel_id, None); // account-wide
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Event {
    /// The list's name; `None` for blocks.
    #[cfg_attr(feature = "serde", serde(rename = "opt_list_name"))]
    pub list_name: Option<String>,
    /// The phone number's E.164 digits, for a phone.
    pub mobile: Option<u64>,
    /// The email address, for an email.
    pub email: Option<String>,
    /// The channel, for a channel-scoped change.
    pub channel_id: Option<u64>,
    /// What happened.
    pub action: Action,
    /// How it came in.
    pub source: crate::store::Source,
    /// When, as RFC 3339 in the payload.
    #[cfg_attr(feature = "serde", serde(serialize_with = "rfc3339"))]
    pub time: Timestamp,
    /// The list's webhook URL, if it has one (not part of the payload).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub webhook: Option<String>,
}

#[cfg(feature = "serde")]
fn rfc3339<S: serde::Serializer>(t: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(t)
}
