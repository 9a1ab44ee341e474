//! One-click unsubscribe links (RFC 2369 / RFC 8058) and web-form
//! opt-outs: signed tokens, the link and headers to put in a message, and
//! the handling of the click. The crate does no HTTP; a web handler passes
//! in what it received.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::address::{Address, Invalid, Normalizer, Phone};
use crate::clock::Timestamp;
use crate::error::Error;
use crate::id::AddressId;
use crate::inbound::Event;
use crate::keyword::Language;
use crate::list::ListId;
use crate::store::{ChannelId, Edit, Scope, Source, Store};

/// How a web-form opt-out is recorded.
pub(crate) type Record<'a> =
    dyn Fn(&Address, &Edit) -> Result<Vec<crate::history::Change>, Error> + 'a;

/// Token layout version.
const VERSION: u8 = 1;
/// Bytes of HMAC-SHA256 kept in a token: 128 bits.
const TAG: usize = 16;
/// Longest token accepted, in characters, before any decoding.
const MAX_TOKEN_CHARS: usize = 128;
/// The RFC 8058 one-click POST body.
pub const ONE_CLICK_BODY: &str = "List-Unsubscribe=One-Click";

/// What an unsubscribe token says: who, from which list, on which channel,
/// until when.
///
/// The token carries the address's [`AddressId`], not the address: an
/// email appears as its index in the store's table. A phone id is its
/// E.164 digits, so a phone token shows the number to whoever holds it.
///
/// # Example
///
/// ```
/// use optout::{AddressId, ListId, Timestamp, UnsubscribeToken};
///
/// let token = UnsubscribeToken::new(AddressId::from_email_index(7), ListId::SYSTEM)
///     .expires(Timestamp::from_unix_secs(2_000_000_000));
/// assert_eq!(token.address, AddressId::from_email_index(7));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct UnsubscribeToken {
    /// The recipient.
    pub address: AddressId,
    /// The list to leave (the system list for a general unsubscribe).
    pub list: ListId,
    /// The channel the message came from, if any.
    pub channel: Option<ChannelId>,
    /// After this time the token is refused.
    pub expires: Option<Timestamp>,
}

impl UnsubscribeToken {
    /// A token for `address` and `list`, no channel, no expiry.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{AddressId, ListId, UnsubscribeToken};
    ///
    /// let t = UnsubscribeToken::new(AddressId::from_email_index(0), ListId::SYSTEM);
    /// assert_eq!(t.expires, None);
    /// ```
    pub fn new(address: AddressId, list: ListId) -> UnsubscribeToken {
        UnsubscribeToken {
            address,
            list,
            channel: None,
            expires: None,
        }
    }

    /// Sets the channel.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{AddressId, ChannelId, ListId, UnsubscribeToken};
    ///
    /// let t = UnsubscribeToken::new(AddressId::from_email_index(0), ListId::SYSTEM).channel(ChannelId::new(5));
    /// assert_eq!(t.channel, Some(ChannelId::new(5)));
    /// ```
    pub fn channel(mut self, channel: ChannelId) -> UnsubscribeToken {
        self.channel = Some(channel);
        self
    }

    /// Sets the expiry.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{AddressId, ListId, Timestamp, UnsubscribeToken};
    ///
    /// let t = UnsubscribeToken::new(AddressId::from_email_index(0), ListId::SYSTEM).expires(Timestamp::EPOCH);
    /// assert_eq!(t.expires, Some(Timestamp::EPOCH));
    /// ```
    pub fn expires(mut self, at: Timestamp) -> UnsubscribeToken {
        self.expires = Some(at);
        self
    }

