//! One-click unsubscribe links (RFC 2369 / RFC 8058) and web-form
//! opt-outs: signed tokens bound to the person, the link and headers to
//! put in a message, and the handling of the click. The crate does no
//! HTTP; a web handler passes in what it received.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::address::{Address, AddressId, Email, Invalid, Normalizer, Phone};
use crate::error::{Error, ErrorKind};
use crate::model::{Channel, ListId, Scope, Source, Timestamp};
use crate::store::{Edit, Event, Op, Store};

/// Token layout version.
const VERSION: u8 = 2;
/// Bytes of HMAC-SHA256 kept in a token: 128 bits.
const TAG: usize = 16;
/// Bytes of the keyed digest that binds an email token to its address.
const DIGEST: usize = 12;
/// Bytes of the keyed digest that binds a token to its list's name.
const LIST_DIGEST: usize = 4;
/// Longest token accepted, in characters, before any decoding.
const MAX_TOKEN_CHARS: usize = 640;
/// The RFC 8058 one-click POST body.
pub const ONE_CLICK_BODY: &str = "List-Unsubscribe=One-Click";
/// Days a link stays honoured after it is sent, whatever expiry it
/// carries: CAN-SPAM requires the opt-out mechanism to keep working "for
/// no less than 30 days after the transmission of the original message"
/// (15 U.S.C. 7704(a)(3)(A)(ii)).
pub const MIN_HONOURED_DAYS: i64 = 30;

/// What an unsubscribe token says: who, from which list, on which channel,
/// when it was issued and until when it is honoured.
///
/// A token is made by [`Store::unsubscribe_token`] and names the address
/// itself: a phone by its E.164 digits (so a phone token shows the number
/// to whoever holds it), an email by its index in the issuing store plus
/// a keyed digest of the address. A store that finds another address at
/// that index (after an export and re-import, or another store sharing
/// the keys) looks the address up by its digest, and refuses the link if
/// it holds no such address — an old link opts out the same person or
/// nobody, never someone else.
///
/// # Example
///
/// ```
/// use optout::{Normalizer, Store};
/// use optout::model::{ListId, Timestamp};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Store::builder().clock(|| Timestamp::from_unix_secs(1_700_000_000)).build()?;
/// let ann = Normalizer::default().address("ann@example.com")?;
/// let token = store.unsubscribe_token(&ann, ListId::SYSTEM)?
///     .expires(Timestamp::from_unix_secs(2_000_000_000));
/// assert!(token.address().is_email());
/// assert_eq!(token.issued(), Timestamp::from_unix_secs(1_700_000_000));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UnsubscribeToken {
    address: AddressId,
    /// The address, when the token was made by a store (to sign).
    email: Option<Email>,
    /// The keyed digest, when the token was read from a link.
    digest: Option<[u8; DIGEST]>,
    list: ListId,
    /// The list's name as compared for uniqueness, when a store made the
    /// token (to sign); else the keyed digest of it read from the link.
    list_name: Option<String>,
    list_digest: Option<[u8; LIST_DIGEST]>,
    channel: Option<Channel>,
    issued: Timestamp,
    expires: Option<Timestamp>,
    key_id: u8,
}

impl UnsubscribeToken {
    /// Sets the channel the message came from (recorded in the token; the
    /// opt-out itself is account-wide, as web-form opt-outs are).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::model::{Channel, ListId};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let a = Normalizer::default().address("ann@example.com")?;
    /// let news = Channel::new("news@example.com")?;
    /// let t = store.unsubscribe_token(&a, ListId::SYSTEM)?.channel(news.clone());
    /// assert_eq!(t.channel_name(), Some(&news));
    /// # Ok(())
    /// # }
    /// ```
    pub fn channel(mut self, channel: Channel) -> UnsubscribeToken {
        self.channel = Some(channel);
        self
    }

