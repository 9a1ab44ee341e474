//! Where a store's changes go: the [`Log`] seam and its implementations,
//! in memory ([`MemoryLog`]) and in files ([`Journal`]).
//!
//! Everything here works on bytes: records are encoded operations and
//! checkpoints are encoded snapshots, both produced by the store. A log
//! keeps them in order and hands them back when a store opens. Formats are
//! described in `docs/FORMAT.md`.

pub(crate) mod codec;
pub(crate) mod disk;
mod journal;
mod log;

#[cfg(test)]
mod fault_tests;

#[cfg(fuzzing)]
pub(crate) use journal::fuzzing as journal_fuzzing;
pub(crate) use journal::legacy_records;
pub use journal::{Durability, Journal};
pub use log::{Appended, Checkpoint, Log, MemoryLog, Visitor};

/// What opening a store found.
///
/// # Example
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let store = optout::Store::open(dir.path())?;
/// let recovery = store.recovery();
/// assert_eq!((recovery.replayed, recovery.torn_bytes), (0, 0));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recovery {
    /// The last record the loaded checkpoint holds (0: no checkpoint).
    pub checkpoint: u64,
    /// Records replayed on top of it.
    pub replayed: u64,
    /// Bytes of a torn last record that were cut off.
    pub torn_bytes: u64,
    /// `true` if the directory held version-1 files, now migrated.
    pub migrated: bool,
}

/// The magic bytes of a snapshot.
pub(crate) const SNAPSHOT_MAGIC: &[u8; 8] = b"OPTOUTSN";

/// The record number a snapshot holds, read from its fixed header: magic
/// (8 bytes), version (u32), then in version 2 the record number (u64).
/// Version 1 snapshots hold none (0).
pub(crate) fn snapshot_seq(bytes: &[u8]) -> Option<u64> {
    if bytes.get(..8) != Some(SNAPSHOT_MAGIC.as_slice()) {
        return None;
    }
    let version = u32::from_le_bytes(bytes.get(8..12)?.try_into().ok()?);
    if version < 2 {
        return Some(0);
    }
    Some(u64::from_le_bytes(bytes.get(12..20)?.try_into().ok()?))
}