    fn encode(&self, key_id: u8) -> Vec<u8> {
        let mut out = Vec::with_capacity(40);
        out.push(VERSION);
        out.push(key_id);
        let flags = u8::from(self.channel.is_some()) | u8::from(self.expires.is_some()) << 1;
        out.push(flags);
        out.extend_from_slice(&self.address.get().to_le_bytes());
        out.extend_from_slice(&self.list.get().to_le_bytes());
        if let Some(c) = self.channel {
            out.extend_from_slice(&c.get().to_le_bytes());
        }
        if let Some(t) = self.expires {
            out.extend_from_slice(&t.unix_millis().to_le_bytes());
        }
        out
    }

    fn decode(body: &[u8]) -> Result<(u8, UnsubscribeToken), TokenRejected> {
        let mut r = body;
        let mut take = |n: usize| -> Result<&[u8], TokenRejected> {
            let (head, tail) = r.split_at_checked(n).ok_or(TokenRejected::Malformed)?;
            r = tail;
            Ok(head)
        };
        let u64_of = |b: &[u8]| {
            b.try_into()
                .map(u64::from_le_bytes)
                .map_err(|_| TokenRejected::Malformed)
        };
        let version = *take(1)?.first().ok_or(TokenRejected::Malformed)?;
        if version != VERSION {
            return Err(TokenRejected::Malformed);
        }
        let key_id = *take(1)?.first().ok_or(TokenRejected::Malformed)?;
        let flags = *take(1)?.first().ok_or(TokenRejected::Malformed)?;
        if flags > 3 {
            return Err(TokenRejected::Malformed);
        }
        let address = AddressId::new(u64_of(take(8)?)?).ok_or(TokenRejected::Malformed)?;
        let list = ListId::new(
            take(4)?
                .try_into()
                .map(u32::from_le_bytes)
                .map_err(|_| TokenRejected::Malformed)?,
        );
        let channel = if flags & 1 != 0 {
            Some(ChannelId::new(u64_of(take(8)?)?))
        } else {
            None
        };
        let expires = if flags & 2 != 0 {
            Some(Timestamp::from_unix_millis(u64_of(take(8)?)? as i64))
        } else {
            None
        };
        if !r.is_empty() {
            return Err(TokenRejected::Malformed);
        }
        Ok((
            key_id,
            UnsubscribeToken {
                address,
                list,
                channel,
                expires,
            },
        ))
    }
}

/// Why a token or an unsubscribe request was refused.
///
/// # Example
///
/// ```
/// use optout::{TokenRejected, UnsubscribeKeys};
///
/// let keys = UnsubscribeKeys::new(1, b"a secret of at least 32 bytes!!!")?;
/// assert_eq!(keys.verify("garbage", optout::Timestamp::EPOCH), Err(TokenRejected::Malformed));
/// # Ok::<(), optout::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenRejected {
    /// Not a token: bad encoding, wrong layout or version.
    Malformed,
    /// Longer than any token this crate makes.
    Oversized,
    /// Signed with a key that is not configured (retired or foreign).
    UnknownKey,
    /// The signature does not match: tampered, truncated or forged.
    BadSignature,
    /// Past its expiry.
    Expired,
    /// A POST whose body is not `List-Unsubscribe=One-Click`.
    NotOneClick,
    /// The token names an email the store does not know, or a list that no
    /// longer exists.
    UnknownRecipient,
}

impl fmt::Display for TokenRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenRejected::Malformed => "not a valid unsubscribe token",
            TokenRejected::Oversized => "token too long",
            TokenRejected::UnknownKey => "token signed with an unknown key",
            TokenRejected::BadSignature => "token signature does not match",
            TokenRejected::Expired => "token expired",
            TokenRejected::NotOneClick => "POST body is not List-Unsubscribe=One-Click",
            TokenRejected::UnknownRecipient => "token names an unknown recipient or list",
        })
    }
}

impl std::error::Error for TokenRejected {}

