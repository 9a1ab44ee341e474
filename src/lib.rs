//! Opt-out lists for campaign senders.
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
}

/// The README's examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
