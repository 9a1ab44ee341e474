//! Inbound messages: STOP, START, HELP and the sentences people write
//! instead, turned into list changes and the reply to send back.
//!
//! A message is resolved under the store's commit lock into the list
//! changes it causes, and those changes — not the text — are what the log
//! keeps, so a replay never depends on this version's word lists.

use std::fmt;

use crate::address::Address;
use crate::error::Error;
use crate::keyword::{KeywordHit, KeywordKind, Language, canonical};
use crate::model::{Action, Channel, ListId, Scope, Source, Timestamp};
use crate::store::{Change, ChangeOp, Edit, Op, Store, View};

/// What an inbound message did.
///
/// # Example
///
/// ```
/// use optout::inbound::InboundAction;
///
/// assert_eq!(InboundAction::OptOut.to_string(), "opt-out");
/// assert_eq!(InboundAction::Clarify.to_string(), "clarify");
/// assert_eq!(InboundAction::None.to_string(), "none");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum InboundAction {
    /// A request to stop: an opt-out keyword or a sentence that clearly
    /// asks to stop (a repeated one changes nothing and has no reply).
    OptOut,
    /// An opt-in keyword from someone who had opted out, or who was asked
    /// to clarify: they wish to keep receiving messages.
    OptIn,
    /// A help keyword.
    Help,
    /// Maybe a request to stop: the sender is asked once (the reply) and,
    /// until they answer STOP or START, marketing to them in that scope is
    /// suppressed. Nothing is recorded as an opt-out.
    Clarify,
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
            InboundAction::Clarify => "clarify",
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
/// use optout::{Normalizer, Store};
/// use optout::inbound::InboundAction;
/// use optout::model::Channel;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Store::new();
/// let from = Normalizer::default().address("+14155550123")?;
/// let sms = Channel::new("sms1")?;
/// let first = store.inbound(&from, &sms, "STOP")?;
/// assert_eq!(first.action, InboundAction::OptOut);
/// assert!(first.reply.is_some());
/// let again = store.inbound(&from, &sms, "please stop")?;
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
    /// The list changes recorded (empty when none changed).
    pub changes: Vec<Change>,
    /// The language of the words that decided it, for shipped words.
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
    /// Handles an inbound message from `from` on `channel`, at the time the
    /// store's clock gives. See [`Store::inbound_at`].
    ///
    /// # Errors
    ///
    /// As [`Store::inbound_at`].
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::inbound::InboundAction;
    /// use optout::model::Channel;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let from = Normalizer::default().address("+14155550123")?;
    /// let help = store.inbound(&from, &Channel::new("sms1")?, "HELP")?;
    /// assert_eq!(help.action, InboundAction::Help);
    /// assert!(help.changes.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn inbound(&self, from: &Address, channel: &Channel, text: &str) -> Result<Inbound, Error> {
        self.inbound_at(from, channel, text, self.now())
    }

    /// Handles an inbound message received at `at`, on the channel's
    /// keyword settings (see [`Keywords`](crate::keyword::Keywords)):
    ///
    /// * A request to stop — an opt-out keyword, or a sentence that clearly
    ///   asks to stop ("Please stop", "Stop texting me") — opts the sender
    ///   out of the system list (or of the list whose keyword it is),
    ///   scoped to the channel, or account-wide where the channel enforces
    ///   account-level opt-outs, with source [`Source::Keyword`], and
    ///   replies with the list's confirmation (or the language's default).
    ///   Someone already opted out there gets no second confirmation.
    /// * A message that may be a request to stop but is not clearly one
    ///   ("remove me", "no more texts") records no opt-out: it replies once
    ///   with the clarification question, and until the sender answers
    ///   STOP (an opt-out) or START (they wish to continue), marketing to
    ///   them in that scope is suppressed and no second question is sent.
    ///   If they never answer, marketing stays suppressed: under 47 CFR
    ///   64.1200(a)(12) the sender "must cease all further texts for which
    ///   consent is required absent further clarification that the
    ///   recipient wishes to continue to receive certain text messages".
    /// * An opt-in keyword removes the sender from the lists they had
    ///   opted out of in that scope (and answers a pending clarification),
    ///   replying with the opt-in confirmation; from anyone else it does
    ///   nothing.
    /// * A help keyword replies with the help text.
    /// * Anything else changes nothing.
    ///
    /// The message is resolved into the changes it causes under the
    /// store's commit lock, and logged as those changes.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::EmailTableFull`](crate::error::ErrorKind::EmailTableFull),
    /// or what the log reports when a change cannot be recorded; nothing
    /// changes, and the message should be handled again.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::inbound::InboundAction;
    /// use optout::model::{Channel, Timestamp};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let from = Normalizer::default().address("+14155550123")?;
    /// let sms = Channel::new("sms1")?;
    /// let t = Timestamp::from_unix_secs(1_700_000_000);
    /// let out = store.inbound_at(&from, &sms, "Stop texting me.", t)?;
    /// assert_eq!(out.changes[0].at, t);
    /// let start = store.inbound_at(&from, &sms, "START", t)?;
    /// assert_eq!(start.action, InboundAction::OptIn);
    /// assert_eq!(store.inbound_at(&from, &sms, "YES", t)?.action, InboundAction::None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn inbound_at(
        &self,
        from: &Address,
        channel: &Channel,
        text: &str,
        at: Timestamp,
    ) -> Result<Inbound, Error> {
        let (mut inbound, applied) = self.commit(|view| resolve(view, from, channel, text, at))?;
        inbound.changes = applied
            .changes
            .into_iter()
            .filter(|c| c.action != Action::ListDeleted)
            .collect();
        Ok(inbound)
    }
}

