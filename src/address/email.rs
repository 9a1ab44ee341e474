//! Email addresses: syntax check, canonical form and optional alias folding.

use std::borrow::Borrow;
use std::fmt;

use email_address::{EmailAddress, Options};

/// Longest input looked at, in bytes: a 64-byte local part, `@` and a
/// 255-byte domain.
const MAX_INPUT_BYTES: usize = 320;

/// A canonical email address: trimmed, lower-cased, with its domain in
/// IDNA ASCII form, and its provider aliases folded when it was normalized
/// with [`EmailAliases::Fold`].
///
/// A folded address remembers the address it was folded from
/// ([`Email::unfolded`]), so a store that keeps aliases apart still finds
/// the person it names.
///
/// # Example
///
/// ```
/// use optout::Normalizer;
/// use optout::address::EmailAliases;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let email = Normalizer::default().email("  Ann.Lee@Bücher.Example ")?;
/// assert_eq!(email.as_str(), "ann.lee@xn--bcher-kva.example");
/// assert_eq!(email.local_part(), "ann.lee");
/// assert_eq!(email.domain(), "xn--bcher-kva.example");
///
/// let fold = Normalizer::builder().email_aliases(EmailAliases::Fold).build();
/// let folded = fold.email("Ann.Lee+news@gmail.com")?;
/// assert_eq!(folded.as_str(), "annlee@gmail.com");
/// assert_eq!(folded.unfolded(), "ann.lee+news@gmail.com");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Email(
    /// The address; when folding changed it, followed by a NUL and the
    /// address before folding (canonical addresses never hold a NUL).
    Box<str>,
);

impl Email {
    /// Wraps text already known to be canonical (from a snapshot or log).
    pub(crate) fn from_canonical(text: &str) -> Email {
        Email(text.into())
    }

    /// Returns the canonical address (folded, if it was normalized with
    /// [`EmailAliases::Fold`]).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// assert_eq!(Normalizer::default().email("A@B.CO")?.as_str(), "a@b.co");
    /// # Ok(())
    /// # }
    /// ```
    pub fn as_str(&self) -> &str {
        match self.nul() {
            Some(i) => self.0.get(..i).unwrap_or(&self.0),
            None => &self.0,
        }
    }

    /// Where the NUL between the folded and the original address is, if
    /// folding changed it (a short loop: cheaper than a search call on
    /// addresses this short).
    #[inline]
    fn nul(&self) -> Option<usize> {
        self.0.bytes().position(|b| b == 0)
    }

    /// The stored text, NUL and original included.
    pub(super) fn raw(&self) -> &str {
        &self.0
    }

    /// Returns the canonical address before alias folding: the same as
    /// [`Email::as_str`] unless folding changed it.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// assert_eq!(Normalizer::default().email("j.doe+x@gmail.com")?.unfolded(), "j.doe+x@gmail.com");
    /// # Ok(())
    /// # }
    /// ```
    pub fn unfolded(&self) -> &str {
        match self.nul() {
            Some(i) => self.0.get(i + 1..).unwrap_or(&self.0),
            None => &self.0,
        }
    }

    /// The address under an alias policy: what a store with that policy
    /// keys it on.
    pub(crate) fn key(&self, aliases: EmailAliases) -> std::borrow::Cow<'_, str> {
        match aliases {
            EmailAliases::Keep => self.unfolded().into(),
            EmailAliases::Fold if self.nul().is_some() => self.as_str().into(),
            EmailAliases::Fold => match fold_checked(self.as_str()) {
                Some(folded) => folded.into(),
                None => self.as_str().into(),
            },
        }
    }

    /// This address as a store with `aliases` keys it.
    pub(crate) fn under(&self, aliases: EmailAliases) -> Email {
        match self.key(aliases) {
            std::borrow::Cow::Borrowed(s) if s.len() == self.0.len() => self.clone(),
            key => Email::from_canonical(&key),
        }
    }

    /// Returns the part before the last `@`.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// assert_eq!(Normalizer::default().email("ann@example.com")?.local_part(), "ann");
    /// # Ok(())
    /// # }
    /// ```
    pub fn local_part(&self) -> &str {
        self.as_str()
            .rsplit_once('@')
            .map_or("", |(local, _)| local)
    }

    /// Returns the domain, in ASCII form.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Normalizer;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// assert_eq!(Normalizer::default().email("ann@EXAMPLE.com")?.domain(), "example.com");
    /// # Ok(())
    /// # }
    /// ```
    pub fn domain(&self) -> &str {
        self.as_str()
            .rsplit_once('@')
            .map_or("", |(_, domain)| domain)
    }
}

