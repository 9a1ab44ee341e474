//! Compiled keywords: the canonical form of a message looked up in one
//! hash table, then, for messages that are not exactly a keyword, the
//! revocation classifier.

use std::collections::HashMap;

/// The keyword table: fixed keys, looked up by message text (foldhash: a
/// fraction of SipHash's cost on short strings; nothing a sender writes is
/// ever inserted).
pub(crate) type Words = HashMap<String, KeywordHit, foldhash::fast::RandomState>;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::classify::{self, Intent, Lang};
use super::{KeywordHit, KeywordKind, KeywordMatch, Language};
use crate::model::ListId;

/// Compiled keywords: one hash lookup per message for the keywords
/// themselves (a few with [`KeywordMatch::Leading`]), whatever their
/// number, and with [`KeywordMatch::Sentences`] the revocation classifier
/// for every other message.
///
/// # Example
///
/// ```
/// use optout::keyword::{KeywordKind, Keywords};
///
/// let m = Keywords::default().compile(&[]);
/// assert!(m.find(" Stop. ").is_some());
/// assert!(m.find("\"STOP\"").is_some());
/// assert!(m.find("opt   out").is_some());
/// assert_eq!(m.find("Stop texting me").map(|h| h.kind), m.find("STOP").map(|h| h.kind));
/// assert_eq!(m.find("remove me").map(|h| h.kind), Some(KeywordKind::Clarify));
/// assert!(m.find("don't stop sending me deals").is_none());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeywordMatcher {
    words: Words,
    matching: KeywordMatch,
    langs: Vec<Lang>,
    longest_words: usize,
    longest_chars: usize,
}

impl KeywordMatcher {
    pub(crate) fn new(
        words: Words,
        matching: KeywordMatch,
        languages: &[Language],
    ) -> KeywordMatcher {
        let longest_words = words
            .keys()
            .map(|k| k.split(' ').count())
            .max()
            .unwrap_or(0);
        let longest_chars = words.keys().map(String::len).max().unwrap_or(0);
        KeywordMatcher {
            words,
            matching,
            langs: languages.iter().map(|l| lang_of(*l)).collect(),
            longest_words,
            longest_chars,
        }
    }

    /// What a message asks for, if anything: an opt-out (of the system
    /// list, or of the list whose keyword it is), an opt-in, help, or —
    /// with [`KeywordMatch::Sentences`] — a clarification, for a message
    /// that may be a request to stop but is not clearly one.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::keyword::{KeywordKind, Keywords};
    ///
    /// let m = Keywords::default().compile(&[]);
    /// assert_eq!(m.find("HELP!").map(|h| h.kind), Some(KeywordKind::Help));
    /// assert_eq!(m.find("Start? No, STOP").map(|h| h.kind), m.find("stop").map(|h| h.kind));
    /// assert_eq!(m.find("hello"), None);
    /// ```
    pub fn find(&self, message: &str) -> Option<KeywordHit> {
        if let Some(text) = canonical_bounded(message, self.bound()) {
            if let Some(hit) = self.words.get(text.as_str()) {
                return Some(*hit);
            }
            match self.matching {
                KeywordMatch::WholeMessage => return None,
                KeywordMatch::Leading => {
                    let ends = text
                        .match_indices(' ')
                        .map(|(i, _)| i)
                        .take(self.longest_words);
                    let mut best = None;
                    for end in ends {
                        if let Some(hit) = text.get(..end).and_then(|prefix| self.words.get(prefix))
                        {
                            best = Some(*hit);
                        }
                    }
                    // An opt-out word later in the message wins over a
                    // leading opt-in or help word ("Start? No, STOP").
                    return match best {
                        Some(hit) if !matches!(hit.kind, KeywordKind::OptOut(_)) => {
                            match classify::classify(message, &self.langs) {
                                Intent::OptOut(lang) => Some(KeywordHit {
                                    kind: KeywordKind::OptOut(ListId::SYSTEM),
                                    language: Some(language_of(lang)),
                                }),
                                _ => Some(hit),
                            }
                        }
                        other => other,
                    };
                }
                KeywordMatch::Sentences => {
                    // A list's own keyword said politely ("STOPPROMO
                    // please") opts out of that list.
                    let core = classify::core(&text);
                    if core.len() < text.len()
                        && let Some(hit) = self.words.get(core)
                        && matches!(hit.kind, KeywordKind::OptOut(_))
                    {
                        return Some(*hit);
                    }
                }
            }
        } else if self.matching != KeywordMatch::Sentences {
            return None;
        }
        match classify::classify(message, &self.langs) {
            Intent::OptOut(lang) => Some(KeywordHit {
                kind: KeywordKind::OptOut(ListId::SYSTEM),
                language: Some(language_of(lang)),
            }),
            Intent::Clarify(lang) => Some(KeywordHit {
                kind: KeywordKind::Clarify,
                language: Some(language_of(lang)),
            }),
            Intent::None => None,
        }
    }

