//! One-click unsubscribe links (RFC 2369 / RFC 8058) and web-form
//! opt-outs: tokens that carry the person's address, encrypted and
//! authenticated; the link and headers to put in a message; and the
//! handling of the click. The crate does no HTTP; a web handler passes in
//! what it received.
//!
//! # Tokens
//!
//! A token (layout version 3) is the URL-safe base64 of
//!
//! ```text
//! version (3) | key id | issued (ms, i64 LE) | AES-256-GCM-SIV ciphertext | tag (16)
//! ```
//!
//! The clear header (10 bytes) is the associated data, so the AEAD tag
//! authenticates every byte. The ciphertext holds the list id, a keyed
//! digest of the list's name, the channel and expiry when set, and the
//! recipient's address: a phone's E.164 digits, or an email address as it
//! was before alias folding (the store that honours the click folds it by
//! its own policy). Without the key only the clear header can be read
//! (and the token's length, which follows the address's and channel's
//! lengths), and a click needs no table: any store holding the keys records the opt-out
//! for the person the link was made for, never another — after an export
//! and import into a new store too. Minting writes nothing.
//!
//! The AEAD is AES-256-GCM-SIV (RFC 8452) because it resists nonce misuse:
//! the nonce is the clear header, so a token needs no random number
//! generator and no nonce bytes of its own, and two tokens that share an
//! issue time to the millisecond reveal only whether they are identical.
//! Its key is HMAC-SHA256 of a fixed label under each secret of
//! [`UnsubscribeKeys`], so key ids and rotation work as they did.
//!
//! Version-2 tokens (an email's index in the issuing store and a keyed
//! digest of the address, signed with a truncated HMAC-SHA256) are still
//! verified and honoured exactly as before, so links already sent keep
//! working; they are no longer made.

use std::fmt;

use aes_gcm_siv::aead::{AeadInPlace, KeyInit};
use aes_gcm_siv::{Aes256GcmSiv, Nonce, Tag};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::address::{Address, AddressId, Email, Invalid, Normalizer, Phone};
use crate::error::{Error, ErrorKind};
use crate::model::{Channel, ListId, MAX_CHANNEL_CHARS, Scope, Source, Timestamp};
use crate::store::{Edit, Event, Store};

/// Token layout version made now.
const VERSION: u8 = 3;
/// The previous layout, still verified.
const VERSION_2: u8 = 2;
/// Bytes of authentication tag: the AEAD tag in version 3, the truncated
/// HMAC-SHA256 in version 2. 128 bits either way.
const TAG: usize = 16;
/// Bytes of the clear header of a version-3 token: version, key id,
/// issued time.
const HEADER: usize = 10;
/// Bytes of the keyed digest that binds a version-2 email token to its
/// address.
const DIGEST: usize = 12;
/// Bytes of the keyed digest that binds a token to its list's name.
const LIST_DIGEST: usize = 4;
/// Domain separation for the keyed list-name digest.
const LIST_LABEL: &[u8] = b"optout list\0";
/// Domain separation for the keyed email digest of version 2.
const EMAIL_LABEL: &[u8] = b"optout email\0";
/// The label whose HMAC under a secret is that secret's AEAD key.
const AEAD_LABEL: &[u8] = b"optout unsubscribe token v3 aes-256-gcm-siv key\0";
/// Flags: the token names a channel, an expiry, an email address.
const HAS_CHANNEL: u8 = 1;
const HAS_EXPIRY: u8 = 2;
const IS_EMAIL: u8 = 4;
/// Longest canonical email address, in bytes: a 64-character local part
/// that lower-casing may lengthen, an `@`, a 253-byte domain.
const MAX_EMAIL_BYTES: usize = 4 * 64 + 1 + 253;
/// Longest version-3 token, in bytes, with every field at its longest.
const MAX_TOKEN_BYTES: usize =
    HEADER + 1 + 4 + LIST_DIGEST + 2 + 4 * MAX_CHANNEL_CHARS + 8 + MAX_EMAIL_BYTES + TAG;
