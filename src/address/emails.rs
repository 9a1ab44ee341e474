//! The email table: canonical addresses interned into dense indexes, which
//! become their ids.
//!
//! Indexes are handed out in insertion order and never reused, so an id
//! stays valid for the life of the store (and, through its snapshot and
//! log, across processes). Addresses are kept in the form the store's
//! alias policy keys them on.

use indexmap::IndexSet;

use super::{AddressId, Email, EmailAliases};
use crate::error::{Error, ErrorKind};

#[derive(Clone, Debug, Default)]
pub(crate) struct EmailTable {
    emails: IndexSet<Key, foldhash::fast::RandomState>,
    aliases: EmailAliases,
}

/// A table entry: an address in key form, which never holds the NUL of a
/// folded address, so it hashes and compares as its whole text without
/// looking for one.
#[derive(Clone, Debug)]
struct Key(Email);

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.raw().hash(state);
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.0.raw() == other.0.raw()
    }
}

impl Eq for Key {}

impl std::borrow::Borrow<str> for Key {
    fn borrow(&self) -> &str {
        self.0.raw()
    }
}

impl EmailTable {
    pub(crate) fn new(aliases: EmailAliases) -> EmailTable {
        EmailTable {
            emails: IndexSet::default(),
            aliases,
        }
    }

    /// A table of addresses in key form (checked to hold no NUL), in
    /// index order; `None` if one appears twice.
    pub(crate) fn from_keys(keys: Vec<Email>, aliases: EmailAliases) -> Option<EmailTable> {
        let n = keys.len();
        let mut emails =
            IndexSet::with_capacity_and_hasher(n, foldhash::fast::RandomState::default());
        emails.extend(keys.into_iter().map(Key));
        (emails.len() == n).then_some(EmailTable { emails, aliases })
    }

    pub(crate) fn aliases(&self) -> EmailAliases {
        self.aliases
    }

    /// The id of `email` (keyed under the table's policy), adding it if new.
    pub(crate) fn intern(&mut self, email: &Email) -> Result<AddressId, Error> {
        let key = email.key(self.aliases);
        if let Some(index) = self.emails.get_index_of(&*key) {
            return Ok(index_to_id(index));
        }
        let index = u32::try_from(self.emails.len()).map_err(|_| ErrorKind::EmailTableFull)?;
        self.emails.insert(Key(Email::from_canonical(&key)));
        Ok(AddressId::from_email_index(index))
    }

    /// The id of `email`, if it is in the table.
    pub(crate) fn id(&self, email: &Email) -> Option<AddressId> {
        self.id_of_key(&email.key(self.aliases))
    }

    /// The id of an address already in the table's key form.
    pub(crate) fn id_of_key(&self, key: &str) -> Option<AddressId> {
        self.emails.get_index_of(key).map(index_to_id)
    }

    /// The address behind an email id.
    pub(crate) fn email(&self, id: AddressId) -> Option<&Email> {
        let index = usize::try_from(id.email_index()?).ok()?;
        self.emails.get_index(index).map(|k| &k.0)
    }

    /// The first email id past the table, if there is one.
    pub(crate) fn end(&self) -> Option<u64> {
        super::id::EMAIL_BASE.checked_add(self.emails.len() as u64)
    }

    pub(crate) fn len(&self) -> usize {
        self.emails.len()
    }

    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = &Email> + '_ {
        self.emails.iter().map(|k| &k.0)
    }
}

impl PartialEq for EmailTable {
    fn eq(&self, other: &EmailTable) -> bool {
        self.aliases == other.aliases
            && self.emails.len() == other.emails.len()
            && self
                .emails
                .iter()
                .zip(other.emails.iter())
                .all(|(a, b)| a == b)
    }
}

fn index_to_id(index: usize) -> AddressId {
    // `intern` refuses to grow past u32::MAX entries, so every index fits.
    AddressId::from_email_index(index as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Normalizer;

    #[test]
    fn interns_under_the_tables_policy() {
        let keep = Normalizer::default();
        let fold = Normalizer::builder()
            .email_aliases(EmailAliases::Fold)
            .build();
        let mut table = EmailTable::new(EmailAliases::Fold);
        let a = table
            .intern(&keep.email("J.Doe+x@gmail.com").unwrap())
            .unwrap();
        assert_eq!(table.id(&fold.email("jdoe@gmail.com").unwrap()), Some(a));
        assert_eq!(table.id(&keep.email("j.d.o.e@gmail.com").unwrap()), Some(a));
        assert_eq!(table.email(a).unwrap().as_str(), "jdoe@gmail.com");

        let mut table = EmailTable::new(EmailAliases::Keep);
        let b = table
            .intern(&fold.email("J.Doe+x@gmail.com").unwrap())
            .unwrap();
        assert_eq!(table.id(&keep.email("j.doe+x@gmail.com").unwrap()), Some(b));
        assert_eq!(table.id(&keep.email("jdoe@gmail.com").unwrap()), None);
        assert_eq!(table.email(b).unwrap().as_str(), "j.doe+x@gmail.com");
    }
}