/// Why a click could not be handled: the link was refused, or it was good
/// but the opt-out could not be recorded.
///
/// # Example
///
/// ```
/// use optout::{Click, Store, Timestamp, TokenRejected, UnsubscribeError, UnsubscribeKeys};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let keys = UnsubscribeKeys::new(1, &[42; 32])?;
/// let err = Store::new().unsubscribe_at(&keys, "nope", Click::Confirm, Timestamp::EPOCH).unwrap_err();
/// assert_eq!(err.rejected(), Some(TokenRejected::Malformed));
/// assert!(matches!(err, UnsubscribeError::Rejected(_)));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UnsubscribeError {
    /// The link was refused; nothing changed. Show an error page.
    #[error("unsubscribe link refused: {0}")]
    Rejected(#[from] TokenRejected),
    /// The link is good but the opt-out could not be recorded (a journal
    /// write failed, the email table is full); nothing changed. Answer
    /// with a temporary error so that the click is retried: the person's
    /// request must not be lost.
    #[error("the opt-out could not be recorded: {0}")]
    NotRecorded(#[source] Error),
}

impl UnsubscribeError {
    /// The rejection, if the link was refused.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{TokenRejected, UnsubscribeError};
    ///
    /// let err = UnsubscribeError::from(TokenRejected::Expired);
    /// assert_eq!(err.rejected(), Some(TokenRejected::Expired));
    /// ```
    pub fn rejected(&self) -> Option<TokenRejected> {
        match self {
            UnsubscribeError::Rejected(r) => Some(*r),
            UnsubscribeError::NotRecorded(_) => None,
        }
    }
}

/// The keys that sign and verify unsubscribe tokens. Each has a one-byte
/// id written into the token, so a key can be rotated: sign with the new
/// one, keep accepting the old one until its tokens have expired.
///
/// # Example
///
/// ```
/// use optout::{AddressId, ListId, Timestamp, UnsubscribeKeys, UnsubscribeToken};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let old = UnsubscribeKeys::new(1, b"the old secret, 32 bytes or more")?;
/// let token = old.sign(&UnsubscribeToken::new(AddressId::from_email_index(3), ListId::SYSTEM));
/// let rotated = UnsubscribeKeys::new(2, b"the new secret, 32 bytes or more")?
///     .accept(1, b"the old secret, 32 bytes or more")?;
/// assert!(rotated.verify(&token, Timestamp::EPOCH).is_ok());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct UnsubscribeKeys {
    signing: u8,
    keys: Vec<(u8, Hmac<Sha256>)>,
}

impl fmt::Debug for UnsubscribeKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<u8> = self.keys.iter().map(|(id, _)| *id).collect();
        f.debug_struct("UnsubscribeKeys")
            .field("signing", &self.signing)
            .field("ids", &ids)
            .finish()
    }
}

/// Shortest secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

impl UnsubscribeKeys {
    /// Keys that sign with `secret` under id `key_id`.
    ///
    /// # Errors
    ///
    /// [`Error::WeakSecret`] for a secret shorter than 32 bytes.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(optout::UnsubscribeKeys::new(1, b"short").is_err());
    /// ```
    pub fn new(key_id: u8, secret: &[u8]) -> Result<UnsubscribeKeys, Error> {
        Ok(UnsubscribeKeys {
            signing: key_id,
            keys: vec![(key_id, mac(secret)?)],
        })
    }

    /// Also accepts tokens signed with `secret` under id `key_id`.
    ///
    /// # Errors
    ///
    /// [`Error::WeakSecret`] for a secret shorter than 32 bytes.
    ///
    /// # Example
    ///
    /// ```
    /// let keys = optout::UnsubscribeKeys::new(2, &[7; 32])?.accept(1, &[9; 32])?;
    /// # Ok::<(), optout::Error>(())
    /// ```
    pub fn accept(mut self, key_id: u8, secret: &[u8]) -> Result<UnsubscribeKeys, Error> {
        let mac = mac(secret)?;
        self.keys.retain(|(id, _)| *id != key_id);
        self.keys.push((key_id, mac));
        Ok(self)
    }