/// Longest token accepted, in characters, before any decoding: the
/// longest token this crate makes.
const MAX_TOKEN_CHARS: usize = MAX_TOKEN_BYTES.div_ceil(3) * 4;
/// The RFC 8058 one-click POST body.
pub const ONE_CLICK_BODY: &str = "List-Unsubscribe=One-Click";
/// Days a link stays honoured after it is sent, whatever expiry it
/// carries: CAN-SPAM requires the opt-out mechanism to keep working "for
/// no less than 30 days after the transmission of the original message"
/// (15 U.S.C. 7704(a)(3)(A)(ii)).
pub const MIN_HONOURED_DAYS: i64 = 30;

/// Who a token names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Recipient {
    /// The address itself: every version-3 token, a version-2 phone
    /// token, and a version-2 email token once a store found its address.
    Address(Address),
    /// A version-2 email token as read from a link: the address's index
    /// in the store that issued it, and a keyed digest of the address.
    Indexed { index: u32, digest: [u8; DIGEST] },
}

/// What an unsubscribe token says: who, from which list, on which channel,
/// when it was issued and until when it is honoured.
///
/// A token is made by [`Store::unsubscribe_token`], which writes nothing,
/// and carries the recipient's address itself: [`UnsubscribeKeys::sign`]
/// encrypts it, so the link does not show it, and any store holding the
/// keys honours the link for that person, whether or not it has seen the
/// address before. See the [module docs](self) for the layout.
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
/// assert_eq!(token.address(), Some(&ann));
/// assert_eq!(token.issued(), Timestamp::from_unix_secs(1_700_000_000));
/// assert_eq!(store.seq(), 0); // nothing was written
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UnsubscribeToken {
    recipient: Recipient,
    list: ListId,
    /// The list's name as compared for uniqueness, when a store made the
    /// token (to sign); else the keyed digest of it read from the link.
    list_name: Option<String>,
    list_digest: Option<[u8; LIST_DIGEST]>,
    channel: Option<Channel>,
    issued: Timestamp,
    expires: Option<Timestamp>,
    /// The key a token read from a link was made with (its digests are
    /// under that key).
    key_id: u8,
}

impl UnsubscribeToken {
    /// Sets the channel the message came from (carried in the token; the
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

