//! Opt-out lists for campaign senders.
//!
//! `optout` decides, before a broadcast goes out, who may receive it. It
//! normalizes phone numbers and email addresses into compact ids, holds
//! opt-out lists as roaring bitmaps, and splits a recipient list — in
//! parallel — into sendable recipients and skipped ones, each with its
//! reason (`Optout Number` for an opt-out). Marketing traffic honours
//! opt-outs; utility and OTP traffic does not; a blocked address gets
//! nothing.
//!
//! # The main job, end to end
//!
//! ```
//! use optout::{
//!     Category, ChannelId, Dispatch, Edit, KeywordScope, ListSettings, Normalizer, Region, Scope,
//!     Source, Store,
//! };
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let n = Normalizer::new(Region::new("US")?);
//! let sms = ChannelId::new(101);
//! let store = Store::new();
//!
//! // A custom list, and opt-outs recorded with their scope and source.
//! let promotions = store.create_list(ListSettings::new("Promotions").keyword("STOPPROMO"))?;
//! store.opt_out(&n.address("(415) 555-0100")?, &Edit::new())?; // system list, account-wide
//! store.opt_out(
//!     &n.address("+1 415 555 0101")?,
//!     &Edit::new().list(promotions).scope(Scope::Channel(sms)).source(Source::Keyword),
//! )?;
//! store.block(&n.address("415.555.0102")?, &Edit::new())?;
//!
//! // Compile the suppression for a send once, then split the audience.
//! let audience = [
//!     "+14155550100", "(415) 555-0101", "415-555-0102", "415-555-0103", "1 415 555 0103", "n/a",
//! ];
//! let marketing = Dispatch::new(Category::Marketing).channel(sms).honour(promotions);
//! let split = store.compile(&marketing)?.split(&n, &audience);
//! assert_eq!(
//!     split.report().to_string(),
//!     "1 sendable, 5 skipped (2 opted-out, 1 blocked, 1 invalid number, 1 duplicate)"
//! );
//! for (i, reason, _) in split.skipped() {
//!     println!("{} skipped: {reason}", audience[i]); // "+14155550100 skipped: Optout Number", …
//! }
//!
//! // Order updates still reach people who opted out of marketing.
//! let utility = Dispatch::new(Category::Utility).channel(sms);
//! assert_eq!(store.compile(&utility)?.split(&n, &audience).report().sendable, 3);
//! # Ok(())
//! # }
//! ```
//!
//! # The store
//!
//! A [`Store`] holds the system list (always present, never deleted or
//! renamed), custom lists with validated settings, entries per scope
//! (account-wide or one [`ChannelId`]), the blocked set, per-channel
//! [`KeywordScope`], the email id table and the change history ([`Change`],
//! queryable by date range). It is `Send + Sync` with `&self` methods: a
//! write takes its lock only for the change itself, and
//! [`Store::compile`] copies what one send needs under a short read lock
//! into an owned [`Suppression`]. So a change made before a filter starts
//! is honoured by it, and changes made while it runs cannot tear it.
//!
//! Rules the store applies: web-form opt-outs are always account-wide;
//! keyword opt-outs on a channel whose keyword scope is
//! [`KeywordScope::Account`] are too; deleting a custom list never
//! re-enables someone who is still on another list. Times come from the
//! [`Edit`] or from the store's injectable [`Clock`], never from a hidden
//! clock read.
//!
//! # Filtering a send
//!
//! A [`Dispatch`] names the [`Category`], the channel and the custom lists
//! to honour; marketing always honours the system list. The compiled
//! [`Suppression`] splits raw strings, typed [`Address`]es or
//! pre-normalized [`AddressId`]s (no parsing) in parallel, keeping input
//! order, and a whole audience bitmap by set difference. Every input
//! appears exactly once in the output, sendable (with its normalized form
//! and id) or skipped with a [`SkipReason`]: `Optout Number`, `Blocked`,
//! `Invalid Number`, `Invalid Email` or `Duplicate` (the first occurrence
//! of a person is sent to). [`Store::check`] answers for one address at
//! send time, consistently with the batch filter.
//!
//! # Inbound keywords
//!
//! Customers opt out by replying STOP and come back with START.
//! [`Store::inbound`] turns an inbound message into the list change and the
//! reply to send back: opt-out keywords (the seven FCC revocation words
//! always among them, plus Spanish, French, Portuguese and German defaults
//! and each custom list's own keyword), opt-in keywords (which act only for
//! someone who had opted out), and help keywords. Matching is whole-message,
//! Unicode case-insensitive, accent-insensitive and blind to surrounding
//! punctuation, quotes and emoji (`Stop.`, `"STOP"`, `Arrêt !`), never
//! fires inside a sentence, and costs one hash lookup whatever the number
//! of keywords ([`KeywordMatcher`]). Every change becomes an [`Event`] for
//! a webhook with [`Store::event`].
//!
//! ```
//! use optout::{ChannelId, InboundAction, Normalizer, Store};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Store::new();
//! let from = Normalizer::default().address("+14155550123")?;
//! let sms = ChannelId::new(101);
//! let stop = store.inbound(&from, sms, "Stop.")?;
//! assert_eq!(stop.action, InboundAction::OptOut);
//! println!("reply: {}", stop.reply.unwrap()); // the confirmation, sent once
//! assert_eq!(store.inbound(&from, sms, "STOP")?.reply, None);
//! assert_eq!(store.inbound(&from, sms, "don't stop the deals")?.action, InboundAction::None);
//! assert_eq!(store.inbound(&from, sms, "START")?.action, InboundAction::OptIn);
//! # Ok(())
//! # }
//! ```
//!
//! # Persistence and exchange
//!
//! [`Store::save`] and [`Store::load`] write and read the whole store as a
//! versioned, checksummed snapshot (format in `docs/FORMAT.md`), validated
//! completely on load; [`Store::save_to_path`] replaces files atomically.
//! [`DurableStore`] keeps a store in a directory as a snapshot plus an
//! append-only journal: every change is journaled (and by default synced)
//! before it is applied, so nothing reported as recorded is lost to a
//! crash. [`Store::import`] streams CSV and plain files with per-row errors,
//! [`Store::export_csv`] writes lists by list and date range, and
//! [`HashedList`] honours a partner's SHA-256 or MD5 suppression list
//! without its plaintext.
//!
//! ```
//! use optout::{DurableStore, Edit, Import, Normalizer, Region};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let n = Normalizer::new(Region::new("US")?);
//! {
//!     let (store, _) = DurableStore::open(dir.path())?;
//!     store.opt_out(&n.address("(415) 555-0123")?, &Edit::new())?;
//!     let report = store.import("phone\n+14155550124\noops\n".as_bytes(), &n, &Import::new())?;
//!     assert_eq!(report.rejected[0].line, 3);
//! }
//! let (store, recovery) = DurableStore::open(dir.path())?;
//! assert_eq!(recovery.replayed, 2); // the opt-out and the imported batch
//! assert_eq!(store.store().history(..).len(), 2);
//! # Ok(())
//! # }
//! ```
//!
//! # Normalizing addresses
//!
//! A [`Normalizer`] carries the settings: a default [`Region`] for numbers
//! written nationally, a [`Strictness`] for phone checks, and an
//! [`EmailAliases`] policy. Every input comes back either as an
//! [`Address`] or as an [`Invalid`] reason.
//!
//! ```
//! use optout::{Address, Invalid, Normalizer, PhoneReason, Region};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let n = Normalizer::new(Region::new("US")?);
//! let inputs = ["+14155550123", "(415) 555-0123", "Ann@Example.com", "555-01"];
//! let out = n.addresses(&inputs);
//! assert_eq!(out[0], out[1]); // one number, two layouts
//! assert_eq!(out[2].as_ref().map(|a| a.to_string()).ok(), Some("ann@example.com".into()));
//! assert_eq!(out[3], Err(Invalid::Phone(PhoneReason::TooShort)));
//! # Ok(())
//! # }
//! ```
//!
//! Phone numbers are accepted in E.164 (`+14155550123`), national form with
//! the default region (`(415) 555-0123`, `07911 123456`), international
//! form with spaces, `00`/`011` exit codes, `tel:` URIs, vanity letters
//! (`1-800-FLOWERS`), fullwidth and other Unicode digits, and with
//! extensions (kept apart from the id). Strict E.164 and the common
//! national and international layouts take a fast path that uses no
//! regular expressions; everything else goes to a full port of Google's
//! libphonenumber. Tests hold the fast path to the full parser's answer.
//!
//! Email addresses are checked for syntax, trimmed, lower-cased, and their
//! domain is put in IDNA ASCII form; folding provider aliases (Gmail dots,
//! `+tags`) is an opt-in policy.
//!
//! # Compact ids
//!
//! Every address has an [`AddressId`], a `u64`:
//!
//! * a phone number's id is the digits of its E.164 form as an integer
//!   (`+14155550123` → `14155550123`), so every service computes the same
//!   id for the same number without a shared dictionary. The metadata
//!   allows national numbers of up to 17 digits, so phone ids stay below
//!   10^19;
//! * an email address's id is `0xFFFF_FFFF_0000_0000` plus its index in an
//!   [`EmailTable`], the interner saved with the store. All email ids share
//!   one 32-bit high word, above every phone id, so the kinds never collide
//!   and a roaring bitmap holds the emails densely (about 2 bytes each,
//!   against about 8 for scattered 64-bit hashes, which could also collide).
//!
//! # Guarantees
//!
//! * An invalid list setting, an unknown list or a full email table is an
//!   [`Error`] that changes nothing.
//! * No input panics the normalizer: inputs the phone library is known to
//!   panic on are refused first, and every library call runs under
//!   `catch_unwind` (the crate is never built with `panic = "abort"`).
//! * Every input gets an answer: an [`Address`] or an [`Invalid`] with its
//!   reason. Batch calls return one result per input, in order.
//! * Inputs longer than 250 characters (phones) or 320 bytes (emails) are
//!   refused without being parsed.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod address;
mod bitmap;
mod clock;
mod codec;
mod error;
mod exchange;
mod filter;
mod history;
mod id;
mod inbound;
mod journal;
mod keyword;
mod list;
mod snapshot;
mod store;
mod unsubscribe;