    /// Sets the expiry. A link is honoured for at least
    /// [`MIN_HONOURED_DAYS`] after it was issued, whatever its expiry.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::model::{ListId, Timestamp};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let a = Normalizer::default().address("+14155550123")?;
    /// let t = store.unsubscribe_token(&a, ListId::SYSTEM)?.expires(Timestamp::EPOCH);
    /// assert_eq!(t.expiry(), Some(Timestamp::EPOCH));
    /// # Ok(())
    /// # }
    /// ```
    pub fn expires(mut self, at: Timestamp) -> UnsubscribeToken {
        self.expires = Some(at);
        self
    }

    /// The recipient's id: a phone's digits, or an email's index in the
    /// store that issued the token.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = optout::Store::new();
    /// let a = optout::Normalizer::default().address("+14155550123")?;
    /// let t = store.unsubscribe_token(&a, optout::model::ListId::SYSTEM)?;
    /// assert_eq!(t.address().get(), 14155550123);
    /// # Ok(())
    /// # }
    /// ```
    pub fn address(&self) -> AddressId {
        self.address
    }

    /// The list to leave (the system list for a general unsubscribe).
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = optout::Store::new();
    /// let a = optout::Normalizer::default().address("+14155550123")?;
    /// assert_eq!(store.unsubscribe_token(&a, optout::model::ListId::SYSTEM)?.list(), optout::model::ListId::SYSTEM);
    /// # Ok(())
    /// # }
    /// ```
    pub fn list(&self) -> ListId {
        self.list
    }