impl PartialEq for Email {
    fn eq(&self, other: &Email) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Email {}

impl std::hash::Hash for Email {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for Email {
    fn partial_cmp(&self, other: &Email) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Email {
    fn cmp(&self, other: &Email) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Email {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Borrow<str> for Email {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// Whether provider aliases fold into one address.
///
/// With [`EmailAliases::Fold`], addresses that a provider delivers to the
/// same mailbox become one:
///
/// * `gmail.com` and `googlemail.com`: dots in the local part are dropped,
///   a `+tag` is dropped, and the domain becomes `gmail.com`;
/// * `outlook.com`, `hotmail.com`, `live.com`, `msn.com`, `icloud.com`,
///   `me.com`, `mac.com`, `fastmail.com`, `proton.me`, `protonmail.com`,
///   `pm.me`: a `+tag` is dropped.
///
/// Folding is off by default: it merges addresses on a provider's word, and
/// an opt-out recorded for a folded address cannot be unfolded.
///
/// # Example
///
/// ```
/// use optout::Normalizer;
/// use optout::address::EmailAliases;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let keep = Normalizer::default();
/// let fold = Normalizer::builder().email_aliases(EmailAliases::Fold).build();
/// assert_eq!(keep.email("Ann.Lee+news@googlemail.com")?.as_str(), "ann.lee+news@googlemail.com");
/// assert_eq!(fold.email("Ann.Lee+news@googlemail.com")?.as_str(), "annlee@gmail.com");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EmailAliases {
    /// Keep every address as written (after canonicalization).
    #[default]
    Keep,
    /// Fold known provider aliases into one address.
    Fold,
}

/// Why an input is not a usable email address.
///
/// # Example
///
/// ```
/// use optout::Normalizer;
/// use optout::address::EmailReason;
///
/// let n = Normalizer::default();
/// assert_eq!(n.email("ann.example.com"), Err(EmailReason::MissingAt));
/// assert_eq!(n.email("ann@localhost"), Err(EmailReason::InvalidDomain));
/// assert_eq!(EmailReason::MissingAt.to_string(), "missing @");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum EmailReason {
    /// Nothing but whitespace.
    Empty,
    /// Longer than 320 bytes.
    InputTooLong,
    /// No `@`.
    MissingAt,
    /// The part before the `@` is empty, too long or has a character that
    /// is not allowed.
    InvalidLocalPart,
    /// The domain is empty, too long, has no dot, is an IP literal, or is
    /// not a valid (internationalized) domain name.
    InvalidDomain,
    /// A display name (`Ann <ann@example.com>`): give the bare address.
    DisplayName,
}

impl fmt::Display for EmailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EmailReason::Empty => "empty",
            EmailReason::InputTooLong => "longer than 320 bytes",
            EmailReason::MissingAt => "missing @",
            EmailReason::InvalidLocalPart => "invalid local part",
            EmailReason::InvalidDomain => "invalid domain",
            EmailReason::DisplayName => "has a display name",
        })
    }
}

impl std::error::Error for EmailReason {}

/// At least two domain labels, no IP literals, no display names. Built with
/// the crate's setters so that options it adds keep their defaults.
fn options() -> Options {
    Options::default()
        .with_minimum_sub_domains(2)
        .without_domain_literal()
        .without_display_text()
}

/// Canonicalizes one address.
pub(crate) fn normalize(input: &str, aliases: EmailAliases) -> Result<Email, EmailReason> {
    let input = input.trim();
    if input.is_empty() {
        return Err(EmailReason::Empty);
    }
    if input.len() > MAX_INPUT_BYTES {
        return Err(EmailReason::InputTooLong);
    }
    let Some((local, domain)) = input.rsplit_once('@') else {
        return Err(EmailReason::MissingAt);
    };
    if input.contains('<') || input.contains('>') {
        return Err(EmailReason::DisplayName);
    }
    if input.contains('\0') {
        return Err(EmailReason::InvalidLocalPart);
    }
    let canonical = match fast(local, domain) {
        Some(canonical) => canonical,
        None => slow(input, local, domain)?,
    };
    Ok(match aliases {
        EmailAliases::Keep => Email(canonical.into_boxed_str()),
        EmailAliases::Fold => match fold_checked(&canonical) {
            Some(folded) => Email(format!("{folded}\0{canonical}").into_boxed_str()),
            None => Email(canonical.into_boxed_str()),
        },
    })
}

