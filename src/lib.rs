//! Opt-out lists for campaign senders.
//!
//! `optout` decides, before a broadcast goes out, who may receive it. This
//! release holds its foundation: turning the phone numbers and email
//! addresses that senders actually have into canonical forms and compact,
//! stable ids — fast, in parallel, and without ever panicking on or
//! silently dropping an input.
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
mod clock;
mod error;
mod filter;
mod history;
mod id;
mod list;
mod store;

pub use address::{
    Address, AddressKind, Email, EmailAliases, EmailReason, Invalid, Normalizer, NormalizerBuilder,
    Phone, PhoneReason, Region, Strictness,
};
pub use clock::{Clock, SystemClock, Timestamp};
pub use error::{Error, ListField, Result};
pub use filter::{
    BitmapSplit, Category, Dispatch, IdSplit, Outcome, Recipient, Report, SkipReason, Split,
    Suppression,
};
pub use history::{Action, Change};
pub use id::{AddressId, EmailTable, InvalidId};
pub use list::{List, ListId, ListSettings};
pub use store::{Bulk, ChannelId, Edit, KeywordScope, Memory, Scope, Source, Store};

/// The bitmap crate whose types appear in this API
/// ([`Suppression::split_bitmap`] takes a `roaring::RoaringTreemap`).
pub use roaring;

/// The README's examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