    /// Signs a token: a compact, URL-safe string.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{AddressId, ListId, UnsubscribeKeys, UnsubscribeToken};
    ///
    /// let keys = UnsubscribeKeys::new(1, &[42; 32])?;
    /// let text = keys.sign(&UnsubscribeToken::new(AddressId::from_email_index(0), ListId::SYSTEM));
    /// assert!(text.len() <= 64);
    /// assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    /// # Ok::<(), optout::Error>(())
    /// ```
    pub fn sign(&self, token: &UnsubscribeToken) -> String {
        let mut bytes = token.encode(self.signing);
        let tag = self
            .keys
            .iter()
            .find(|(id, _)| *id == self.signing)
            .map(|(_, mac)| {
                let mut mac = mac.clone();
                mac.update(&bytes);
                mac.finalize().into_bytes()
            })
            .unwrap_or_default();
        bytes.extend_from_slice(tag.get(..TAG).unwrap_or(&[]));
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Verifies a token string at time `now`. The signature comparison is
    /// constant-time.
    ///
    /// # Errors
    ///
    /// The [`TokenRejected`] reason.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{AddressId, ListId, Timestamp, TokenRejected, UnsubscribeKeys, UnsubscribeToken};
    ///
    /// let keys = UnsubscribeKeys::new(1, &[42; 32])?;
    /// let token = UnsubscribeToken::new(AddressId::from_email_index(0), ListId::SYSTEM)
    ///     .expires(Timestamp::from_unix_secs(100));
    /// let text = keys.sign(&token);
    /// assert_eq!(keys.verify(&text, Timestamp::from_unix_secs(99)), Ok(token));
    /// assert_eq!(keys.verify(&text, Timestamp::from_unix_secs(101)), Err(TokenRejected::Expired));
    /// # Ok::<(), optout::Error>(())
    /// ```
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<UnsubscribeToken, TokenRejected> {
        if token.len() > MAX_TOKEN_CHARS {
            return Err(TokenRejected::Oversized);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(token.trim())
            .map_err(|_| TokenRejected::Malformed)?;
        let split = bytes
            .len()
            .checked_sub(TAG)
            .ok_or(TokenRejected::Malformed)?;
        let (body, tag) = bytes.split_at(split);
        let (key_id, parsed) = UnsubscribeToken::decode(body)?;
        let (_, mac) = self
            .keys
            .iter()
            .find(|(id, _)| *id == key_id)
            .ok_or(TokenRejected::UnknownKey)?;
        let mut mac = mac.clone();
        mac.update(body);
        mac.verify_truncated_left(tag)
            .map_err(|_| TokenRejected::BadSignature)?;
        if parsed.expires.is_some_and(|e| now > e) {
            return Err(TokenRejected::Expired);
        }
        Ok(parsed)
    }
}

fn mac(secret: &[u8]) -> Result<Hmac<Sha256>, Error> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(Error::WeakSecret {
            bytes: secret.len(),
            minimum: MIN_SECRET_BYTES,
        });
    }
    Hmac::<Sha256>::new_from_slice(secret).map_err(|_| Error::WeakSecret {
        bytes: secret.len(),
        minimum: MIN_SECRET_BYTES,
    })
}

/// The `List-Unsubscribe` and `List-Unsubscribe-Post` header values for a
/// message (RFC 2369, RFC 8058).
///
/// # Example
///
/// ```
/// use optout::{AddressId, ListId, UnsubscribeKeys, UnsubscribeToken, unsubscribe_headers};
///
/// let keys = UnsubscribeKeys::new(1, &[42; 32])?;
/// let token = keys.sign(&UnsubscribeToken::new(AddressId::from_email_index(0), ListId::SYSTEM));
/// let h = unsubscribe_headers("https://example.com/u", &token, Some("unsubscribe@example.com"))?;
/// assert!(h.list_unsubscribe.starts_with("<https://example.com/u?token="));
/// assert!(h.list_unsubscribe.ends_with(">, <mailto:unsubscribe@example.com?subject=unsubscribe>"));
/// assert_eq!(h.list_unsubscribe_post, "List-Unsubscribe=One-Click");
/// # Ok::<(), optout::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnsubscribeHeaders {
    /// The `List-Unsubscribe` value: the https link, and a mailto when given.
    pub list_unsubscribe: String,
    /// The `List-Unsubscribe-Post` value.
    pub list_unsubscribe_post: String,
}

