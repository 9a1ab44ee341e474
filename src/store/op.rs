//! Operations: every change to a store is one [`Op`], resolved before it
//! is logged (times fixed, scopes widened, email addresses in the store's
//! key form, an inbound message already turned into the list changes it
//! causes), so that replaying the log reproduces the store exactly,
//! whatever the crate version's word lists or the clock say.

use roaring::RoaringTreemap;

use crate::address::{Email, EmailAliases, Strictness};
use crate::error::Error;
use crate::keyword::Keywords;
use crate::model::{Action, Channel, KeywordScope, ListId, Scope, Source, Timestamp};
use crate::persist::codec::{Reader, Writer};

use super::Policy;
use super::list::ListSettings;

/// One change, as logged.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Op {
    /// Opt-out, opt-in, block or unblock of some addresses.
    Change(ChangeOp),
    CreateList(ListSettings),
    UpdateList(ListId, ListSettings),
    DeleteList {
        list: ListId,
        at: Timestamp,
        source: Source,
    },
    KeywordScope(Channel, KeywordScope),
    /// The account's keyword settings (`None`) or a channel's.
    Keywords(Option<Channel>, Keywords),
    /// Email addresses given ids with no list change: written when
    /// unsubscribe tokens interned their address (token version 2, before
    /// version 3 carried it) and by version-1 migration; still replayed.
    Intern(Vec<Email>),
    /// A clarification asked (`pending`) or answered, for one sender in a
    /// scope: while one is pending, marketing in that scope is suppressed.
    Clarify {
        who: Who,
        scope: Scope,
        pending: bool,
    },
    /// The store's policy, set once, before anything else.
    Policy(Policy),
    /// Several operations applied together, in order.
    Batch(Vec<Op>),
}

/// Addresses an operation concerns: phone ids, and email addresses in the
/// store's key form (interned when applied, so that replay assigns the
/// same ids).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Who {
    pub(crate) phones: RoaringTreemap,
    pub(crate) emails: Vec<Email>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ChangeOp {
    pub(crate) action: Action,
    /// The lists, for opt-outs and opt-ins; empty for blocks.
    pub(crate) lists: Vec<ListId>,
    pub(crate) scope: Scope,
    pub(crate) source: Source,
    pub(crate) at: Timestamp,
    pub(crate) who: Who,
    /// How many addresses were asked for (repeats included), for the
    /// unchanged count.
    pub(crate) requested: u64,
}

impl Op {
    pub(crate) fn encode(&self) -> Result<Vec<u8>, Error> {
        // Room for a single change without growing.
        let mut w = Writer {
            buf: Vec::with_capacity(128),
        };
        self.encode_into(&mut w)?;
        Ok(w.buf)
    }