    /// The channel the message came from, if the token names one.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = optout::Store::new();
    /// let a = optout::Normalizer::default().address("+14155550123")?;
    /// assert_eq!(store.unsubscribe_token(&a, optout::model::ListId::SYSTEM)?.channel_name(), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn channel_name(&self) -> Option<&Channel> {
        self.channel.as_ref()
    }

    /// When the token was issued.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = optout::Store::new();
    /// let a = optout::Normalizer::default().address("+14155550123")?;
    /// assert!(store.unsubscribe_token(&a, optout::model::ListId::SYSTEM)?.issued() > optout::model::Timestamp::EPOCH);
    /// # Ok(())
    /// # }
    /// ```
    pub fn issued(&self) -> Timestamp {
        self.issued
    }

    /// The expiry the sender set, if any.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = optout::Store::new();
    /// let a = optout::Normalizer::default().address("+14155550123")?;
    /// assert_eq!(store.unsubscribe_token(&a, optout::model::ListId::SYSTEM)?.expiry(), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn expiry(&self) -> Option<Timestamp> {
        self.expires
    }

    /// The last moment the link is honoured: its expiry, but never less
    /// than [`MIN_HONOURED_DAYS`] after it was issued; `None` for no
    /// expiry.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::model::{ListId, Timestamp};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::builder().clock(|| Timestamp::from_unix_secs(0)).build()?;
    /// let a = Normalizer::default().address("+14155550123")?;
    /// let t = store.unsubscribe_token(&a, ListId::SYSTEM)?.expires(Timestamp::from_unix_secs(60));
    /// assert_eq!(t.honoured_until(), Some(Timestamp::EPOCH.add_days(30)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn honoured_until(&self) -> Option<Timestamp> {
        self.expires
            .map(|e| e.max(self.issued.add_days(MIN_HONOURED_DAYS)))
    }

    fn encode(&self, key_id: u8, keys: &UnsubscribeKeys) -> Vec<u8> {
        let mut out = Vec::with_capacity(48);
        out.push(VERSION);
        out.push(key_id);
        let email = self.address.is_email();
        let flags = u8::from(self.channel.is_some())
            | u8::from(self.expires.is_some()) << 1
            | u8::from(email) << 2;
        out.push(flags);
        out.extend_from_slice(&self.issued.unix_millis().to_le_bytes());
        match self.address.email_index() {
            Some(index) => {
                out.extend_from_slice(&index.to_le_bytes());
                let digest = match &self.email {
                    Some(e) => keys.digest(key_id, e.as_str()).unwrap_or_default(),
                    None => self.digest.unwrap_or_default(),
                };
                out.extend_from_slice(&digest);
            }
            None => out.extend_from_slice(&self.address.get().to_le_bytes()),
        }
        out.extend_from_slice(&self.list.get().to_le_bytes());
        let list_digest = match &self.list_name {
            Some(name) => keys
                .tagged_digest::<LIST_DIGEST>(key_id, b"optout list\0", name)
                .unwrap_or_default(),
            None => self.list_digest.unwrap_or_default(),
        };
        out.extend_from_slice(&list_digest);
        if let Some(c) = &self.channel {
            let name = c.as_str().as_bytes();
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(name);
        }
        if let Some(t) = self.expires {
            out.extend_from_slice(&t.unix_millis().to_le_bytes());
        }
        out
    }

    fn decode(body: &[u8]) -> Result<UnsubscribeToken, TokenRejected> {
        let mut r = body;
        let mut take = |n: usize| -> Result<&[u8], TokenRejected> {
            let (head, tail) = r.split_at_checked(n).ok_or(TokenRejected::Malformed)?;
            r = tail;
            Ok(head)
        };
        fn arr<const N: usize>(b: &[u8]) -> Result<[u8; N], TokenRejected> {
            b.try_into().map_err(|_| TokenRejected::Malformed)
        }
        let [version] = arr::<1>(take(1)?)?;
        if version != VERSION {
            return Err(TokenRejected::Malformed);
        }
        let [key_id] = arr::<1>(take(1)?)?;
        let [flags] = arr::<1>(take(1)?)?;
        if flags > 7 {
            return Err(TokenRejected::Malformed);
        }
        let issued = Timestamp::from_unix_millis(i64::from_le_bytes(arr(take(8)?)?));
        let (address, digest) = if flags & 4 != 0 {
            let index = u32::from_le_bytes(arr(take(4)?)?);
            let digest: [u8; DIGEST] = arr(take(DIGEST)?)?;
            (AddressId::from_email_index(index), Some(digest))
        } else {
            let id = AddressId::from_phone_digits(u64::from_le_bytes(arr(take(8)?)?))
                .ok_or(TokenRejected::Malformed)?;
            (id, None)
        };
        let list = ListId::new(u32::from_le_bytes(arr(take(4)?)?));
        let list_digest: [u8; LIST_DIGEST] = arr(take(LIST_DIGEST)?)?;
        let channel = if flags & 1 != 0 {
            let n = u16::from_le_bytes(arr(take(2)?)?);
            let name =
                std::str::from_utf8(take(usize::from(n))?).map_err(|_| TokenRejected::Malformed)?;
            Some(Channel::new(name).map_err(|_| TokenRejected::Malformed)?)
        } else {
            None
        };
        let expires = if flags & 2 != 0 {
            Some(Timestamp::from_unix_millis(i64::from_le_bytes(arr(take(
                8,
            )?)?)))
        } else {
            None
        };
        if !r.is_empty() {
            return Err(TokenRejected::Malformed);
        }
        Ok(UnsubscribeToken {
            address,
            email: None,
            digest,
            list,
            list_name: None,
            list_digest: Some(list_digest),
            channel,
            issued,
            expires,
            key_id,
        })
    }
}