/// The per-recipient unsubscribe link: `base` with a `token` query
/// parameter.
///
/// # Errors
///
/// [`Error::InvalidUrl`] if `base` is not an http or https URL.
///
/// # Example
///
/// ```
/// let url = optout::unsubscribe_url("https://example.com/unsub?lang=en", "abc")?;
/// assert_eq!(url, "https://example.com/unsub?lang=en&token=abc");
/// # Ok::<(), optout::Error>(())
/// ```
pub fn unsubscribe_url(base: &str, token: &str) -> Result<String, Error> {
    let mut url = url::Url::parse(base).map_err(|e| Error::InvalidUrl {
        url: base.to_owned(),
        reason: e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::InvalidUrl {
            url: base.to_owned(),
            reason: "must be an http or https URL".into(),
        });
    }
    url.query_pairs_mut().append_pair("token", token);
    Ok(url.into())
}

/// The headers for a message: the link made from `base` and `token`, an
/// optional mailto address, and the one-click POST marker.
///
/// # Errors
///
/// [`Error::InvalidUrl`] for a bad `base`.
///
/// # Example
///
/// ```
/// let h = optout::unsubscribe_headers("https://example.com/u", "abc", None)?;
/// assert_eq!(h.list_unsubscribe, "<https://example.com/u?token=abc>");
/// # Ok::<(), optout::Error>(())
/// ```
pub fn unsubscribe_headers(
    base: &str,
    token: &str,
    mailto: Option<&str>,
) -> Result<UnsubscribeHeaders, Error> {
    let url = unsubscribe_url(base, token)?;
    let list_unsubscribe = match mailto {
        Some(m) => format!("<{url}>, <mailto:{m}?subject=unsubscribe>"),
        None => format!("<{url}>"),
    };
    Ok(UnsubscribeHeaders {
        list_unsubscribe,
        list_unsubscribe_post: ONE_CLICK_BODY.to_owned(),
    })
}

/// What a web handler received for an unsubscribe link.
///
/// # Example
///
/// ```
/// use optout::Click;
///
/// let one_click = Click::Post { body: "List-Unsubscribe=One-Click" };
/// let visit = Click::Get;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Click<'a> {
    /// A GET: a person (or a mail scanner prefetching links) opened the
    /// link. Nothing changes; show a confirmation page.
    Get,
    /// An RFC 8058 one-click POST with its form body.
    Post {
        /// The request body, which must be `List-Unsubscribe=One-Click`.
        body: &'a str,
    },
    /// The confirmation button of your own landing page.
    Confirm,
}

/// What handling an unsubscribe did.
///
/// # Example
///
/// ```
/// use optout::Unsubscribed;
///
/// # fn check(u: Unsubscribed) {
/// match u {
///     Unsubscribed::Recorded { reply, event } => println!("{reply} ({event:?})"),
///     Unsubscribed::AlreadyOptedOut { reply } => println!("{reply}"),
///     Unsubscribed::ConfirmationNeeded { .. } => println!("show the confirm page"),
///     _ => {}
/// }
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unsubscribed {
    /// The opt-out was recorded: the confirmation text and the change event.
    Recorded {
        /// The confirmation to show.
        reply: String,
        /// The change, for the list's webhook.
        event: Event,
    },
    /// Nothing changed: already opted out.
    AlreadyOptedOut {
        /// The confirmation to show again.
        reply: String,
    },
    /// A GET: the token is good, nothing changed; ask the person to
    /// confirm.
    ConfirmationNeeded {
        /// What the token says.
        token: UnsubscribeToken,
    },
}