pub use address::{
    Address, AddressKind, Email, EmailAliases, EmailReason, Invalid, Normalizer, NormalizerBuilder,
    Phone, PhoneReason, Region, Strictness,
};
pub use clock::{Clock, InvalidTimestamp, SystemClock, Timestamp};
pub use error::{Error, ListField, Result};
pub use exchange::{
    Digest, Export, HashedList, Import, ImportFormat, ImportMode, ImportReport, RowError,
};
pub use filter::{
    BitmapSplit, Category, Dispatch, IdSplit, InvalidCategory, Outcome, Recipient, Report,
    SkipReason, Split, Suppression,
};
pub use history::{Action, Change};
pub use id::{AddressId, EmailTable, InvalidId};
pub use inbound::{Event, Inbound, InboundAction};
pub use journal::{Durability, DurableOptions, DurableStore, Recovery};
pub use keyword::{
    FCC_REVOCATION_WORDS, KeywordHit, KeywordKind, KeywordMatch, KeywordMatcher, Keywords, Language,
};
pub use list::{List, ListId, ListSettings};
pub use store::{Bulk, ChannelId, Edit, KeywordScope, Memory, Scope, Source, Store};
pub use unsubscribe::{
    Click, MIN_SECRET_BYTES, ONE_CLICK_BODY, TokenRejected, UnsubscribeError, UnsubscribeHeaders,
    UnsubscribeKeys, UnsubscribeToken, Unsubscribed, unsubscribe_headers, unsubscribe_url,
};

/// The bitmap crate whose types appear in this API
/// ([`Suppression::split_bitmap`] takes a `roaring::RoaringTreemap`).
pub use roaring;

/// Hooks for the fuzz targets in `fuzz/` (built only with `--cfg fuzzing`,
/// which cargo-fuzz sets): internals the properties need.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::address::fuzzing::phone_paths;
    pub use crate::journal::fuzzing::replay_journal;
}

/// The README's examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