    fn encode_into(&self, w: &mut Writer) -> Result<(), Error> {
        match self {
            Op::Change(c) => {
                w.u8(0);
                w.u8(c.action.code());
                w.len(c.lists.len());
                for l in &c.lists {
                    w.u32(l.get());
                }
                encode_scope(w, &c.scope);
                w.u8(c.source.code());
                w.i64(c.at.unix_millis());
                encode_who(w, &c.who)?;
                w.u64(c.requested);
            }
            Op::CreateList(settings) => {
                w.u8(1);
                settings.encode(w);
            }
            Op::UpdateList(id, settings) => {
                w.u8(2);
                w.u32(id.get());
                settings.encode(w);
            }
            Op::DeleteList { list, at, source } => {
                w.u8(3);
                w.u32(list.get());
                w.i64(at.unix_millis());
                w.u8(source.code());
            }
            Op::KeywordScope(channel, scope) => {
                w.u8(4);
                w.str(channel.as_str());
                w.bool(*scope == KeywordScope::Account);
            }
            Op::Keywords(channel, keywords) => {
                w.u8(5);
                w.opt_str(channel.as_ref().map(Channel::as_str));
                keywords.encode(w);
            }
            Op::Intern(emails) => {
                w.u8(6);
                w.len(emails.len());
                for e in emails {
                    w.str(e.as_str());
                }
            }
            Op::Clarify {
                who,
                scope,
                pending,
            } => {
                w.u8(7);
                encode_who(w, who)?;
                encode_scope(w, scope);
                w.bool(*pending);
            }
            Op::Policy(policy) => {
                w.u8(8);
                policy.encode(w);
            }
            Op::Batch(ops) => {
                w.u8(9);
                w.len(ops.len());
                for op in ops {
                    op.encode_into(w)?;
                }
            }
        }
        Ok(())
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Op, Error> {
        let mut r = Reader::new(bytes, "journal");
        let op = Op::decode_from(&mut r, 0)?;
        if !r.is_empty() {
            return Err(r.corrupt("bytes left over in record"));
        }
        Ok(op)
    }

    fn decode_from(r: &mut Reader<'_>, depth: u8) -> Result<Op, Error> {
        Ok(match r.u8()? {
            0 => {
                let code = r.u8()?;
                let action = Action::from_code(code)
                    .filter(|a| *a != Action::ListDeleted)
                    .ok_or_else(|| r.corrupt(format!("unknown action {code}")))?;
                let n = r.len(4)?;
                let mut lists = Vec::with_capacity(n);
                for _ in 0..n {
                    lists.push(ListId::new(r.u32()?));
                }
                let scope = decode_scope(r)?;
                let source = decode_source(r)?;
                let at = Timestamp::from_unix_millis(r.i64()?);
                let who = decode_who(r)?;
                let requested = r.u64()?;
                Op::Change(ChangeOp {
                    action,
                    lists,
                    scope,
                    source,
                    at,
                    who,
                    requested,
                })
            }
            1 => Op::CreateList(ListSettings::decode(r)?),
            2 => Op::UpdateList(ListId::new(r.u32()?), ListSettings::decode(r)?),
            3 => Op::DeleteList {
                list: ListId::new(r.u32()?),
                at: Timestamp::from_unix_millis(r.i64()?),
                source: decode_source(r)?,
            },
            4 => {
                let channel = decode_channel(r)?;
                let scope = if r.bool()? {
                    KeywordScope::Account
                } else {
                    KeywordScope::Channel
                };
                Op::KeywordScope(channel, scope)
            }
            5 => {
                let channel = match r.opt_str()? {
                    None => None,
                    Some(name) => Some(Channel::new(name).map_err(|e| r.corrupt(e.to_string()))?),
                };
                Op::Keywords(channel, Keywords::decode(r, 2)?)
            }
            6 => {
                let n = r.len(9)?;
                let mut emails = Vec::with_capacity(n);
                for _ in 0..n {
                    emails.push(decode_email(r)?);
                }
                Op::Intern(emails)
            }
            7 => Op::Clarify {
                who: decode_who(r)?,
                scope: decode_scope(r)?,
                pending: r.bool()?,
            },
            8 => Op::Policy(Policy::decode(r)?),
            9 if depth == 0 => {
                let n = r.len(1)?;
                let mut ops = Vec::with_capacity(n);
                for _ in 0..n {
                    ops.push(Op::decode_from(r, depth + 1)?);
                }
                Op::Batch(ops)
            }
            other => return Err(r.corrupt(format!("unknown operation {other}"))),
        })
    }
}

pub(crate) fn encode_scope(w: &mut Writer, scope: &Scope) {
    match scope {
        Scope::Account => w.u8(0),
        Scope::Channel(c) => {
            w.u8(1);
            w.str(c.as_str());
        }
    }
}

pub(crate) fn decode_scope(r: &mut Reader<'_>) -> Result<Scope, Error> {
    match r.u8()? {
        0 => Ok(Scope::Account),
        1 => Ok(Scope::Channel(decode_channel(r)?)),
        other => Err(r.corrupt(format!("unknown scope tag {other}"))),
    }
}

pub(crate) fn decode_channel(r: &mut Reader<'_>) -> Result<Channel, Error> {
    let name = r.str()?;
    Channel::new(name).map_err(|e| r.corrupt(e.to_string()))
}

pub(crate) fn decode_source(r: &mut Reader<'_>) -> Result<Source, Error> {
    let code = r.u8()?;
    Source::from_code(code).ok_or_else(|| r.corrupt(format!("unknown source {code}")))
}

/// A canonical email address as stored: checked for the shape every
/// canonical address has.
pub(crate) fn decode_email(r: &mut Reader<'_>) -> Result<Email, Error> {
    let text = r.str()?;
    if !is_canonical_shape(text) {
        return Err(r.corrupt(format!("{text:?} is not a canonical email address")));
    }
    Ok(Email::from_canonical(text))
}

pub(crate) fn is_canonical_shape(text: &str) -> bool {
    !text.is_empty() && text.len() <= 320 && text.contains('@') && !text.contains('\0')
}

fn encode_who(w: &mut Writer, who: &Who) -> Result<(), Error> {
    w.treemap(&who.phones)?;
    w.len(who.emails.len());
    for e in &who.emails {
        w.str(e.as_str());
    }
    Ok(())
}

fn decode_who(r: &mut Reader<'_>) -> Result<Who, Error> {
    let phones = r.treemap()?;
    if !super::state::phone_ids_valid(&phones) {
        return Err(r.corrupt("phone id out of range"));
    }
    let n = r.len(9)?;
    let mut emails = Vec::with_capacity(n);
    for _ in 0..n {
        emails.push(decode_email(r)?);
    }
    Ok(Who { phones, emails })
}

impl Policy {
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u8(match self.email_aliases {
            EmailAliases::Keep => 0,
            EmailAliases::Fold => 1,
        });
        w.u8(match self.recording {
            Strictness::Possible => 0,
            Strictness::Valid => 1,
        });
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Policy, Error> {
        let email_aliases = match r.u8()? {
            0 => EmailAliases::Keep,
            1 => EmailAliases::Fold,
            other => return Err(r.corrupt(format!("unknown alias policy {other}"))),
        };
        let recording = match r.u8()? {
            0 => Strictness::Possible,
            1 => Strictness::Valid,
            other => return Err(r.corrupt(format!("unknown strictness {other}"))),
        };
        Ok(Policy {
            email_aliases,
            recording,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Normalizer;

    #[test]
    fn every_operation_round_trips() {
        let n = Normalizer::default();
        let ch = Channel::new("sms1").unwrap();
        let who = Who {
            phones: [14155550123u64, 447911123456].into_iter().collect(),
            emails: vec![n.email("ann@example.com").unwrap()],
        };
        let ops = [
            Op::Change(ChangeOp {
                action: Action::OptOut,
                lists: vec![ListId::SYSTEM, ListId::new(3)],
                scope: Scope::Channel(ch.clone()),
                source: Source::Keyword,
                at: Timestamp::from_unix_secs(5),
                who: who.clone(),
                requested: 4,
            }),
            Op::CreateList(ListSettings::new("VIP").keyword("STOPVIP")),
            Op::UpdateList(ListId::new(1), ListSettings::new("VIP2")),
            Op::DeleteList {
                list: ListId::new(1),
                at: Timestamp::from_unix_secs(9),
                source: Source::Api,
            },
            Op::KeywordScope(ch.clone(), KeywordScope::Account),
            Op::Keywords(Some(ch.clone()), Keywords::default()),
            Op::Keywords(None, Keywords::default().add_opt_out("ENOUGH")),
            Op::Intern(who.emails.clone()),
            Op::Clarify {
                who: who.clone(),
                scope: Scope::Account,
                pending: true,
            },
            Op::Policy(Policy::default()),
            Op::Batch(vec![
                Op::Intern(Vec::new()),
                Op::KeywordScope(ch, KeywordScope::Channel),
            ]),
        ];
        for op in ops {
            let bytes = op.encode().unwrap();
            assert_eq!(Op::decode(&bytes).unwrap(), op);
            // Every strict prefix is refused, never misread.
            for cut in 0..bytes.len() {
                assert!(Op::decode(&bytes[..cut]).is_err(), "{op:?} cut at {cut}");
            }
        }
    }
}
