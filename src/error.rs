//! The crate's error type, for operations that fail as a whole.
//!
//! A recipient that cannot be normalized is not an [`Error`]: it is a
//! per-recipient [`Invalid`](crate::address::Invalid) outcome. An
//! operation that returns an `Error` changed nothing.

use std::fmt;
use std::path::PathBuf;

use crate::model::{InvalidChannel, ListId};

/// An operation that failed as a whole and changed nothing.
///
/// The error is one pointer wide; [`Error::kind`] tells what happened.
///
/// # Example
///
/// ```
/// use optout::address::Region;
/// use optout::error::ErrorKind;
///
/// let err = Region::new("XX").unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::UnknownRegion { .. }));
/// assert_eq!(err.to_string(), "unknown region code \"XX\"");
/// ```
pub struct Error(Box<ErrorKind>);

impl Error {
    /// What went wrong.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Store;
    /// use optout::error::ErrorKind;
    /// use optout::model::ListId;
    ///
    /// let err = Store::new().delete_list(ListId::SYSTEM).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::SystemList { .. }));
    /// ```
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// Takes the kind out.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::address::Region;
    /// use optout::error::ErrorKind;
    ///
    /// let kind = Region::new("XX").unwrap_err().into_kind();
    /// assert!(matches!(kind, ErrorKind::UnknownRegion { code } if code == "XX"));
    /// ```
    pub fn into_kind(self) -> ErrorKind {
        *self.0
    }

    pub(crate) fn io(source: std::io::Error) -> Error {
        ErrorKind::Io { path: None, source }.into()
    }

    pub(crate) fn io_at(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        ErrorKind::Io {
            path: Some(path.into()),
            source,
        }
        .into()
    }

    pub(crate) fn corrupt(what: &'static str, offset: u64, detail: impl Into<String>) -> Error {
        ErrorKind::Corrupt {
            what,
            offset,
            detail: detail.into(),
        }
        .into()
    }

    pub(crate) fn invalid_list(field: ListField, reason: impl Into<String>) -> Error {
        ErrorKind::InvalidList {
            field,
            reason: reason.into(),
        }
        .into()
    }

    /// `true` for an I/O error (a disk or a connection that failed): the
    /// change was not recorded and may be retried.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(!optout::Store::new().delete_list(optout::model::ListId::SYSTEM).unwrap_err().is_io());
    /// ```
    pub fn is_io(&self) -> bool {
        matches!(*self.0, ErrorKind::Io { .. })
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error(Box::new(kind))
    }
}

impl From<InvalidChannel> for Error {
    fn from(e: InvalidChannel) -> Error {
        ErrorKind::InvalidChannel(e).into()
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&*self.0)
    }
}

