//! The crate's error type, for operations that fail as a whole.
//!
//! A recipient that cannot be normalized is not an [`Error`]: it is a
//! per-recipient [`Invalid`](crate::Invalid) outcome.

/// An operation that failed as a whole and changed nothing.
///
/// # Example
///
/// ```
/// use optout::{Error, Region};
///
/// let err = Region::new("XX").unwrap_err();
/// assert!(matches!(err, Error::UnknownRegion { .. }));
/// assert_eq!(err.to_string(), "unknown region code \"XX\"");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A region code that the phone metadata does not know.
    #[error("unknown region code {code:?}")]
    UnknownRegion {
        /// The code as given.
        code: String,
    },
    /// An [`EmailTable`](crate::EmailTable) already holds 2^32 addresses.
    #[error("the email table is full (2^32 addresses)")]
    EmailTableFull,
    /// A list setting is longer than its limit (counted in characters).
    #[error("list {field} is {actual} characters long; the limit is {limit}")]
    TooLong {
        /// The setting.
        field: ListField,
        /// Its limit, in characters.
        limit: usize,
        /// The length given, in characters.
        actual: usize,
    },
    /// A list setting is malformed (an empty name, a webhook that is not an
    /// http or https URL, …).
    #[error("list {field} {reason}")]
    InvalidList {
        /// The setting.
        field: ListField,
        /// What is wrong with it.
        reason: String,
    },
    /// Another list already has this name (compared without regard to case
    /// or spacing).
    #[error("a list named {name:?} already exists")]
    DuplicateName {
        /// The name given.
        name: String,
    },
    /// Another list already uses this opt-out keyword.
    #[error("the keyword {keyword:?} is already used by list {list:?}")]
    DuplicateKeyword {
        /// The keyword given.
        keyword: String,
        /// The list that has it.
        list: String,
    },
    /// The system list cannot be deleted or renamed.
    #[error("the system list cannot be {action}")]
    SystemList {
        /// What was attempted: `"deleted"` or `"renamed"`.
        action: &'static str,
    },
    /// No list has this id (it never existed or was deleted).
    #[error("no list {0}")]
    UnknownList(crate::ListId),
    /// An email id that this store never assigned: email ids come from the
    /// store's email table, so a list cannot hold one the table lacks.
    #[error("email id {0} was not assigned by this store")]
    UnknownEmailId(crate::AddressId),
    /// Reading or writing a file failed.
    #[error("I/O error: {0}")]
    Io(#[source] std::io::Error),
    /// A snapshot or journal is damaged: truncated, bit-flipped, or holding
    /// values out of range. Nothing was loaded.
    #[error("{what} is corrupt at byte {offset}: {detail}")]
    Corrupt {
        /// `"snapshot"` or `"journal"`.
        what: &'static str,
        /// Where the problem was found.
        offset: u64,
        /// What was wrong.
        detail: String,
    },
    /// The file is not an optout snapshot or journal.
    #[error("not an optout {what} (wrong magic bytes)")]
    Foreign {
        /// `"snapshot"` or `"journal"`.
        what: &'static str,
    },
    /// The file was written by an unsupported format version.
    #[error(
        "{what} format version {found} is not supported (this build reads version {supported})"
    )]
    Version {
        /// `"snapshot"` or `"journal"`.
        what: &'static str,
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// A CSV file could not be read or written as a whole (malformed
    /// quoting, no address column); row-level problems are reported per row
    /// instead.
    #[error("CSV error at line {line}: {detail}")]
    Csv {
        /// The line (0 when unknown).
        line: u64,
        /// What went wrong.
        detail: String,
    },
    /// An unsubscribe secret is too short to sign with.
    #[error("unsubscribe secret is {bytes} bytes; at least {minimum} are needed")]
    WeakSecret {
        /// Its length.
        bytes: usize,
        /// The minimum.
        minimum: usize,
    },
    /// A base URL for unsubscribe links is not an http or https URL.
    #[error("{url:?} is not a usable link base: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The keyword is one of the seven FCC revocation words, which always
    /// opt out.
    #[error("{keyword:?} is a protected opt-out keyword and cannot be removed")]
    ProtectedKeyword {
        /// The keyword given.
        keyword: String,
    },
}

/// A list setting named in an [`Error`].
///
/// # Example
///
/// ```
/// use optout::{Error, ListField, ListSettings, Store};
///
/// let store = Store::new();
/// let err = store.create_list(ListSettings::new("x".repeat(51))).unwrap_err();
/// assert!(matches!(err, Error::TooLong { field: ListField::Name, limit: 50, actual: 51 }));
/// assert_eq!(err.to_string(), "list name is 51 characters long; the limit is 50");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ListField {
    /// The list name (1–50 characters, unique).
    Name,
    /// The description (at most 300 characters).
    Description,
    /// The opt-out keyword (at most 50 characters, unique).
    Keyword,
    /// The opt-out confirmation message (at most 300 characters).
    Confirmation,
    /// The webhook URL (http or https).
    Webhook,
}

impl std::fmt::Display for ListField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ListField::Name => "name",
            ListField::Description => "description",
            ListField::Keyword => "keyword",
            ListField::Confirmation => "confirmation message",
            ListField::Webhook => "webhook URL",
        })
    }
}

/// A `Result` whose error is the crate's [`Error`].
///
/// # Example
///
/// ```
/// fn region() -> optout::Result<optout::Region> {
///     optout::Region::new("GB")
/// }
/// assert!(region().is_ok());
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_static() {
        fn check<T: Send + Sync + 'static + std::error::Error>() {}
        check::<Error>();
    }
}