/// The folded form of a canonical address, when folding changes it and
/// leaves a valid address. Folding can leave an address that is not valid
/// on its own (`a.+tag@pm.me` → `a.@pm.me`); such addresses stay unfolded,
/// so that every canonical address normalizes to itself.
fn fold_checked(canonical: &str) -> Option<String> {
    let folded = fold(canonical.to_owned());
    (folded != canonical && normalize(&folded, EmailAliases::Keep).is_ok()).then_some(folded)
}

/// The common case, checked by hand: an ASCII dot-atom local part and an
/// ASCII host name of at least two labels, none of them punycode. Returns
/// `None` for anything else, which the slow path then decides.
fn fast(local: &str, domain: &str) -> Option<String> {
    fn atom_char(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b)
    }
    if local.is_empty() || local.len() > 64 || domain.len() > 253 {
        return None;
    }
    let dot_atom = local
        .split('.')
        .all(|a| !a.is_empty() && a.bytes().all(atom_char));
    if !dot_atom {
        return None;
    }
    let mut labels = 0;
    for label in domain.split('.') {
        let bytes = label.as_bytes();
        let ok = !bytes.is_empty()
            && bytes.len() <= 63
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            && bytes.first() != Some(&b'-')
            && bytes.last() != Some(&b'-')
            && !(bytes.len() >= 4 && bytes.get(2..4) == Some(b"--"));
        if !ok {
            return None;
        }
        labels += 1;
    }
    if labels < 2 {
        return None;
    }
    let mut out = String::with_capacity(local.len() + 1 + domain.len());
    out.push_str(local);
    out.push('@');
    out.push_str(domain);
    out.make_ascii_lowercase();
    Some(out)
}

/// Everything the fast path declines: quoted local parts, Unicode, punycode.
fn slow(input: &str, local: &str, domain: &str) -> Result<String, EmailReason> {
    if let Err(err) = EmailAddress::parse_with_options(input, options()) {
        use email_address::Error as E;
        return Err(match err {
            E::MissingSeparator => EmailReason::MissingAt,
            E::LocalPartEmpty | E::LocalPartTooLong | E::UnbalancedQuotes | E::InvalidComment => {
                EmailReason::InvalidLocalPart
            }
            E::UnsupportedDisplayName | E::MissingDisplayName | E::MissingEndBracket => {
                EmailReason::DisplayName
            }
            E::InvalidCharacter if !EmailAddress::is_valid_local_part(local) => {
                EmailReason::InvalidLocalPart
            }
            _ => EmailReason::InvalidDomain,
        });
    }
    let ascii = idna::domain_to_ascii_strict(domain).map_err(|_| EmailReason::InvalidDomain)?;
    if ascii.len() > 253 || !ascii.contains('.') {
        return Err(EmailReason::InvalidDomain);
    }
    let lower = local.to_lowercase();
    // Lower-casing can lengthen a local part (`İ` becomes `i` and a
    // combining dot): the canonical form must still be a valid address.
    if lower != local && !EmailAddress::is_valid_local_part(&lower) {
        return Err(EmailReason::InvalidLocalPart);
    }
    let mut out = lower;
    out.push('@');
    out.push_str(&ascii);
    Ok(out)
}

/// Providers whose mailboxes ignore a `+tag`.
const PLUS_PROVIDERS: &[&str] = &[
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "fastmail.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
];