/// What went wrong, with what it concerned.
///
/// # Example
///
/// ```
/// use optout::error::{ErrorKind, ListField};
/// use optout::store::ListSettings;
///
/// let err = optout::Store::new().create_list(ListSettings::new("x".repeat(51))).unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::TooLong { field: ListField::Name, limit: 50, actual: 51 }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A region code that the phone metadata does not know.
    #[error("unknown region code {code:?}")]
    UnknownRegion {
        /// The code as given.
        code: String,
    },
    /// A channel name that is not usable.
    #[error(transparent)]
    InvalidChannel(InvalidChannel),
    /// The store's email table already holds 2^32 addresses.
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
    /// A list or keyword setting is malformed (an empty name, a webhook
    /// that is not an http or https URL, …).
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
    UnknownList(ListId),
    /// An email id (its raw value, as [`AddressId::get`](crate::AddressId::get)
    /// gives it) that this store never assigned: email ids come from the
    /// store's email table, so a list cannot hold one the table lacks.
    #[error("email id {0} was not assigned by this store")]
    UnknownEmailId(u64),
    /// The store was opened with a policy other than the one it was
    /// created with.
    #[error("the store was created with {stored}, not {requested}")]
    PolicyMismatch {
        /// The policy the store keeps.
        stored: String,
        /// The policy asked for.
        requested: String,
    },
    /// Reading or writing a file, or talking to a log server, failed.
    #[error("I/O error{}: {source}", path.as_ref().map(|p| format!(" on {}", p.display())).unwrap_or_default())]
    Io {
        /// The file, when known.
        path: Option<PathBuf>,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Another process (or another `Store` in this process) has the store
    /// directory open.
    #[error(
        "the store in {} is in use: another process holds its lock file {}",
        dir.display(),
        lock.display()
    )]
    Locked {
        /// The store directory.
        dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
    },
    /// A snapshot, journal or log record is damaged: truncated,
    /// bit-flipped, out of order, or holding values out of range. Nothing
    /// was loaded.
    #[error("{what} is corrupt at byte {offset}: {detail}")]
    Corrupt {
        /// `"snapshot"`, `"journal"`, `"log"` or `"suppression"`.
        what: &'static str,
        /// Where the problem was found.
        offset: u64,
        /// What was wrong.
        detail: String,
    },
    /// Changes are missing: a journal or log does not follow on from the
    /// snapshot or the journal before it. Nothing was loaded or deleted.
    #[error(
        "{what} starts after change {found} but the store is at change {expected}: changes are missing"
    )]
    Gap {
        /// The file or log concerned.
        what: String,
        /// The change the store needed next, minus one.
        expected: u64,
        /// Where the file or log starts.
        found: u64,
    },
    /// The file is not an optout snapshot or journal.
    #[error("not an optout {what} (wrong magic bytes)")]
    Foreign {
        /// `"snapshot"` or `"journal"`.
        what: &'static str,
    },
    /// The file was written by an unsupported format version.
    #[error(
        "{what} format version {found} is not supported (this build reads versions up to {supported})"
    )]
    Version {
        /// `"snapshot"` or `"journal"`.
        what: &'static str,
        /// The version in the file.
        found: u32,
        /// The newest version this build reads.
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
    /// A key id given to [`UnsubscribeKeys::accept`](crate::unsubscribe::UnsubscribeKeys::accept)
    /// is the signing key's: accepting it would replace the signing secret.
    #[error("key id {0} is the signing key's; choose another id for the accepted key")]
    SigningKeyId(u8),
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
    /// The log refuses writes after a write that failed and could not be
    /// taken back; reopen the store (or checkpoint it) once the cause is
    /// fixed.
    #[error("the log cannot be written until the store is reopened or checkpointed: {0}")]
    LogBroken(String),
    /// Settings that cannot work together, such as a log given to a
    /// builder that then loads a snapshot into memory.
    #[error("{0}")]
    Usage(String),
    /// A directory holds version-1 journal files that were not migrated:
    /// they are migrated when the directory is opened with
    /// [`Store::open`](crate::Store::open), or when the
    /// [`Journal`](crate::persist::Journal) itself (not a wrapper around
    /// it) is given to [`StoreBuilder::log`](crate::store::StoreBuilder::log).
    #[error(
        "{} holds version-1 journal files that were not migrated: open it with Store::open, or give the Journal itself to StoreBuilder::log",
        dir.display()
    )]
    Unmigrated {
        /// The directory.
        dir: std::path::PathBuf,
    },
}

/// A list setting named in an [`Error`].
///
/// # Example
///
/// ```
/// use optout::error::ListField;
///
/// assert_eq!(ListField::Confirmation.to_string(), "confirmation message");
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

impl fmt::Display for ListField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ListField::Name => "name",
            ListField::Description => "description",
            ListField::Keyword => "keyword",
            ListField::Confirmation => "confirmation message",
            ListField::Webhook => "webhook URL",
        })
    }
}

/// A row that was not imported, with its line number and why.
///
/// # Example
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = optout::Store::new();
/// let report = store.import(&b"address\n+14155550123\nnot a number\n"[..], &optout::Normalizer::default(), &optout::exchange::Import::new())?;
/// assert_eq!(report.rejected[0].line, 3);
/// assert_eq!(report.rejected[0].to_string(), "line 3: \"not a number\": invalid number: not a phone number");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RowError {
    /// The line the row starts on (1-based; the header is line 1).
    pub line: u64,
    /// The address field as read.
    pub input: String,
    /// Why it was refused.
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {:?}: {}", self.line, self.input, self.reason)
    }
}

/// A `Result` whose error is the crate's [`Error`].
///
/// # Example
///
/// ```
/// fn region() -> optout::Result<optout::address::Region> {
///     optout::address::Region::new("GB")
/// }
/// assert!(region().is_ok());
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_static_and_small() {
        fn check<T: Send + Sync + 'static + std::error::Error>() {}
        check::<Error>();
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn io_errors_name_their_file() {
        let e = Error::io_at("/tmp/x", std::io::Error::other("boom"));
        assert_eq!(e.to_string(), "I/O error on /tmp/x: boom");
        assert!(e.is_io());
    }
}