    /// The number of distinct keywords.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(optout::keyword::Keywords::default().compile(&[]).len() > 20);
    /// ```
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// `true` if there are no keywords (never, with the FCC words).
    ///
    /// # Example
    ///
    /// ```
    /// assert!(!optout::keyword::Keywords::default().compile(&[]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// How much of a message needs canonicalizing for the keyword lookup:
    /// a whole-message match can be no longer than the longest keyword, a
    /// leading one needs only the first words.
    fn bound(&self) -> Bound {
        match self.matching {
            KeywordMatch::WholeMessage => Bound::Whole(self.longest_chars),
            KeywordMatch::Sentences => Bound::Whole(self.longest_chars.max(MAX_CORE_BYTES)),
            KeywordMatch::Leading => Bound::Leading(self.longest_words),
        }
    }
}

/// Room for a list keyword with politeness words around it.
const MAX_CORE_BYTES: usize = 80;

fn lang_of(l: Language) -> Lang {
    match l {
        Language::English => Lang::En,
        Language::Spanish => Lang::Es,
        Language::French => Lang::Fr,
        Language::Portuguese => Lang::Pt,
        Language::German => Lang::De,
    }
}

fn language_of(l: Lang) -> Language {
    match l {
        Lang::En => Language::English,
        Lang::Es => Language::Spanish,
        Lang::Fr => Language::French,
        Lang::Pt => Language::Portuguese,
        Lang::De => Language::German,
    }
}

#[derive(Clone, Copy)]
pub(crate) enum Bound {
    /// Give up when the canonical text exceeds this many bytes.
    Whole(usize),
    /// Keep only the first this many words (plus one, to know there is
    /// more).
    Leading(usize),
}

/// The canonical form of a keyword or message: Unicode-compatibility
/// normalized, accents removed, lower-cased, every run of characters that
/// are not letters or digits turned into one space, trimmed.
/// `Arrêt !` → `arret`, `"OPT-out"` → `opt out`, `ＳＴＯＰ` → `stop`.
pub(crate) fn canonical(text: &str) -> String {
    canonical_bounded(text, Bound::Leading(usize::MAX)).unwrap_or_default()
}

pub(crate) fn canonical_bounded(text: &str, bound: Bound) -> Option<String> {
    // ASCII needs no Unicode decomposition; most messages are ASCII.
    if text.is_ascii() {
        canonical_ascii(text.as_bytes(), bound)
    } else {
        canonical_chars(text.nfkd().filter(|c| !is_combining_mark(*c)), bound)
    }
}

/// [`canonical_bounded`] for ASCII text, byte by byte.
fn canonical_ascii(text: &[u8], bound: Bound) -> Option<String> {
    let mut out: Vec<u8> = Vec::with_capacity(text.len().min(64));
    let mut words = 0usize;
    let mut pending_space = false;
    for &b in text {
        if b.is_ascii_alphanumeric() {
            if pending_space && !out.is_empty() {
                if let Bound::Leading(max) = bound
                    && words >= max
                {
                    out.push(b' ');
                    break;
                }
                out.push(b' ');
            }
            if pending_space || out.is_empty() {
                words += 1;
            }
            pending_space = false;
            out.push(b.to_ascii_lowercase());
            if let Bound::Whole(max) = bound
                && out.len() > max
            {
                return None;
            }
        } else {
            pending_space = true;
        }
    }
    String::from_utf8(out).ok()
}

fn canonical_chars(chars: impl Iterator<Item = char>, bound: Bound) -> Option<String> {
    let mut out = String::with_capacity(64);
    let mut words = 0usize;
    let mut pending_space = false;
    for c in chars {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                if let Bound::Leading(max) = bound
                    && words >= max
                {
                    // One more word than any keyword has: enough to know a
                    // longer phrase follows.
                    out.push(' ');
                    break;
                }
                out.push(' ');
            }
            if pending_space || out.is_empty() {
                words += 1;
            }
            pending_space = false;
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
            if let Bound::Whole(max) = bound
                && out.len() > max
            {
                return None;
            }
        } else {
            pending_space = true;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        assert_eq!(canonical("Arrêt !"), "arret");
        assert_eq!(canonical("  \"OPT-out\"  "), "opt out");
        assert_eq!(canonical("ＳＴＯＰ"), "stop");
        assert_eq!(canonical("🛑 stop 🛑"), "stop");
        assert_eq!(canonical("opt   out"), "opt out");
        assert_eq!(canonical("¡BAJA!"), "baja");
        assert_eq!(canonical("STÖRNIEREN"), "stornieren");
        assert_eq!(canonical("..."), "");
    }

    #[test]
    fn bounded_canonical_gives_up_early() {
        let long = "stop ".repeat(1000);
        assert_eq!(canonical_bounded(&long, Bound::Whole(11)), None);
        assert_eq!(
            canonical_bounded("stop sending me these", Bound::Leading(2)).as_deref(),
            Some("stop sending ")
        );
    }
}