/// Why a token or an unsubscribe request was refused.
///
/// # Example
///
/// ```
/// use optout::unsubscribe::{TokenRejected, UnsubscribeKeys};
///
/// let keys = UnsubscribeKeys::new(1, b"a secret of at least 32 bytes!!!")?;
/// assert_eq!(keys.verify("garbage", optout::model::Timestamp::EPOCH).map(drop), Err(TokenRejected::Malformed));
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
    /// The token names an email address this store cannot find (the link
    /// came from a store that no longer holds the address, or from
    /// another store): refused rather than risk opting out someone else.
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
            TokenRejected::UnknownRecipient => "token names a recipient this store cannot find",
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
/// use optout::Store;
/// use optout::model::Timestamp;
/// use optout::unsubscribe::{Click, TokenRejected, UnsubscribeError, UnsubscribeKeys};
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
    /// The link is good but the opt-out could not be recorded (a log write
    /// failed, the email table is full); nothing changed. Answer
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
    /// use optout::unsubscribe::{TokenRejected, UnsubscribeError};
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
/// one, keep accepting the old one until its tokens are no longer
/// honoured.
///
/// # Example
///
/// ```
/// use optout::{Normalizer, Store};
/// use optout::model::{ListId, Timestamp};
/// use optout::unsubscribe::UnsubscribeKeys;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Store::new();
/// let ann = Normalizer::default().address("ann@example.com")?;
/// let old = UnsubscribeKeys::new(1, b"the old secret, 32 bytes or more")?;
/// let link = old.sign(&store.unsubscribe_token(&ann, ListId::SYSTEM)?);
/// let rotated = UnsubscribeKeys::new(2, b"the new secret, 32 bytes or more")?
///     .accept(1, b"the old secret, 32 bytes or more")?;
/// assert!(rotated.verify(&link, Timestamp::EPOCH).is_ok());
/// assert!(UnsubscribeKeys::new(2, &[7; 32])?.accept(2, &[9; 32]).is_err()); // the signing key's id
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
    /// [`ErrorKind::WeakSecret`] for a secret shorter than 32 bytes.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(optout::unsubscribe::UnsubscribeKeys::new(1, b"short").is_err());
    /// ```
    pub fn new(key_id: u8, secret: &[u8]) -> Result<UnsubscribeKeys, Error> {
        Ok(UnsubscribeKeys {
            signing: key_id,
            keys: vec![(key_id, mac(secret)?)],
        })
    }

    /// Also accepts tokens signed with `secret` under id `key_id` (an older
    /// key, during a rotation). Accepting an id again replaces its secret.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::WeakSecret`] for a secret shorter than 32 bytes;
    /// [`ErrorKind::SigningKeyId`] for the signing key's own id, whose
    /// secret this must never replace.
    ///
    /// # Example
    ///
    /// ```
    /// let keys = optout::unsubscribe::UnsubscribeKeys::new(2, &[7; 32])?.accept(1, &[9; 32])?;
    /// # Ok::<(), optout::Error>(())
    /// ```
    pub fn accept(mut self, key_id: u8, secret: &[u8]) -> Result<UnsubscribeKeys, Error> {
        if key_id == self.signing {
            return Err(ErrorKind::SigningKeyId(key_id).into());
        }
        let mac = mac(secret)?;
        self.keys.retain(|(id, _)| *id != key_id);
        self.keys.push((key_id, mac));
        Ok(self)
    }

    fn key(&self, key_id: u8) -> Option<&Hmac<Sha256>> {
        self.keys
            .iter()
            .find(|(id, _)| *id == key_id)
            .map(|(_, mac)| mac)
    }

    /// The keyed digest that binds an email token to its address.
    fn digest(&self, key_id: u8, canonical: &str) -> Option<[u8; DIGEST]> {
        self.tagged_digest::<DIGEST>(key_id, b"optout email\0", canonical)
    }

    /// A keyed digest of `text`, domain-separated by `tag`.
    fn tagged_digest<const N: usize>(&self, key_id: u8, tag: &[u8], text: &str) -> Option<[u8; N]> {
        let mut mac = self.key(key_id)?.clone();
        mac.update(tag);
        mac.update(text.as_bytes());
        let full = mac.finalize().into_bytes();
        full.get(..N)?.try_into().ok()
    }

    /// Signs a token: a compact, URL-safe string.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::model::ListId;
    /// use optout::unsubscribe::UnsubscribeKeys;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let keys = UnsubscribeKeys::new(1, &[42; 32])?;
    /// let a = Normalizer::default().address("ann@example.com")?;
    /// let text = keys.sign(&Store::new().unsubscribe_token(&a, ListId::SYSTEM)?);
    /// assert!(text.len() <= 72);
    /// assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    /// # Ok(())
    /// # }
    /// ```
    pub fn sign(&self, token: &UnsubscribeToken) -> String {
        let mut bytes = token.encode(self.signing, self);
        let tag = self
            .key(self.signing)
            .map(|mac| {
                let mut mac = mac.clone();
                mac.update(&bytes);
                mac.finalize().into_bytes()
            })
            .unwrap_or_default();
        bytes.extend_from_slice(tag.get(..TAG).unwrap_or(&[]));
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Verifies a token string at time `now`. The signature comparison is
    /// constant-time. A token is honoured until its expiry, but never less
    /// than [`MIN_HONOURED_DAYS`] after it was issued.
    ///
    /// # Errors
    ///
    /// The [`TokenRejected`] reason.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::model::{ListId, Timestamp};
    /// use optout::unsubscribe::{TokenRejected, UnsubscribeKeys};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let keys = UnsubscribeKeys::new(1, &[42; 32])?;
    /// let store = Store::builder().clock(|| Timestamp::EPOCH).build()?;
    /// let a = Normalizer::default().address("+14155550123")?;
    /// let token = store.unsubscribe_token(&a, ListId::SYSTEM)?.expires(Timestamp::from_unix_secs(100));
    /// let text = keys.sign(&token);
    /// let day = |d: i64| Timestamp::EPOCH.add_days(d);
    /// assert!(keys.verify(&text, day(29)).is_ok()); // honoured for 30 days all the same
    /// assert_eq!(keys.verify(&text, day(31)).map(drop), Err(TokenRejected::Expired));
    /// # Ok(())
    /// # }
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
        let parsed = UnsubscribeToken::decode(body)?;
        let mut mac = self
            .key(parsed.key_id)
            .ok_or(TokenRejected::UnknownKey)?
            .clone();
        mac.update(body);
        mac.verify_truncated_left(tag)
            .map_err(|_| TokenRejected::BadSignature)?;
        if parsed.honoured_until().is_some_and(|until| now > until) {
            return Err(TokenRejected::Expired);
        }
        Ok(parsed)
    }
}

