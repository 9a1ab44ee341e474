//! Opt-out lists for campaign senders.
//!
//! `optout` decides, before a broadcast goes out, who may receive it. It
//! normalizes phone numbers and email addresses into compact ids, holds
//! opt-out lists as roaring bitmaps, turns inbound STOP / START replies
//! (and sentences that ask to stop) into list changes, and splits a
//! recipient list — in parallel — into sendable recipients and skipped
//! ones, each with its reason (`Optout Number` for an opt-out). Marketing
//! traffic honours opt-outs; utility and OTP traffic does not; a blocked
//! address gets nothing.
//!
//! # The main job, end to end
//!
//! ```
//! use optout::{Dispatch, Normalizer, Store};
//! use optout::address::Region;
//! use optout::model::{Category, Channel, Scope, Source};
//! use optout::store::{Edit, ListSettings};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let n = Normalizer::new(Region::new("US")?);
//! let sms = Channel::new("+14155550100")?; // channels are named as you name them
//! let store = Store::new();
//!
//! // A custom list, and opt-outs recorded with their scope and source.
//! let promotions = store.create_list(ListSettings::new("Promotions").keyword("STOPPROMO"))?;
//! store.opt_out(&n.address("(415) 555-0100")?, &Edit::new())?; // system list, account-wide
//! store.opt_out(
//!     &n.address("+1 415 555 0101")?,
//!     &Edit::new().list(promotions).scope(Scope::Channel(sms.clone())).source(Source::Keyword),
//! )?;
//! store.block(&n.address("415.555.0102")?, &Edit::new())?;
//!
//! // Compile the suppression for a send once, then split the audience.
//! let audience = [
//!     "+14155550100", "(415) 555-0101", "415-555-0102", "415-555-0103", "1 415 555 0103", "n/a",
//! ];
//! let marketing = Dispatch::new(Category::Marketing).channel(sms.clone()).honour(promotions);
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
//! # One write path
//!
//! Every change — an opt-out, an opt-in, a block, a list created or
//! deleted, a keyword setting, an inbound STOP, a click on an unsubscribe
//! link, an import — is resolved into one operation and committed by one
//! function: check it against the store's state, append it to the store's
//! log, then apply it, all under one lock. An inbound message is logged as
//! the list changes it caused, not as text, so replaying a log never
//! depends on the crate's word lists. There is no second way to change a
//! [`Store`]. Where the operations go is its [`Log`](persist::Log):
//!
//! * nowhere ([`Store::new`]): a store in memory;
//! * a directory ([`Store::open`]): the latest snapshot plus a journal of
//!   the changes since, every change synced to disk before it is reported
//!   as recorded, the directory locked while open
//!   ([`persist::Journal`]);
//! * memory shared by several stores ([`persist::MemoryLog`]), or your own
//!   log — a database that service replicas share: a store on a shared
//!   log reads what other writers appended before every compile, check
//!   and change, so a change any replica acknowledged is honoured by the
//!   next send.
//!
//! ```
//! use optout::{Normalizer, Store};
//! use optout::store::Edit;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let ann = Normalizer::default().address("+14155550123")?;
//! {
//!     let store = Store::open(dir.path())?;
//!     store.opt_out(&ann, &Edit::new())?; // on disk when this returns
//!     assert!(Store::open(dir.path()).is_err()); // the directory is in use
//! }
//! let store = Store::open(dir.path())?;
//! assert_eq!(store.recovery().replayed, 1);
//! assert_eq!(store.history(..).len(), 1);
//! # Ok(())
//! # }
//! ```
//!
//! # Failing closed
//!
//! Where the crate cannot tell, it suppresses marketing or refuses with a
//! clear error; utility and OTP traffic still goes out.
//!
//! * A send that names no channel is suppressed by opt-outs of every
//!   channel ([`Dispatch`]).
//! * A reply that clearly asks to stop ("Please stop", "Stop texting me")
//!   is an opt-out, as the FCC rule on revoking consent requires; one that
//!   may ask to stop ("remove me") gets one clarification question, and
//!   marketing to that person stops until they answer ([`keyword`],
//!   [`Store::inbound`]). YES alone is not an opt-in.
//! * The store owns its address policy ([`store::Policy`]): with alias
//!   folding, every spelling of one mailbox is suppressed, whatever the
//!   normalizer of a later send.
//! * Unsubscribe links carry the person's address, encrypted and
//!   authenticated: any store holding the keys records the opt-out for
//!   exactly that person, even after an export and import; making a link
//!   writes nothing ([`unsubscribe`]).
//! * Deleting a list keeps a history record of every address it removed;
//!   exports are safe to open in a spreadsheet ([`exchange`]).
//!
//! # Filtering a send
//!
//! A [`Dispatch`] names the category, the channel and the custom lists
//! to honour; marketing always honours the system list. The compiled
//! [`Suppression`] splits raw strings, typed [`Address`]es or
//! pre-normalized [`AddressId`]s (no parsing) in parallel, keeping input
//! order, and a whole audience bitmap by set difference. Every input
//! appears exactly once in the output, sendable (with its normalized form
//! and id) or skipped with a [`SkipReason`](filter::SkipReason):
//! `Optout Number`, `Blocked`, `Invalid Number`, `Invalid Email` or
//! `Duplicate` (the first occurrence of a person is sent to).
//! [`Store::check`] answers for one address at send time with the same
//! verdict.
//!
//! # Normalizing addresses
//!
//! A [`Normalizer`] carries the settings: a default
//! [`Region`](address::Region) for numbers written nationally, a
//! [`Strictness`](address::Strictness) for phone checks, and an
//! [`EmailAliases`](address::EmailAliases) policy. Every input comes back
//! either as an [`Address`] or as an [`Invalid`](address::Invalid) reason.
//!
//! ```
//! use optout::Normalizer;
//! use optout::address::{Invalid, PhoneReason, Region};
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
//! # Compact ids
//!
//! Every address has an [`AddressId`], a `u64`:
//!
//! * a phone number's id is the digits of its E.164 form as an integer
//!   (`+14155550123` → `14155550123`), so every service computes the same
//!   id for the same number without a shared dictionary. The metadata
//!   allows national numbers of up to 17 digits, so phone ids stay below
//!   10^19;
//! * an email address's id is `0xFFFF_FFFF_0000_0000` plus its index in the
//!   store's email table. All email ids share one 32-bit high word, above
//!   every phone id, so the kinds never collide and a roaring bitmap holds
//!   the emails densely. An index is local to a store: tokens and exports
//!   name the address, not the index.
//!
//! # Modules
//!
//! The root holds the types of the main job; the rest is grouped by
//! concern: [`address`] (normalization and ids), [`model`] (channels,
//! lists, scopes, sources, categories, times), [`store`] (settings, edits,
//! history), [`filter`] (outcomes, reports, partner lists), [`keyword`]
//! (keywords and the revocation classifier), [`inbound`], [`unsubscribe`],
//! [`exchange`] (CSV import and export) and [`persist`] (logs and
//! journals). Errors are one [`Error`] with a [`kind`](Error::kind).
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod address;
mod bitmap;
pub mod error;
pub mod exchange;
pub mod filter;
pub mod inbound;
pub mod keyword;
pub mod model;
pub mod persist;
pub mod store;
mod time;
pub mod unsubscribe;

pub use address::{Address, AddressId, Normalizer};
pub use error::{Error, Result};
pub use filter::{Dispatch, Suppression};
pub use store::Store;

/// The bitmap crate whose types appear in this API
/// ([`Suppression::split_bitmap`] takes a `roaring::RoaringTreemap`).
pub use roaring;

/// Hooks for the fuzz targets in `fuzz/` (built only with `--cfg fuzzing`,
/// which cargo-fuzz sets): internals the properties need.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::address::fuzzing::phone_paths;
    pub use crate::persist::journal_fuzzing::replay_journal;
}

/// The README's examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