fn fold(canonical: String) -> String {
    let Some((local, domain)) = canonical.rsplit_once('@') else {
        return canonical;
    };
    let untagged = if local.starts_with('"') {
        return canonical;
    } else {
        local.split_once('+').map_or(local, |(base, _)| base)
    };
    if untagged.is_empty() {
        return canonical;
    }
    match domain {
        "gmail.com" | "googlemail.com" => {
            let mut out: String = untagged.chars().filter(|&c| c != '.').collect();
            if out.is_empty() {
                return canonical;
            }
            out.push_str("@gmail.com");
            out
        }
        d if PLUS_PROVIDERS.contains(&d) => format!("{untagged}@{d}"),
        _ => canonical,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> Result<String, EmailReason> {
        normalize(s, EmailAliases::Keep).map(|e| e.as_str().to_owned())
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(canon(" Ann@Example.COM "), Ok("ann@example.com".into()));
        assert_eq!(canon("ÅSA@Exämple.se"), Ok("åsa@xn--exmple-cua.se".into()));
        assert_eq!(
            canon("\"john doe\"@example.com"),
            Ok("\"john doe\"@example.com".into())
        );
        assert_eq!(
            canon("x@xn--bcher-kva.example"),
            Ok("x@xn--bcher-kva.example".into())
        );
    }

    #[test]
    fn reasons() {
        assert_eq!(canon(""), Err(EmailReason::Empty));
        assert_eq!(canon("nobody"), Err(EmailReason::MissingAt));
        assert_eq!(canon("@example.com"), Err(EmailReason::InvalidLocalPart));
        assert_eq!(canon("a b@example.com"), Err(EmailReason::InvalidLocalPart));
        assert_eq!(canon("a@"), Err(EmailReason::InvalidDomain));
        assert_eq!(canon("a@localhost"), Err(EmailReason::InvalidDomain));
        assert_eq!(canon("a@[127.0.0.1]"), Err(EmailReason::InvalidDomain));
        assert_eq!(canon("a@-bad-.com"), Err(EmailReason::InvalidDomain));
        assert_eq!(
            canon("Ann <ann@example.com>"),
            Err(EmailReason::DisplayName)
        );
        assert_eq!(
            canon(&format!("{}@example.com", "a".repeat(65))),
            Err(EmailReason::InvalidLocalPart)
        );
        assert_eq!(canon(&"a".repeat(400)), Err(EmailReason::InputTooLong));
    }

    #[test]
    fn folding() {
        let f = |s: &str| normalize(s, EmailAliases::Fold).map(|e| e.as_str().to_owned());
        assert_eq!(f("J.Doe+x@gmail.com"), Ok("jdoe@gmail.com".into()));
        assert_eq!(f("jdoe@googlemail.com"), Ok("jdoe@gmail.com".into()));
        assert_eq!(f("j.doe+x@outlook.com"), Ok("j.doe@outlook.com".into()));
        assert_eq!(f("j.doe+x@example.com"), Ok("j.doe+x@example.com".into()));
        assert_eq!(f("+x@gmail.com"), Ok("+x@gmail.com".into()));
    }

    #[test]
    fn folding_never_makes_an_invalid_address() {
        // Found by the `email` fuzz target: the `+tag` after a dot.
        let f = |s: &str| normalize(s, EmailAliases::Fold).map(|e| e.as_str().to_owned());
        assert_eq!(f("a.+tag@pm.me"), Ok("a.+tag@pm.me".into()));
        assert_eq!(f("a.+tag@gmail.com"), Ok("a@gmail.com".into()));
        let odd = "\u{fffd}vMm.\u{fffd}\u{fffd}M\u{69c}M.+@pm.me";
        if let Ok(e) = normalize(odd, EmailAliases::Fold) {
            assert_eq!(normalize(e.as_str(), EmailAliases::Fold), Ok(e));
        }
    }

    #[test]
    fn fast_path_agrees_with_slow_path() {
        let samples = [
            "a@b.co",
            "A.B@C.D.EXAMPLE",
            "x+y@ex-ample.com",
            "a..b@example.com",
            ".a@example.com",
            "a@example..com",
            "a@-example.com",
            "a@example-.com",
            "a@ex_ample.com",
            "a@xn--a.com",
            "o'neil@example.ie",
            "a@b",
            "a@123.com",
            "a@b.c0m",
            "{x}@example.org",
        ];
        for s in samples {
            let (local, domain) = s.rsplit_once('@').unwrap();
            if let Some(fast) = fast(local, domain) {
                assert_eq!(Ok(fast), slow(s, local, domain), "{s}");
            }
        }
    }
}