fn mac(secret: &[u8]) -> Result<Hmac<Sha256>, Error> {
    let weak = || -> Error {
        ErrorKind::WeakSecret {
            bytes: secret.len(),
            minimum: MIN_SECRET_BYTES,
        }
        .into()
    };
    if secret.len() < MIN_SECRET_BYTES {
        return Err(weak());
    }
    Hmac::<Sha256>::new_from_slice(secret).map_err(|_| weak())
}

/// The `List-Unsubscribe` and `List-Unsubscribe-Post` header values for a
/// message (RFC 2369, RFC 8058).
///
/// # Example
///
/// ```
/// use optout::unsubscribe::unsubscribe_headers;
///
/// let h = unsubscribe_headers("https://example.com/u", "TOKEN", Some("unsubscribe@example.com"))?;
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
/// [`ErrorKind::InvalidUrl`] if `base` is not an http or https URL.
///
/// # Example
///
/// ```
/// let url = optout::unsubscribe::unsubscribe_url("https://example.com/unsub?lang=en", "abc")?;
/// assert_eq!(url, "https://example.com/unsub?lang=en&token=abc");
/// # Ok::<(), optout::Error>(())
/// ```
pub fn unsubscribe_url(base: &str, token: &str) -> Result<String, Error> {
    let invalid = |reason: String| -> Error {
        ErrorKind::InvalidUrl {
            url: base.to_owned(),
            reason,
        }
        .into()
    };
    let mut url = url::Url::parse(base).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid("must be an http or https URL".into()));
    }
    url.query_pairs_mut().append_pair("token", token);
    Ok(url.into())
}

/// The headers for a message: the link made from `base` and `token`, an
/// optional mailto address, and the one-click POST marker.
///
/// # Errors
///
/// [`ErrorKind::InvalidUrl`] for a bad `base`.
///
/// # Example
///
/// ```
/// let h = optout::unsubscribe::unsubscribe_headers("https://example.com/u", "abc", None)?;
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

/// `true` if a POST body carries `List-Unsubscribe=One-Click`, as
/// `application/x-www-form-urlencoded` or as `multipart/form-data`
/// (RFC 7578: a part named `List-Unsubscribe` whose value is `One-Click`).
fn is_one_click(body: &str) -> bool {
    if body.split('&').any(|p| p.trim() == ONE_CLICK_BODY) {
        return true;
    }
    let mut lines = body.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("content-disposition:")
            && lower.contains("form-data")
            && lower.split(';').any(|p| {
                p.trim() == "name=\"list-unsubscribe\"" || p.trim() == "name=list-unsubscribe"
            })
        {
            // The part's other headers, a blank line, then its value.
            let value = lines
                .by_ref()
                .skip_while(|l| !l.is_empty())
                .find(|l| !l.is_empty());
            if value == Some("One-Click") {
                return true;
            }
        }
    }
    false
}