impl Store {
    /// Handles a click on an unsubscribe link, at the store clock's time.
    /// See [`Store::unsubscribe_at`].
    ///
    /// # Errors
    ///
    /// [`UnsubscribeError::Rejected`] with the [`TokenRejected`] reason, or
    /// [`UnsubscribeError::NotRecorded`]; nothing changes.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Click, Edit, Normalizer, Store, UnsubscribeKeys, UnsubscribeToken, Unsubscribed};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let keys = UnsubscribeKeys::new(1, &[42; 32])?;
    /// let ann = Normalizer::default().email("ann@example.com")?;
    /// let token = keys.sign(&store.unsubscribe_token(&ann.into(), optout::ListId::SYSTEM)?);
    /// assert!(matches!(store.unsubscribe(&keys, &token, Click::Get)?, Unsubscribed::ConfirmationNeeded { .. }));
    /// let post = Click::Post { body: "List-Unsubscribe=One-Click" };
    /// assert!(matches!(store.unsubscribe(&keys, &token, post)?, Unsubscribed::Recorded { .. }));
    /// assert!(matches!(store.unsubscribe(&keys, &token, post)?, Unsubscribed::AlreadyOptedOut { .. }));
    /// # Ok(())
    /// # }
    /// ```
    pub fn unsubscribe(
        &self,
        keys: &UnsubscribeKeys,
        token: &str,
        click: Click<'_>,
    ) -> Result<Unsubscribed, UnsubscribeError> {
        let now = self.time(&Edit::new());
        self.unsubscribe_at(keys, token, click, now)
    }

    /// Handles a click at time `now`: verifies the token, and for a one-click
    /// POST or a confirmation records the opt-out with source
    /// [`Source::WebForm`] — account-wide, from the token's list — and
    /// returns the confirmation and the event. A second click changes
    /// nothing. A GET never changes anything.
    ///
    /// # Errors
    ///
    /// [`UnsubscribeError::Rejected`] with the [`TokenRejected`] reason, or
    /// [`UnsubscribeError::NotRecorded`] when the link is good but the
    /// opt-out could not be recorded; nothing changes either way.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Click, Store, Timestamp, TokenRejected, UnsubscribeKeys};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let keys = UnsubscribeKeys::new(1, &[42; 32])?;
    /// let bad = store.unsubscribe_at(&keys, "nope", Click::Confirm, Timestamp::EPOCH);
    /// assert_eq!(bad.unwrap_err().rejected(), Some(TokenRejected::Malformed));
    /// # Ok(())
    /// # }
    /// ```
    pub fn unsubscribe_at(
        &self,
        keys: &UnsubscribeKeys,
        token: &str,
        click: Click<'_>,
        now: Timestamp,
    ) -> Result<Unsubscribed, UnsubscribeError> {
        self.unsubscribe_with(keys, token, click, now, &|a, e| self.opt_out(a, e))
    }

    /// The click handling, recording through `record` (the store's own
    /// opt-out, or a journaled one).
    pub(crate) fn unsubscribe_with(
        &self,
        keys: &UnsubscribeKeys,
        token: &str,
        click: Click<'_>,
        now: Timestamp,
        record: &Record<'_>,
    ) -> Result<Unsubscribed, UnsubscribeError> {
        let parsed = keys.verify(token, now)?;
        let address = self
            .address_of(parsed.address)
            .ok_or(TokenRejected::UnknownRecipient)?;
        self.list(parsed.list)
            .ok_or(TokenRejected::UnknownRecipient)?;
        match click {
            Click::Get => return Ok(Unsubscribed::ConfirmationNeeded { token: parsed }),
            Click::Post { body } if !body.split('&').any(|p| p.trim() == ONE_CLICK_BODY) => {
                return Err(TokenRejected::NotOneClick.into());
            }
            Click::Post { .. } | Click::Confirm => {}
        }
        let mut edit = Edit::new()
            .list(parsed.list)
            .source(Source::WebForm)
            .at(now);
        if let Some(c) = parsed.channel {
            // Recorded account-wide all the same: web-form opt-outs are.
            edit = edit.scope(Scope::Channel(c));
        }
        self.record_web_form(&address, &edit, record)
            .map_err(UnsubscribeError::NotRecorded)
    }

