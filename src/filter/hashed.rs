//! Partner suppression lists exchanged as hashes: SHA-256 or MD5 of
//! canonical addresses, honoured without the plaintext.

use std::io::{BufRead, BufReader, Read};

use md5::Md5;
use sha2::{Digest as _, Sha256};

use crate::address::Address;
use crate::error::{Error, RowError};

/// A digest for hashed suppression exchange.
///
/// # Example
///
/// ```
/// use optout::filter::Digest;
///
/// assert_eq!(Digest::Sha256.hex("ann@example.com").len(), 64);
/// assert_eq!(Digest::Md5.hex("ann@example.com").len(), 32);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Digest {
    /// SHA-256.
    Sha256,
    /// MD5, still common in affiliate suppression files.
    Md5,
}

impl Digest {
    /// The lowercase hex digest of `text`.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::filter::Digest::Md5.hex(""), "d41d8cd98f00b204e9800998ecf8427e");
    /// ```
    pub fn hex(self, text: &str) -> String {
        let bytes = self.raw(text);
        let len = self.len();
        bytes.iter().take(len).map(|b| format!("{b:02x}")).collect()
    }

    fn raw(self, text: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        match self {
            Digest::Sha256 => out.copy_from_slice(&Sha256::digest(text.as_bytes())),
            Digest::Md5 => {
                if let Some(head) = out.get_mut(..16) {
                    head.copy_from_slice(&Md5::digest(text.as_bytes()));
                }
            }
        }
        out
    }

    fn len(self) -> usize {
        match self {
            Digest::Sha256 => 32,
            Digest::Md5 => 16,
        }
    }
}

/// A partner's suppression list of hashed addresses: honoured without
/// holding the plaintext.
///
/// # Example
///
/// ```
/// use optout::Normalizer;
/// use optout::filter::{Digest, HashedList};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let n = Normalizer::default();
/// let file = format!("{}\nnot-hex\n", Digest::Sha256.hex("ann@example.com"));
/// let (list, rejected) = HashedList::read(file.as_bytes(), Digest::Sha256)?;
/// assert_eq!(rejected.len(), 1);
/// assert!(list.contains(&n.address("ANN@example.com")?));
/// assert!(!list.contains(&n.address("bob@example.com")?));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashedList {
    digest: Digest,
    hashes: std::collections::HashSet<[u8; 32]>,
}

impl HashedList {
    /// Reads one hex digest per line (case-insensitive; blank lines
    /// skipped); lines that are not digests of this kind are returned with
    /// their line numbers.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`](crate::error::ErrorKind::Io).
    ///
    /// # Example
    ///
    /// ```
    /// let (list, bad) = optout::filter::HashedList::read(&b""[..], optout::filter::Digest::Md5)?;
    /// assert!(list.is_empty() && bad.is_empty());
    /// # Ok::<(), optout::Error>(())
    /// ```
    pub fn read(reader: impl Read, digest: Digest) -> Result<(HashedList, Vec<RowError>), Error> {
        let mut hashes = std::collections::HashSet::new();
        let mut rejected = Vec::new();
        for (i, line) in BufReader::new(reader).lines().enumerate() {
            let line = line.map_err(Error::io)?;
            let text = line.trim();
            if text.is_empty() {
                continue;
            }
            match parse_hex(text, digest.len()) {
                Some(h) => {
                    hashes.insert(h);
                }
                None => rejected.push(RowError {
                    line: i as u64 + 1,
                    input: text.to_owned(),
                    reason: format!("not a {}-character hex digest", digest.len() * 2),
                }),
            }
        }
        Ok((HashedList { digest, hashes }, rejected))
    }

    /// `true` if the address's digest is on the list.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (list, _) = optout::filter::HashedList::read(&b""[..], optout::filter::Digest::Sha256)?;
    /// assert!(!list.contains(&optout::Normalizer::default().address("+14155550123")?));
    /// # Ok(())
    /// # }
    /// ```
    pub fn contains(&self, address: &Address) -> bool {
        self.contains_text(&address.to_string())
    }

    pub(crate) fn contains_text(&self, canonical: &str) -> bool {
        self.hashes.contains(&self.digest.raw(canonical))
    }

    /// The number of digests.
    ///
    /// # Example
    ///
    /// ```
    /// let (list, _) = optout::filter::HashedList::read(&b""[..], optout::filter::Digest::Md5).unwrap();
    /// assert_eq!(list.len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// `true` if there are no digests.
    ///
    /// # Example
    ///
    /// ```
    /// let (list, _) = optout::filter::HashedList::read(&b""[..], optout::filter::Digest::Md5).unwrap();
    /// assert!(list.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }
}

fn parse_hex(text: &str, len: usize) -> Option<[u8; 32]> {
    if text.len() != len * 2 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, slot) in out.iter_mut().take(len).enumerate() {
        *slot = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}