    /// The recipient. An email address is given as it was before alias
    /// folding ([`Email::unfolded`]); the store that honours the click
    /// folds it by its own policy.
    ///
    /// `None` only for a version-2 email token just read from a link:
    /// such a token names its address by an index in the store that
    /// issued it, which [`Store::unsubscribe`] looks up (the token in
    /// [`Unsubscribed::ConfirmationNeeded`] names the address it found).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Address, Normalizer, Store};
    /// use optout::model::ListId;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let a = Normalizer::default().address("+14155550123")?;
    /// let t = store.unsubscribe_token(&a, ListId::SYSTEM)?;
    /// assert_eq!(t.address().and_then(Address::phone_id).map(|id| id.get()), Some(14155550123));
    /// # Ok(())
    /// # }
    /// ```
    pub fn address(&self) -> Option<&Address> {
        match &self.recipient {
            Recipient::Address(a) => Some(a),
            Recipient::Indexed { .. } => None,
        }
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

    /// The list-name digest under `key`.
    fn list_digest_under(&self, key: &Key) -> [u8; LIST_DIGEST] {
        match &self.list_name {
            Some(name) => key.tagged_digest(LIST_LABEL, name),
            // Read from a link: the digest it carried (under its own key).
            None => self.list_digest.unwrap_or_default(),
        }
    }

    /// The version-3 token under `key`: the clear header, the sealed
    /// fields and the tag.
    fn seal(&self, address: &Address, key: &Key) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + 64);
        out.push(VERSION);
        out.push(key.id);
        out.extend_from_slice(&self.issued.unix_millis().to_le_bytes());
        let digits;
        let (kind, who): (u8, &[u8]) = match address {
            Address::Email(e) => (IS_EMAIL, e.unfolded().as_bytes()),
            Address::Phone(p) => {
                digits = p.id().get().to_le_bytes();
                (0, &digits)
            }
        };
        let flags =
            kind | if self.channel.is_some() {
                HAS_CHANNEL
            } else {
                0
            } | if self.expires.is_some() {
                HAS_EXPIRY
            } else {
                0
            };
        out.push(flags);
        out.extend_from_slice(&self.list.get().to_le_bytes());
        out.extend_from_slice(&self.list_digest_under(key));
        if let Some(c) = &self.channel {
            put_str(&mut out, c.as_str());
        }
        if let Some(t) = self.expires {
            out.extend_from_slice(&t.unix_millis().to_le_bytes());
        }
        // The address last: its length is what is left.
        out.extend_from_slice(who);
        // Cannot panic: `out` holds the whole header and more.
        let (header, body) = out.split_at_mut(HEADER);
        // Encryption fails only for inputs of 2^36 bytes and more.
        if let Ok(tag) = key
            .aead
            .encrypt_in_place_detached(&nonce(header), header, body)
        {
            out.extend_from_slice(&tag);
        }
        out
    }

    /// Reads a version-3 token: checks the tag under the key it names,
    /// then the fields.
    fn open(keys: &UnsubscribeKeys, mut bytes: Vec<u8>) -> Result<UnsubscribeToken, TokenRejected> {
        let split = bytes
            .len()
            .checked_sub(TAG)
            .filter(|&n| n > HEADER)
            .ok_or(TokenRejected::Malformed)?;
        let tag: [u8; TAG] = bytes
            .get(split..)
            .and_then(|t| t.try_into().ok())
            .ok_or(TokenRejected::Malformed)?;
        bytes.truncate(split);
        let (header, body) = bytes
            .split_at_mut_checked(HEADER)
            .ok_or(TokenRejected::Malformed)?;
        let header: &[u8] = header;
        let [version, key_id, issued @ ..] = header else {
            return Err(TokenRejected::Malformed);
        };
        let (version, key_id) = (*version, *key_id);
        if version != VERSION {
            return Err(TokenRejected::Malformed);
        }
        let key = keys.key(key_id).ok_or(TokenRejected::UnknownKey)?;
        key.aead
            .decrypt_in_place_detached(&nonce(header), header, body, &Tag::from(tag))
            .map_err(|_| TokenRejected::BadSignature)?;
        let issued = Timestamp::from_unix_millis(i64::from_le_bytes(
            issued.try_into().map_err(|_| TokenRejected::Malformed)?,
        ));
        // Authentic from here on: what follows is read as this crate wrote
        // it, and checked all the same.
        let mut r = Reader(body);
        let flags = r.byte()?;
        if flags > HAS_CHANNEL | HAS_EXPIRY | IS_EMAIL {
            return Err(TokenRejected::Malformed);
        }
        let list = ListId::new(u32::from_le_bytes(r.array()?));
        let list_digest: [u8; LIST_DIGEST] = r.array()?;
        let channel = if flags & HAS_CHANNEL != 0 {
            Some(Channel::new(r.str()?).map_err(|_| TokenRejected::Malformed)?)
        } else {
            None
        };
        let expires = if flags & HAS_EXPIRY != 0 {
            Some(Timestamp::from_unix_millis(i64::from_le_bytes(r.array()?)))
        } else {
            None
        };
        let address = if flags & IS_EMAIL != 0 {
            let text = std::str::from_utf8(r.rest()).map_err(|_| TokenRejected::Malformed)?;
            // This crate sealed it, so no authentic request is refused: the
            // address in today's canonical form, or — one today's rules
            // refuse (stored by an older version, say) — as written, with
            // only the shape any stored email has.
            match Normalizer::default().email(text) {
                Ok(email) => Address::Email(email),
                Err(_) if crate::store::is_canonical_shape(text) => {
                    Address::Email(Email::from_canonical(text))
                }
                Err(_) => return Err(TokenRejected::Malformed),
            }
        } else {
            let digits = u64::from_le_bytes(r.array()?);
            r.end()?;
            AddressId::from_phone_digits(digits)
                .and_then(Phone::from_id)
                .map(Address::Phone)
                .ok_or(TokenRejected::Malformed)?
        };
        Ok(UnsubscribeToken {
            recipient: Recipient::Address(address),
            list,
            list_name: None,
            list_digest: Some(list_digest),
            channel,
            issued,
            expires,
            key_id,
        })
    }

    /// The version-2 body (without its signature) of a version-2 email
    /// token read from a link: the only layout that can name an address by
    /// index, used when such a token is signed again.
    fn encode_v2(&self, index: u32, digest: &[u8; DIGEST], key: &Key) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.push(VERSION_2);
        out.push(key.id);
        let flags =
            u8::from(self.channel.is_some()) | u8::from(self.expires.is_some()) << 1 | 1 << 2;
        out.push(flags);
        out.extend_from_slice(&self.issued.unix_millis().to_le_bytes());
        out.extend_from_slice(&index.to_le_bytes());
        out.extend_from_slice(digest);
        out.extend_from_slice(&self.list.get().to_le_bytes());
        out.extend_from_slice(&self.list_digest_under(key));
        if let Some(c) = &self.channel {
            put_str(&mut out, c.as_str());
        }
        if let Some(t) = self.expires {
            out.extend_from_slice(&t.unix_millis().to_le_bytes());
        }
        out
    }

    /// Reads a version-2 body (its signature already split off).
    fn decode_v2(body: &[u8]) -> Result<UnsubscribeToken, TokenRejected> {
        let mut r = Reader(body);
        if r.byte()? != VERSION_2 {
            return Err(TokenRejected::Malformed);
        }
        let key_id = r.byte()?;
        let flags = r.byte()?;
        if flags > 7 {
            return Err(TokenRejected::Malformed);
        }
        let issued = Timestamp::from_unix_millis(i64::from_le_bytes(r.array()?));
        let recipient = if flags & 4 != 0 {
            let index = u32::from_le_bytes(r.array()?);
            let digest: [u8; DIGEST] = r.array()?;
            Recipient::Indexed { index, digest }
        } else {
            let id = AddressId::from_phone_digits(u64::from_le_bytes(r.array()?))
                .and_then(Phone::from_id)
                .ok_or(TokenRejected::Malformed)?;
            Recipient::Address(Address::Phone(id))
        };
        let list = ListId::new(u32::from_le_bytes(r.array()?));
        let list_digest: [u8; LIST_DIGEST] = r.array()?;
        let channel = if flags & 1 != 0 {
            Some(Channel::new(r.str()?).map_err(|_| TokenRejected::Malformed)?)
        } else {
            None
        };
        let expires = if flags & 2 != 0 {
            Some(Timestamp::from_unix_millis(i64::from_le_bytes(r.array()?)))
        } else {
            None
        };
        r.end()?;
        Ok(UnsubscribeToken {
            recipient,
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

/// The nonce of a version-3 token: its clear header, zero-padded. Repeats
/// for tokens issued in the same millisecond under one key, which
/// AES-GCM-SIV tolerates (RFC 8452): it then shows only whether two tokens
/// are identical.
fn nonce(header: &[u8]) -> Nonce {
    let mut n = [0u8; 12];
    for (slot, b) in n.iter_mut().zip(header) {
        *slot = *b;
    }
    Nonce::from(n)
}

/// Appends a string with its length (u16 LE). Channel names are at most
/// 100 characters, so the length always fits.
fn put_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let n = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(bytes.get(..usize::from(n)).unwrap_or(bytes));
}

/// Reads a token's fields front to back; any shortfall is `Malformed`.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], TokenRejected> {
        let (head, tail) = self.0.split_at_checked(n).ok_or(TokenRejected::Malformed)?;
        self.0 = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], TokenRejected> {
        self.take(N)?
            .try_into()
            .map_err(|_| TokenRejected::Malformed)
    }

    fn byte(&mut self) -> Result<u8, TokenRejected> {
        let [b] = self.array::<1>()?;
        Ok(b)
    }

    fn str(&mut self) -> Result<&'a str, TokenRejected> {
        let n = u16::from_le_bytes(self.array()?);
        std::str::from_utf8(self.take(usize::from(n))?).map_err(|_| TokenRejected::Malformed)
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.0)
    }

    fn end(&self) -> Result<(), TokenRejected> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(TokenRejected::Malformed)
        }
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
    /// The authentication tag does not match: tampered, truncated or
    /// forged (or made under another secret with the same key id).
    BadSignature,
    /// Past its expiry.
    Expired,
    /// A POST whose body is not `List-Unsubscribe=One-Click`.
    NotOneClick,
    /// A version-2 email token whose address this store cannot find (the
    /// link came from a store that no longer holds the address, or from
    /// another store): refused rather than risk opting out someone else.
    /// Version-3 tokens carry the address and are never refused for this.
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