/// The language of a message that only says "yes".
fn affirmative(text: &str) -> Option<Language> {
    let key = canonical(text);
    Language::ALL
        .into_iter()
        .find(|l| l.affirmative_words().contains(&key.as_str()))
}

/// Turns a message into the operation it causes and the reply.
fn resolve(
    view: &View<'_>,
    from: &Address,
    channel: &Channel,
    text: &str,
    at: Timestamp,
) -> Result<(Option<Op>, Inbound), Error> {
    let id = view.lookup(from);
    let here = Scope::Channel(channel.clone());
    // A clarification asked in either scope this channel's keyword changes
    // could have used.
    let pending: Vec<Scope> = [Scope::Account, here.clone()]
        .into_iter()
        .filter(|s| id.is_some_and(|id| view.pending_in(s, id)))
        .collect();
    // The question asked was "do you want to stop?": a "yes" to it is an
    // opt-out, even where YES has been made an opt-in word.
    let hit = match pending.is_empty() {
        false => affirmative(text).map(|language| KeywordHit {
            kind: KeywordKind::OptOut(ListId::SYSTEM),
            language: Some(language),
        }),
        true => None,
    };
    let Some(hit) = hit.or_else(|| view.matcher(channel).find(text)) else {
        return Ok((None, Inbound::nothing(InboundAction::None, None)));
    };
    let language = hit.language;
    let keywords = view.keywords_for(channel);
    let scope = view.keyword_scope_of(channel);
    let answered = |ops: &mut Vec<Op>| {
        for s in &pending {
            ops.push(Op::Clarify {
                who: view.who([from]),
                scope: s.clone(),
                pending: false,
            });
        }
    };
    let batch = |ops: Vec<Op>| match ops.len() {
        0 => None,
        1 => ops.into_iter().next(),
        _ => Some(Op::Batch(ops)),
    };
    match hit.kind {
        KeywordKind::OptOut(list) => {
            let Some(settings) = view.list(list) else {
                return Ok((None, Inbound::nothing(InboundAction::None, language)));
            };
            let confirmation = settings
                .confirmation_text()
                .map(str::to_owned)
                .unwrap_or_else(|| keywords.opt_out_text(language));
            // A repeat changes nothing and gets no second reply. Where the
            // channel enforces account-level opt-outs, only an account-wide
            // entry makes it a repeat: an older entry for this channel
            // alone is widened now.
            let already = id.is_some_and(|id| match &scope {
                Scope::Account => view.on(list, &Scope::Account, id),
                Scope::Channel(_) => view.suppressed_on(list, channel, id),
            });
            let mut ops = Vec::new();
            if !already {
                let edit = Edit::new().list(list).scope(here).source(Source::Keyword);
                ops.push(view.change(Action::OptOut, view.who([from]), 1, &edit, at)?);
            }
            answered(&mut ops);
            let reply = (!already).then_some(confirmation);
            Ok((
                batch(ops),
                Inbound {
                    action: InboundAction::OptOut,
                    reply,
                    changes: Vec::new(),
                    language,
                },
            ))
        }
        KeywordKind::OptIn => {
            let Some(id) = id else {
                return Ok((None, Inbound::nothing(InboundAction::None, language)));
            };
            // What suppresses this channel's messages in the scope the
            // reply arrives in: the channel's own entries, and the
            // account-wide ones too where the channel enforces
            // account-level opt-outs.
            let scopes = match &scope {
                Scope::Account => vec![Scope::Account, here.clone()],
                s => vec![s.clone()],
            };
            let mut ops = Vec::new();
            let mut lifted: Vec<(Scope, ListId)> = Vec::new();
            for s in scopes {
                let lists: Vec<ListId> = view.lists().filter(|&l| view.on(l, &s, id)).collect();
                if !lists.is_empty() {
                    lifted.extend(lists.iter().map(|&l| (s.clone(), l)));
                    // The scope as resolved: no second widening.
                    ops.push(Op::Change(ChangeOp {
                        action: Action::OptIn,
                        lists,
                        scope: s,
                        source: Source::Keyword,
                        at,
                        who: view.who([from]),
                        requested: 1,
                    }));
                }
            }
            answered(&mut ops);
            if ops.is_empty() {
                return Ok((None, Inbound::nothing(InboundAction::None, language)));
            }
            // No "resubscribed" while an entry this START does not lift (an
            // account-wide web-form opt-out, say) still keeps this
            // channel's marketing away.
            let still_out = std::iter::once(ListId::SYSTEM)
                .chain(lifted.iter().map(|(_, l)| *l))
                .any(|l| {
                    [Scope::Account, here.clone()].iter().any(|s| {
                        view.on(l, s, id) && !lifted.iter().any(|(ls, ll)| ls == s && *ll == l)
                    })
                });
            let reply = (!still_out).then(|| keywords.opt_in_text(language));
            Ok((
                batch(ops),
                Inbound {
                    action: InboundAction::OptIn,
                    reply,
                    changes: Vec::new(),
                    language,
                },
            ))
        }
        KeywordKind::Help => Ok((
            None,
            Inbound {
                action: InboundAction::Help,
                reply: Some(keywords.help_text(language)),
                changes: Vec::new(),
                language,
            },
        )),
        _ => {
            // Asked once until answered; nothing to ask someone who is
            // already opted out here.
            let opted_out = id.is_some_and(|id| view.suppressed_on(ListId::SYSTEM, channel, id));
            if !pending.is_empty() || opted_out {
                return Ok((None, Inbound::nothing(InboundAction::Clarify, language)));
            }
            let op = Op::Clarify {
                who: view.who([from]),
                scope,
                pending: true,
            };
            Ok((
                Some(op),
                Inbound {
                    action: InboundAction::Clarify,
                    reply: Some(keywords.clarify_text(language)),
                    changes: Vec::new(),
                    language,
                },
            ))
        }
    }
}
