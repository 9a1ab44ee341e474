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