/// The keys that seal and verify unsubscribe tokens. Each has a one-byte
/// id written into the token, so a key can be rotated: sign with the new
/// one, keep accepting the old one until its tokens are no longer
/// honoured.
///
/// Each secret keys HMAC-SHA256 (the keyed list-name digest, and the
/// signature of version-2 tokens) and, through HMAC-SHA256 of a fixed
/// label, the AES-256-GCM-SIV key that encrypts and authenticates
/// version-3 tokens.
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
    signing: Key,
    /// Older keys still accepted; never the signing key's id.
    accepted: Vec<Key>,
}

/// One secret under its id, in the two forms tokens use.
#[derive(Clone)]
struct Key {
    id: u8,
    mac: Hmac<Sha256>,
    aead: Aes256GcmSiv,
}

impl Key {
    fn new(id: u8, secret: &[u8]) -> Result<Key, Error> {
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
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).map_err(|_| weak())?;
        // HMAC as a key derivation function: a 256-bit key of its own,
        // independent of every other use of the secret.
        let mut derive = mac.clone();
        derive.update(AEAD_LABEL);
        let aead = Aes256GcmSiv::new(&derive.finalize().into_bytes());
        Ok(Key { id, mac, aead })
    }

    /// A keyed digest of `text`, domain-separated by `label`.
    fn tagged_digest<const N: usize>(&self, label: &[u8], text: &str) -> [u8; N] {
        let mut mac = self.mac.clone();
        mac.update(label);
        mac.update(text.as_bytes());
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; N];
        for (slot, b) in out.iter_mut().zip(full) {
            *slot = b;
        }
        out
    }
}