/// What a web handler received for an unsubscribe link.
///
/// # Example
///
/// ```
/// use optout::unsubscribe::Click;
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
        /// The request body, which must carry the field
        /// `List-Unsubscribe=One-Click`, form-urlencoded or as a
        /// `multipart/form-data` part (mail providers send either).
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
/// use optout::unsubscribe::Unsubscribed;
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
    /// As [`Store::unsubscribe_at`].
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::model::ListId;
    /// use optout::unsubscribe::{Click, UnsubscribeKeys, Unsubscribed};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let keys = UnsubscribeKeys::new(1, &[42; 32])?;
    /// let ann = Normalizer::default().address("ann@example.com")?;
    /// let token = keys.sign(&store.unsubscribe_token(&ann, ListId::SYSTEM)?);
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
        self.unsubscribe_at(keys, token, click, self.now())
    }

    /// Handles a click at time `now`: verifies the token, finds the person
    /// it names, and for a one-click POST or a confirmation records the
    /// opt-out with source [`Source::WebForm`] — account-wide, from the
    /// token's list, or from the system list if that list was deleted —
    /// and returns the confirmation and the event. A second click changes
    /// nothing. A GET never changes anything.
    ///
    /// # Errors
    ///
    /// [`UnsubscribeError::Rejected`] with the [`TokenRejected`] reason
    /// (including [`TokenRejected::UnknownRecipient`] when this store
    /// holds no address the token could name), or
    /// [`UnsubscribeError::NotRecorded`] when the link is good but the
    /// opt-out could not be recorded; nothing changes either way.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Store;
    /// use optout::model::Timestamp;
    /// use optout::unsubscribe::{Click, TokenRejected, UnsubscribeKeys};
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
        let parsed = keys.verify(token, now)?;
        self.refresh().map_err(UnsubscribeError::NotRecorded)?;
        let address = self.recipient(keys, &parsed)?;
        match click {
            Click::Get => return Ok(Unsubscribed::ConfirmationNeeded { token: parsed }),
            Click::Post { body } if !is_one_click(body) => {
                return Err(TokenRejected::NotOneClick.into());
            }
            Click::Post { .. } | Click::Confirm => {}
        }
        // An authentic link for a list deleted since: the person still asked
        // to stop, so the system list records it.
        let list = self.token_list(keys, &parsed);
        let mut edit = Edit::new().list(list).source(Source::WebForm).at(now);
        if let Some(c) = &parsed.channel {
            // Recorded account-wide all the same: web-form opt-outs are.
            edit = edit.scope(Scope::Channel(c.clone()));
        }
        self.record_web_form(&address, &edit)
            .map_err(UnsubscribeError::NotRecorded)
    }

    /// The person a verified token names in this store.
    fn recipient(
        &self,
        keys: &UnsubscribeKeys,
        token: &UnsubscribeToken,
    ) -> Result<Address, TokenRejected> {
        if let Some(p) = Phone::from_id(token.address) {
            return Ok(Address::Phone(p));
        }
        let digest = token.digest.ok_or(TokenRejected::Malformed)?;
        let matches = |e: &Email| keys.digest(token.key_id, e.as_str()) == Some(digest);
        // A copy of the table's handle: the search below holds no lock.
        let emails = self.email_table();
        if let Some(e) = emails.email(token.address)
            && matches(e)
        {
            return Ok(Address::Email(e.clone()));
        }
        // The index names someone else here (or no one): find the address
        // by its digest, or refuse.
        emails
            .iter()
            .find(|e| matches(e))
            .cloned()
            .map(Address::Email)
            .ok_or(TokenRejected::UnknownRecipient)
    }

    /// The list a verified token names here: the list with its id and
    /// name, else the list with its name (ids differ between stores),
    /// else — the list was deleted or renamed since — the system list: the
    /// person still asked to stop.
    fn token_list(&self, keys: &UnsubscribeKeys, token: &UnsubscribeToken) -> ListId {
        let Some(digest) = token.list_digest else {
            return ListId::SYSTEM;
        };
        let named = |list: &crate::store::List| {
            keys.tagged_digest::<LIST_DIGEST>(
                token.key_id,
                b"optout list\0",
                &list.settings().name_key(),
            ) == Some(digest)
        };
        if let Some(list) = self.list(token.list)
            && named(&list)
        {
            return list.id();
        }
        self.lists()
            .iter()
            .find(|l| named(l))
            .map_or(ListId::SYSTEM, |l| l.id())
    }

    /// A token for a recipient of this store, issued now. An email address
    /// is given an id (a logged change) if it has none yet, so that the
    /// store can find it when the link is clicked.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownList`], [`ErrorKind::EmailTableFull`], or what
    /// the log reports.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = optout::Store::new();
    /// let a = optout::Normalizer::default().address("ann@example.com")?;
    /// let t = store.unsubscribe_token(&a, optout::model::ListId::SYSTEM)?;
    /// assert!(t.address().is_email());
    /// # Ok(())
    /// # }
    /// ```
    pub fn unsubscribe_token(
        &self,
        address: &Address,
        list: ListId,
    ) -> Result<UnsubscribeToken, Error> {
        let issued = self.now();
        let (email, _) = self.commit(|view| {
            if view.list(list).is_none() {
                return Err(ErrorKind::UnknownList(list).into());
            }
            let Address::Email(e) = address else {
                return Ok((None, None));
            };
            let key = e.under(view.policy().email_aliases());
            let op = view
                .lookup(address)
                .is_none()
                .then(|| Op::Intern(vec![key.clone()]));
            Ok((op, Some(key)))
        })?;
        let id = match &email {
            Some(e) => self
                .id(&Address::Email(e.clone()))
                .ok_or_else(|| Error::corrupt("log", 0, "an interned email has no id"))?,
            None => address
                .phone_id()
                .ok_or_else(|| Error::corrupt("log", 0, "an address without an id"))?,
        };
        let list_name = self
            .list(list)
            .map(|l| l.settings().name_key())
            .ok_or(ErrorKind::UnknownList(list))?;
        Ok(UnsubscribeToken {
            address: id,
            email,
            digest: None,
            list,
            list_name: Some(list_name),
            list_digest: None,
            channel: None,
            issued,
            expires: None,
            key_id: 0,
        })
    }

    /// A web-form opt-out by typed-in address (no token): normalized with
    /// the store's recording policy (see
    /// [`Policy`](crate::store::Policy)), then recorded account-wide on
    /// `list` with source [`Source::WebForm`].
    ///
    /// # Errors
    ///
    /// `Ok(Err(invalid))` for an address that cannot be normalized;
    /// `Err` for a store error (an unknown list, a failed log write).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::address::Region;
    /// use optout::model::ListId;
    /// use optout::unsubscribe::Unsubscribed;
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
        let policy = self.policy();
        let normalizer = normalizer.with_policy(policy.recording(), policy.email_aliases());
        let address = match normalizer.address(input) {
            Ok(a) => a,
            Err(invalid) => return Ok(Err(invalid)),
        };
        let edit = Edit::new()
            .list(list)
            .source(Source::WebForm)
            .at(self.now());
        self.record_web_form(&address, &edit).map(Ok)
    }

    fn record_web_form(&self, address: &Address, edit: &Edit) -> Result<Unsubscribed, Error> {
        let list = edit.lists().first().copied().unwrap_or(ListId::SYSTEM);
        let reply = self
            .list(list)
            .and_then(|l| l.settings().confirmation_text().map(str::to_owned))
            .unwrap_or_else(|| crate::keyword::Language::English.opt_out_reply().to_owned());
        let changes = self.opt_out(address, edit)?;
        Ok(match changes.first() {
            Some(change) => Unsubscribed::Recorded {
                reply,
                event: self.event(change),
            },
            None => Unsubscribed::AlreadyOptedOut { reply },
        })
    }
}