    /// A token for a recipient of this store: interns an email address so
    /// that its id is stable.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownList`], [`Error::EmailTableFull`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = optout::Store::new();
    /// let a = optout::Normalizer::default().address("ann@example.com")?;
    /// let t = store.unsubscribe_token(&a, optout::ListId::SYSTEM)?;
    /// assert!(t.address.is_email());
    /// # Ok(())
    /// # }
    /// ```
    pub fn unsubscribe_token(
        &self,
        address: &Address,
        list: ListId,
    ) -> Result<UnsubscribeToken, Error> {
        let mut state = self.write();
        state.slot(list)?;
        let id = state
            .id_of(address, true)?
            .ok_or(Error::UnknownList(list))?;
        Ok(UnsubscribeToken::new(id, list))
    }

    /// A web-form opt-out by typed-in address (no token): normalized, then
    /// recorded account-wide on `list` with source [`Source::WebForm`].
    ///
    /// # Errors
    ///
    /// `Ok(Err(invalid))` for an address that cannot be normalized;
    /// `Err` for a store error (an unknown list).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{ListId, Normalizer, Region, Store, Unsubscribed};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let n = Normalizer::new(Region::new("US")?);
    /// let done = store.web_form_opt_out(&n, "(415) 555-0123", ListId::SYSTEM)?;
    /// assert!(matches!(done, Ok(Unsubscribed::Recorded { .. })));
    /// assert!(store.web_form_opt_out(&n, "nope", ListId::SYSTEM)?.is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn web_form_opt_out(
        &self,
        normalizer: &Normalizer,
        input: &str,
        list: ListId,
    ) -> Result<Result<Unsubscribed, Invalid>, Error> {
        self.web_form_with(normalizer, input, list, &|a, e| self.opt_out(a, e))
    }

    pub(crate) fn web_form_with(
        &self,
        normalizer: &Normalizer,
        input: &str,
        list: ListId,
        record: &Record<'_>,
    ) -> Result<Result<Unsubscribed, Invalid>, Error> {
        let address = match normalizer.address(input) {
            Ok(a) => a,
            Err(invalid) => return Ok(Err(invalid)),
        };
        let edit = Edit::new().list(list).source(Source::WebForm);
        let edit = edit.clone().at(self.time(&edit));
        self.record_web_form(&address, &edit, record).map(Ok)
    }

    fn record_web_form(
        &self,
        address: &Address,
        edit: &Edit,
        record: &Record<'_>,
    ) -> Result<Unsubscribed, Error> {
        let list = edit.lists().first().copied().unwrap_or(ListId::SYSTEM);
        let reply = self
            .list(list)
            .and_then(|l| l.settings().confirmation_text().map(str::to_owned))
            .unwrap_or_else(|| Language::English.opt_out_reply().to_owned());
        let changes = record(address, edit)?;
        Ok(match changes.first() {
            Some(change) => Unsubscribed::Recorded {
                reply,
                event: self.event(change),
            },
            None => Unsubscribed::AlreadyOptedOut { reply },
        })
    }

    fn address_of(&self, id: AddressId) -> Option<Address> {
        match Phone::from_id(id) {
            Some(p) => Some(Address::Phone(p)),
            None => self.email(id).map(Address::Email),
        }
    }
}