impl fmt::Debug for UnsubscribeKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<u8> = self.accepted.iter().map(|k| k.id).collect();
        f.debug_struct("UnsubscribeKeys")
            .field("signing", &self.signing.id)
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
            signing: Key::new(key_id, secret)?,
            accepted: Vec::new(),
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
        if key_id == self.signing.id {
            return Err(ErrorKind::SigningKeyId(key_id).into());
        }
        let key = Key::new(key_id, secret)?;
        self.accepted.retain(|k| k.id != key_id);
        self.accepted.push(key);
        Ok(self)
    }

    fn key(&self, key_id: u8) -> Option<&Key> {
        std::iter::once(&self.signing)
            .chain(&self.accepted)
            .find(|k| k.id == key_id)
    }

    /// The keyed digest that binds a version-2 email token to its address.
    fn digest(&self, key_id: u8, canonical: &str) -> Option<[u8; DIGEST]> {
        Some(self.key(key_id)?.tagged_digest(EMAIL_LABEL, canonical))
    }

    /// The keyed digest of a list's name, as a token made under `key_id`
    /// carries it.
    fn list_digest(&self, key_id: u8, name_key: &str) -> Option<[u8; LIST_DIGEST]> {
        Some(self.key(key_id)?.tagged_digest(LIST_LABEL, name_key))
    }

    /// Seals a token with the signing key: a compact, URL-safe string
    /// (version 3) that carries the recipient's address encrypted and
    /// every field authenticated. Typical lengths: 58 characters for a
    /// phone, 74 for a 20-character email address, 127 for a 60-character
    /// one (plus a channel name's length, and 11 for an expiry).
    ///
    /// A token read from a link is signed again under the key it was made
    /// with while this set holds that key (its digests are under it), not
    /// the signing key. A version-2 email token read from a link whose
    /// address was not looked up ([`UnsubscribeToken::address`] is `None`)
    /// can only be signed again in version 2.
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
    /// assert_eq!(text.len(), 67);
    /// assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    /// assert!(!text.contains("ann"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn sign(&self, token: &UnsubscribeToken) -> String {
        // A token read from a link carries digests made under its own key:
        // signed again, it stays under that key while this set holds it,
        // so its bindings to the person and the list still hold.
        let key = match token.list_name {
            None => self.key(token.key_id).unwrap_or(&self.signing),
            Some(_) => &self.signing,
        };
        let bytes = match &token.recipient {
            Recipient::Address(a) => token.seal(a, key),
            Recipient::Indexed { index, digest } => {
                let mut body = token.encode_v2(*index, digest, key);
                let mut mac = key.mac.clone();
                mac.update(&body);
                body.extend_from_slice(mac.finalize().into_bytes().get(..TAG).unwrap_or(&[]));
                body
            }
        };
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Verifies a token string at time `now`: a version-3 token by its
    /// AEAD tag, a version-2 token by its HMAC-SHA256 signature; both
    /// comparisons are constant-time. A token is honoured until its
    /// expiry, but never less than [`MIN_HONOURED_DAYS`] after it was
    /// issued.
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
    /// assert_eq!(keys.verify(&text, day(29))?.address(), Some(&a)); // honoured for 30 days all the same
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
        let parsed = match bytes.first() {
            Some(&VERSION) => UnsubscribeToken::open(self, bytes)?,
            Some(&VERSION_2) => self.verify_v2(&bytes)?,
            _ => return Err(TokenRejected::Malformed),
        };
        if parsed.honoured_until().is_some_and(|until| now > until) {
            return Err(TokenRejected::Expired);
        }
        Ok(parsed)
    }

    /// Reads a version-2 token and checks its signature.
    fn verify_v2(&self, bytes: &[u8]) -> Result<UnsubscribeToken, TokenRejected> {
        let split = bytes
            .len()
            .checked_sub(TAG)
            .ok_or(TokenRejected::Malformed)?;
        let (body, tag) = bytes
            .split_at_checked(split)
            .ok_or(TokenRejected::Malformed)?;
        let parsed = UnsubscribeToken::decode_v2(body)?;
        let mut mac = self
            .key(parsed.key_id)
            .ok_or(TokenRejected::UnknownKey)?
            .mac
            .clone();
        mac.update(body);
        mac.verify_truncated_left(tag)
            .map_err(|_| TokenRejected::BadSignature)?;
        Ok(parsed)
    }
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
///     Unsubscribed::Recorded { reply, event, others } => {
///         println!("{reply} ({event:?})");
///         for also in others {
///             println!("also {also:?}");
///         }
///     }
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
        /// The changes on further lists, for their webhooks: a link whose
        /// list was renamed, or whose list name another list now holds,
        /// records the opt-out on both. Usually empty.
        others: Vec<Event>,
    },
    /// Nothing changed: already opted out.
    AlreadyOptedOut {
        /// The confirmation to show again.
        reply: String,
    },
    /// A GET: the token is good, nothing changed; ask the person to
    /// confirm.
    ConfirmationNeeded {
        /// What the token says, with the address it names (looked up in
        /// the store for a version-2 email token).
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

    /// Handles a click at time `now`: verifies the token, takes the person
    /// it names, and for a one-click POST or a confirmation records the
    /// opt-out with source [`Source::WebForm`], account-wide, and returns
    /// the confirmation and the event. A second click changes nothing. A
    /// GET never changes anything.
    ///
    /// A version-3 token carries the address: the store records the
    /// opt-out for that person even if it has never seen the address (an
    /// email is given its id in the same logged change). A version-2 email
    /// token names an index in the store that issued it; this store takes
    /// the address at that index if its keyed digest matches, else
    /// searches for it by the digest, else refuses the link.
    ///
    /// The token names its list by id and by a keyed digest of its name.
    /// When both name one list, that list records the opt-out. When they
    /// disagree (the list was renamed, another list now holds the name, or
    /// the link comes from another store), every candidate records it:
    /// the list with that id and the list with that name. When neither
    /// exists (the list was deleted), the system list records it: the
    /// person still asked to stop.
    ///
    /// # Errors
    ///
    /// [`UnsubscribeError::Rejected`] with the [`TokenRejected`] reason
    /// (including [`TokenRejected::UnknownRecipient`] for a version-2
    /// email token whose address this store does not hold), or
    /// [`UnsubscribeError::NotRecorded`] when the link is good but the
    /// opt-out could not be recorded; nothing changes either way.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Normalizer, Store};
    /// use optout::model::{ListId, Scope, Timestamp};
    /// use optout::unsubscribe::{Click, TokenRejected, UnsubscribeKeys, Unsubscribed};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let keys = UnsubscribeKeys::new(1, &[42; 32])?;
    /// let ann = Normalizer::default().address("ann@example.com")?;
    /// let link = keys.sign(&Store::new().unsubscribe_token(&ann, ListId::SYSTEM)?);
    /// // Another store holding the keys, which has never seen ann.
    /// let other = Store::new();
    /// let done = other.unsubscribe_at(&keys, &link, Click::Confirm, Timestamp::EPOCH)?;
    /// assert!(matches!(done, Unsubscribed::Recorded { .. }));
    /// assert!(other.contains(ListId::SYSTEM, &Scope::Account, &ann));
    /// let bad = other.unsubscribe_at(&keys, "nope", Click::Confirm, Timestamp::EPOCH);
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
        let mut parsed = keys.verify(token, now)?;
        self.refresh().map_err(UnsubscribeError::NotRecorded)?;
        let address = self.recipient(keys, &parsed)?;
        match click {
            Click::Get => {
                parsed.recipient = Recipient::Address(address);
                return Ok(Unsubscribed::ConfirmationNeeded { token: parsed });
            }
            Click::Post { body } if !is_one_click(body) => {
                return Err(TokenRejected::NotOneClick.into());
            }
            Click::Post { .. } | Click::Confirm => {}
        }
        let lists = self.token_lists(keys, &parsed);
        let mut edit = Edit::new()
            .lists_of(lists.iter().copied())
            .source(Source::WebForm)
            .at(now);
        if let Some(c) = &parsed.channel {
            // Recorded account-wide all the same: web-form opt-outs are.
            edit = edit.scope(Scope::Channel(c.clone()));
        }
        // The list the link named first, for the confirmation text.
        let reply_list = lists.first().copied().unwrap_or(ListId::SYSTEM);
        self.record_web_form(&address, &edit, reply_list)
            .map_err(UnsubscribeError::NotRecorded)
    }

    /// The person a verified token names: the address it carries, or for
    /// a version-2 email token the address this store holds under its
    /// index or digest.
    fn recipient(
        &self,
        keys: &UnsubscribeKeys,
        token: &UnsubscribeToken,
    ) -> Result<Address, TokenRejected> {
        let (index, digest) = match &token.recipient {
            Recipient::Address(a) => return Ok(a.clone()),
            Recipient::Indexed { index, digest } => (*index, *digest),
        };
        let matches = |e: &Email| keys.digest(token.key_id, e.as_str()) == Some(digest);
        // A copy of the table's handle: the search below holds no lock.
        let emails = self.email_table();
        if let Some(e) = emails.email(AddressId::from_email_index(index))
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

    /// The lists a verified token names here, the list with its id first:
    /// that list if it also holds the token's list name; else every
    /// candidate — the list with the id, the list with the name (ids
    /// differ between stores; a list may have been renamed, or its name
    /// given to another list) — so that the opt-out is never recorded on
    /// too few lists — with the system list as well when no list holds the
    /// name.
    fn token_lists(&self, keys: &UnsubscribeKeys, token: &UnsubscribeToken) -> Vec<ListId> {
        let named = |list: &crate::store::List| {
            token.list_digest.is_some()
                && keys.list_digest(token.key_id, &list.settings().name_key()) == token.list_digest
        };
        let mut lists = Vec::with_capacity(2);
        if let Some(list) = self.list(token.list) {
            if named(&list) {
                return vec![list.id()];
            }
            lists.push(list.id());
        }
        match self.lists().iter().find(|l| named(l)) {
            Some(list) => lists.push(list.id()),
            // No list here holds the token's list name: the id may name an
            // unrelated list (ids differ between stores), so the system
            // list records the opt-out too.
            None if !lists.contains(&ListId::SYSTEM) => lists.push(ListId::SYSTEM),
            None => {}
        }
        lists
    }

    /// A token for a recipient and a list, issued now. Writes nothing: the
    /// token carries the address itself, so the store need not know it
    /// (a click records it then). An email address is carried as it was
    /// before alias folding.
    ///
    /// The list must exist in this store as it is now (on a shared log,
    /// [`Store::refresh`] first to see lists other writers created).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownList`].
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = optout::Store::new();
    /// let a = optout::Normalizer::default().address("ann@example.com")?;
    /// let t = store.unsubscribe_token(&a, optout::model::ListId::SYSTEM)?;
    /// assert_eq!(t.address(), Some(&a));
    /// assert_eq!(store.seq(), 0);
    /// assert!(store.unsubscribe_token(&a, optout::model::ListId::new(7)).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn unsubscribe_token(
        &self,
        address: &Address,
        list: ListId,
    ) -> Result<UnsubscribeToken, Error> {
        let issued = self.now();
        let list_name = self
            .list(list)
            .map(|l| l.settings().name_key())
            .ok_or(ErrorKind::UnknownList(list))?;
        let address = match address {
            Address::Email(e) if e.unfolded() != e.as_str() => {
                Address::Email(Email::from_canonical(e.unfolded()))
            }
            other => other.clone(),
        };
        Ok(UnsubscribeToken {
            recipient: Recipient::Address(address),
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
        self.record_web_form(&address, &edit, list).map(Ok)
    }

    /// Records a web-form opt-out (the one write of a click or a form),
    /// with the confirmation text of `reply_list`.
    fn record_web_form(
        &self,
        address: &Address,
        edit: &Edit,
        reply_list: ListId,
    ) -> Result<Unsubscribed, Error> {
        let reply = self
            .list(reply_list)
            .and_then(|l| l.settings().confirmation_text().map(str::to_owned))
            .unwrap_or_else(|| crate::keyword::Language::English.opt_out_reply().to_owned());
        let changes = self.opt_out(address, edit)?;
        let mut events = changes.iter().map(|c| self.event(c));
        Ok(match events.next() {
            Some(event) => Unsubscribed::Recorded {
                reply,
                event,
                others: events.collect(),
            },
            None => Unsubscribed::AlreadyOptedOut { reply },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(email: &str) -> UnsubscribeToken {
        let store = Store::builder()
            .clock(|| Timestamp::from_unix_secs(1_764_000_000))
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let a = Normalizer::default()
            .address(email)
            .unwrap_or_else(|e| panic!("{e}"));
        store
            .unsubscribe_token(&a, ListId::SYSTEM)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Tokens issued in the same millisecond share a nonce: AES-GCM-SIV
    /// then gives equal tokens for equal contents and unrelated ones
    /// otherwise, and each still opens to its own address.
    #[test]
    fn tokens_sharing_a_nonce_stay_apart() {
        let keys = UnsubscribeKeys::new(1, &[42; 32]).unwrap_or_else(|e| panic!("{e}"));
        let (a, b) = (token("ann@example.com"), token("bob@example.com"));
        let (sa, sb) = (keys.sign(&a), keys.sign(&b));
        assert_eq!(sa, keys.sign(&a), "sealing is deterministic");
        let (ba, bb) = (
            URL_SAFE_NO_PAD.decode(&sa).unwrap_or_default(),
            URL_SAFE_NO_PAD.decode(&sb).unwrap_or_default(),
        );
        assert_eq!(ba.get(..HEADER), bb.get(..HEADER), "one nonce");
        // The ciphertexts share no run of bytes beyond the header.
        let same = ba
            .iter()
            .zip(&bb)
            .skip(HEADER)
            .filter(|(x, y)| x == y)
            .count();
        assert!(same < 8, "{same} equal bytes");
        let now = Timestamp::from_unix_secs(1_764_000_000);
        let open = |s: &str| keys.verify(s, now).ok().and_then(|t| t.address().cloned());
        assert_eq!(open(&sa), a.address().cloned());
        assert_eq!(open(&sb), b.address().cloned());
    }

    /// The AEAD key is derived per secret: another secret under the same
    /// id cannot open a token.
    #[test]
    fn each_secret_derives_its_own_key() {
        let t = token("ann@example.com");
        let text = UnsubscribeKeys::new(1, &[1; 32])
            .unwrap_or_else(|e| panic!("{e}"))
            .sign(&t);
        let other = UnsubscribeKeys::new(1, &[2; 32]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            other.verify(&text, Timestamp::EPOCH).map(drop),
            Err(TokenRejected::BadSignature)
        );
    }

    /// The size limit covers every field at its longest.
    #[test]
    fn the_size_limit_covers_every_field_at_its_longest() {
        let keys = UnsubscribeKeys::new(1, &[42; 32]).unwrap_or_else(|e| panic!("{e}"));
        let channel =
            Channel::new(&"\u{1F600}".repeat(MAX_CHANNEL_CHARS)).unwrap_or_else(|e| panic!("{e}"));
        let mut t = token("ann@example.com")
            .channel(channel)
            .expires(Timestamp::EPOCH);
        let longest = "a".repeat(MAX_EMAIL_BYTES);
        t.recipient = Recipient::Address(Address::Email(Email::from_canonical(&longest)));
        let text = keys.sign(&t);
        assert_eq!(
            URL_SAFE_NO_PAD.decode(&text).map(|b| b.len()).ok(),
            Some(MAX_TOKEN_BYTES)
        );
        assert!(text.len() <= MAX_TOKEN_CHARS);
        // Refused as no address (not one), never as oversized.
        assert_eq!(
            keys.verify(&text, Timestamp::EPOCH).map(drop),
            Err(TokenRejected::Malformed)
        );
    }
}
