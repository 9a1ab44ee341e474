//! Inbound keywords and revocations: STOP, START, HELP and their kin in
//! several languages, and the sentences people write instead.
//!
//! A reply is first looked up as a whole in the compiled keywords (one
//! hash lookup, whatever their number). With the default
//! [`KeywordMatch::Sentences`], a reply that is not exactly a keyword then
//! goes to the revocation classifier, which follows the US FCC rule on
//! revoking consent (FCC 24-24, 47 CFR 64.1200(a)(10), in force since
//! 2025-04-11, <https://www.govinfo.gov/content/pkg/FR-2024-03-05/html/2024-04587.htm>):
//!
//! * the words stop, quit, end, revoke, opt out, cancel and unsubscribe
//!   *used in a reply* revoke consent, and other wording does too "if a
//!   reasonable person would understand those words to have conveyed a
//!   request to revoke consent". So "Please stop", "Stop texting me",
//!   "unsubscribe me" and "Cancel my subscription" are opt-outs, like
//!   STOP;
//! * a reply that may be a revocation but is not clearly one ("remove
//!   me", "no more texts", "leave me alone", "I want to cancel") is a
//!   [`KeywordKind::Clarify`]: nothing is recorded as an opt-out, and the
//!   sender is asked once. Under 47 CFR 64.1200(a)(12) the sender "must
//!   cease all further texts for which consent is required absent further
//!   clarification that the recipient wishes to continue", so until the
//!   person answers, marketing to them is suppressed (see
//!   [`Store::inbound`](crate::Store::inbound));
//! * ordinary messages, including ones that use a word in another sense
//!   ("don't stop sending me deals", "when does the sale end?", "can I
//!   cancel my order?"), are nothing.
//!
//! An opt-out word anywhere in a reply wins over opt-in and help words:
//! "Yes stop" and "Start? No, STOP" opt out. [`KeywordMatch::WholeMessage`]
//! keeps the exact-keyword behaviour of carriers' own filters (Twilio's
//! "only single-word messages will trigger the block",
//! <https://www.twilio.com/help/faq/sms/does-twilio-support-stop-block-and-cancel-aka-sms-filtering>),
//! which is below what the rule asks for.

use crate::error::{Error, ErrorKind, ListField};
use crate::model::{ListId, MAX_MESSAGE_CHARS};
use crate::persist::codec::{Reader, Writer};

mod classify;
mod language;
mod matcher;

pub use language::{FCC_REVOCATION_WORDS, Language};
pub use matcher::KeywordMatcher;
pub(crate) use matcher::canonical;

use language::language_code;

/// How replies are matched.
///
/// # Example
///
/// ```
/// use optout::keyword::{KeywordMatch, Keywords};
///
/// let sentences = Keywords::default().compile(&[]);
/// let exact = Keywords::default().matching(KeywordMatch::WholeMessage).compile(&[]);
/// let leading = Keywords::default().matching(KeywordMatch::Leading).compile(&[]);
/// assert!(sentences.find("STOP sending me these").is_some());
/// assert!(exact.find("STOP sending me these").is_none());
/// assert!(leading.find("STOP sending me these").is_some());
/// assert!(leading.find("don't stop the deals").is_none());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum KeywordMatch {
    /// Keywords, and sentences that ask to stop (opt-out) or may ask to
    /// (clarify), as the FCC rule requires (the default).
    #[default]
    Sentences,
    /// The whole message must be a keyword (carriers' exact filters).
    /// Sentences that ask to stop ("Please stop texting me") are not
    /// recognised, which falls short of 47 CFR 64.1200(a)(10): choose it
    /// only where another system reads the rest.
    WholeMessage,
    /// The whole message, or its first words, must be a keyword; an
    /// opt-out word later in a message that starts with another keyword
    /// still wins. Sentences that ask to stop without starting with a
    /// keyword ("I said stop") are not recognised, as with
    /// [`KeywordMatch::WholeMessage`].
    Leading,
}

/// What a reply asks for.
///
/// # Example
///
/// ```
/// use optout::keyword::{KeywordKind, Keywords};
/// use optout::model::ListId;
///
/// let m = Keywords::default().compile(&[]);
/// assert_eq!(m.find("stop").map(|h| h.kind), Some(KeywordKind::OptOut(ListId::SYSTEM)));
/// assert_eq!(m.find("start").map(|h| h.kind), Some(KeywordKind::OptIn));
/// assert_eq!(m.find("leave me alone").map(|h| h.kind), Some(KeywordKind::Clarify));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeywordKind {
    /// Opt out of this list (the system list for the generic words).
    OptOut(ListId),
    /// Opt back in.
    OptIn,
    /// Ask for help.
    Help,
    /// May be a request to stop, but not clearly: ask once.
    Clarify,
}

/// A keyword found in a message.
///
/// # Example
///
/// ```
/// use optout::keyword::{Keywords, Language};
///
/// let hit = Keywords::default().compile(&[]).find("Arrêt !").unwrap();
/// assert_eq!(hit.language, Some(Language::French));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct KeywordHit {
    /// What the reply asks for.
    pub kind: KeywordKind,
    /// The language of the words that decided it, for shipped words.
    pub language: Option<Language>,
}

/// Keyword settings for an account or a channel: which languages' default
/// keywords apply, added and removed keywords, the matching policy and the
/// replies.
///
/// The seven FCC revocation words always stay opt-out keywords.
///
/// # Example
///
/// ```
/// use optout::keyword::{KeywordKind, Keywords, Language};
/// use optout::model::ListId;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let keywords = Keywords::default()
///     .languages([Language::English, Language::Spanish])
///     .add_opt_out("ENOUGH")
///     .remove("INFO")?;
/// let m = keywords.compile(&[]);
/// assert_eq!(m.find("enough!").map(|h| h.kind), Some(KeywordKind::OptOut(ListId::SYSTEM)));
/// assert!(m.find("info").is_none());
/// assert!(m.find("arret").is_none()); // French is not enabled here
/// assert!(Keywords::default().remove("STOP").is_err()); // FCC word
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Keywords {
    languages: Vec<Language>,
    extra: Vec<(String, ExtraKind)>,
    removed: Vec<String>,
    matching: KeywordMatch,
    opt_in_reply: Option<String>,
    help_reply: Option<String>,
    #[cfg_attr(feature = "serde", serde(default))]
    clarify_reply: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
enum ExtraKind {
    OptOut,
    OptIn,
    Help,
}

impl Default for Keywords {
    /// Every shipped language, sentence matching, default replies.
    fn default() -> Keywords {
        Keywords {
            languages: Language::ALL.to_vec(),
            extra: Vec::new(),
            removed: Vec::new(),
            matching: KeywordMatch::Sentences,
            opt_in_reply: None,
            help_reply: None,
            clarify_reply: None,
        }
    }
}

impl Keywords {
    /// Uses only these languages' default keywords and sentence words
    /// (English's FCC words always apply).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::keyword::{Keywords, Language};
    ///
    /// let m = Keywords::default().languages([Language::German]).compile(&[]);
    /// assert!(m.find("stopp").is_some());
    /// assert!(m.find("stop").is_some()); // FCC word
    /// assert!(m.find("baja").is_none());
    /// ```
    pub fn languages(mut self, languages: impl IntoIterator<Item = Language>) -> Keywords {
        self.languages = languages.into_iter().collect();
        self
    }

    /// Adds an opt-out keyword (for the system list).
    ///
    /// # Example
    ///
    /// ```
    /// let m = optout::keyword::Keywords::default().add_opt_out("NO MORE").compile(&[]);
    /// assert!(m.find("no  more!").is_some());
    /// ```
    pub fn add_opt_out(mut self, word: impl Into<String>) -> Keywords {
        self.extra.push((word.into(), ExtraKind::OptOut));
        self
    }

    /// Adds an opt-in keyword. Adding `YES` makes any YES from an
    /// opted-out customer resubscribe them — including a YES that answers
    /// a utility text ("Reply YES to confirm your appointment"); see
    /// [`Language::opt_in_words`].
    ///
    /// # Example
    ///
    /// ```
    /// use optout::keyword::{KeywordKind, Keywords};
    ///
    /// let m = Keywords::default().add_opt_in("RESUME").compile(&[]);
    /// assert_eq!(m.find("resume").map(|h| h.kind), Some(KeywordKind::OptIn));
    /// assert_eq!(Keywords::default().compile(&[]).find("yes"), None);
    /// ```
    pub fn add_opt_in(mut self, word: impl Into<String>) -> Keywords {
        self.extra.push((word.into(), ExtraKind::OptIn));
        self
    }

    /// Adds a help keyword.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::keyword::{KeywordKind, Keywords};
    ///
    /// let m = Keywords::default().add_help("SUPPORT").compile(&[]);
    /// assert_eq!(m.find("support").map(|h| h.kind), Some(KeywordKind::Help));
    /// ```
    pub fn add_help(mut self, word: impl Into<String>) -> Keywords {
        self.extra.push((word.into(), ExtraKind::Help));
        self
    }

    /// Removes a default keyword. With [`KeywordMatch::Sentences`] a
    /// removed opt-out word is still read as a request to stop where a
    /// reasonable person would read it so (STOPALL, say): removing it only
    /// takes it off the exact-keyword list.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::ProtectedKeyword`] for the FCC revocation words.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let m = optout::keyword::Keywords::default().remove("info")?.compile(&[]);
    /// assert!(m.find("info").is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn remove(mut self, word: &str) -> Result<Keywords, Error> {
        let key = canonical(word);
        if FCC_REVOCATION_WORDS.iter().any(|w| canonical(w) == key) {
            return Err(ErrorKind::ProtectedKeyword {
                keyword: word.to_owned(),
            }
            .into());
        }
        self.removed.push(key);
        Ok(self)
    }

    /// Sets the matching policy.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::keyword::{KeywordMatch, Keywords};
    ///
    /// let k = Keywords::default().matching(KeywordMatch::WholeMessage);
    /// assert_eq!(k.matching_policy(), KeywordMatch::WholeMessage);
    /// ```
    pub fn matching(mut self, matching: KeywordMatch) -> Keywords {
        self.matching = matching;
        self
    }

    /// Sets the reply to an opt-in (at most 300 characters).
    ///
    /// # Example
    ///
    /// ```
    /// let k = optout::keyword::Keywords::default().opt_in_reply("Welcome back!");
    /// assert!(k.validate().is_ok());
    /// ```
    pub fn opt_in_reply(mut self, text: impl Into<String>) -> Keywords {
        self.opt_in_reply = Some(text.into());
        self
    }

    /// Sets the reply to a help request (at most 300 characters).
    ///
    /// # Example
    ///
    /// ```
    /// let k = optout::keyword::Keywords::default().help_reply("Acme: call 555-0100. Reply STOP to opt out.");
    /// assert!(k.validate().is_ok());
    /// ```
    pub fn help_reply(mut self, text: impl Into<String>) -> Keywords {
        self.help_reply = Some(text.into());
        self
    }

    /// Sets the clarification question (at most 300 characters), sent once
    /// to a reply that may be a request to stop but is not clearly one. It
    /// must carry no marketing; it should say how to stop (STOP) and how to
    /// keep receiving messages (START).
    ///
    /// # Example
    ///
    /// ```
    /// let k = optout::keyword::Keywords::default()
    ///     .clarify_reply("Acme: reply STOP to end all texts, or START to keep them coming.");
    /// assert!(k.validate().is_ok());
    /// ```
    pub fn clarify_reply(mut self, text: impl Into<String>) -> Keywords {
        self.clarify_reply = Some(text.into());
        self
    }

    /// The matching policy.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::keyword::{KeywordMatch, Keywords};
    ///
    /// assert_eq!(Keywords::default().matching_policy(), KeywordMatch::Sentences);
    /// ```
    pub fn matching_policy(&self) -> KeywordMatch {
        self.matching
    }

    /// Checks the replies' lengths and that added keywords are usable.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::TooLong`] for a reply over 300 characters,
    /// [`ErrorKind::InvalidList`] for an empty keyword or an opt-in or help
    /// word that begins with an opt-out word.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(optout::keyword::Keywords::default().help_reply("x".repeat(301)).validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), Error> {
        self.check_shape()?;
        self.check_words()
    }

    /// Checks the limits that do not depend on this version's word lists,
    /// so settings recorded by another version stay readable.
    pub(crate) fn check_shape(&self) -> Result<(), Error> {
        for text in [&self.opt_in_reply, &self.help_reply, &self.clarify_reply]
            .into_iter()
            .flatten()
        {
            let chars = text.chars().count();
            if chars > MAX_MESSAGE_CHARS {
                return Err(ErrorKind::TooLong {
                    field: ListField::Confirmation,
                    limit: MAX_MESSAGE_CHARS,
                    actual: chars,
                }
                .into());
            }
        }
        if self.extra.iter().any(|(w, _)| canonical(w).is_empty()) {
            return Err(Error::invalid_list(ListField::Keyword, "must not be empty"));
        }
        Ok(())
    }

    /// Checks that no opt-in or help word reads as an opt-out with this
    /// version's words and classifier.
    fn check_words(&self) -> Result<(), Error> {
        for (word, kind) in &self.extra {
            if *kind == ExtraKind::OptOut {
                continue;
            }
            if let Some(reason) = self.reads_as_opt_out(word) {
                return Err(Error::invalid_list(
                    ListField::Keyword,
                    format!("{word:?} {reason}, so it cannot opt in or ask for help"),
                ));
            }
        }
        Ok(())
    }

    /// Why `word` reads as an opt-out, if it does. An opt-in or help word
    /// must hold no opt-out word, at its start or anywhere in it, and must
    /// not read as a request to stop: with leading matching "STOP PLEASE",
    /// and as a whole word "YES STOP", would turn a revocation into a
    /// resubscription.
    fn reads_as_opt_out(&self, word: &str) -> Option<String> {
        let opt_out = |key: &str| {
            matches!(builtin_meaning(key), Some(m) if m == OPTS_OUT)
                || self
                    .extra
                    .iter()
                    .any(|(w, k)| *k == ExtraKind::OptOut && canonical(w) == key)
        };
        let key = canonical(word);
        let words: Vec<&str> = key.split(' ').collect();
        for start in 0..words.len() {
            for end in start + 1..=words.len() {
                let part = words.get(start..end).unwrap_or_default().join(" ");
                if opt_out(&part) {
                    return Some(format!("holds the opt-out keyword {part:?}"));
                }
            }
        }
        if classify::classify(word, &ALL_LANGS) != classify::Intent::None {
            return Some("reads as a request to stop".into());
        }
        None
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.len(self.languages.len());
        for l in &self.languages {
            w.u8(language_code(*l));
        }
        w.len(self.extra.len());
        for (word, kind) in &self.extra {
            w.str(word);
            w.u8(match kind {
                ExtraKind::OptOut => 0,
                ExtraKind::OptIn => 1,
                ExtraKind::Help => 2,
            });
        }
        w.len(self.removed.len());
        for word in &self.removed {
            w.str(word);
        }
        w.u8(match self.matching {
            KeywordMatch::WholeMessage => 0,
            KeywordMatch::Leading => 1,
            KeywordMatch::Sentences => 2,
        });
        w.opt_str(self.opt_in_reply.as_deref());
        w.opt_str(self.help_reply.as_deref());
        w.opt_str(self.clarify_reply.as_deref());
    }

    /// Reads settings written by format `version` (1: no clarification
    /// reply; its whole-message default becomes the sentence default).
    pub(crate) fn decode(r: &mut Reader<'_>, version: u32) -> Result<Keywords, Error> {
        let n = r.len(1)?;
        let mut languages = Vec::with_capacity(n);
        for _ in 0..n {
            let code = r.u8()?;
            languages.push(
                Language::ALL
                    .into_iter()
                    .find(|l| language_code(*l) == code)
                    .ok_or_else(|| r.corrupt(format!("unknown language {code}")))?,
            );
        }
        let n = r.len(9)?;
        let mut extra = Vec::with_capacity(n);
        for _ in 0..n {
            let word = r.str()?.to_owned();
            let kind = match r.u8()? {
                0 => ExtraKind::OptOut,
                1 => ExtraKind::OptIn,
                2 => ExtraKind::Help,
                other => return Err(r.corrupt(format!("unknown keyword kind {other}"))),
            };
            extra.push((word, kind));
        }
        let n = r.len(8)?;
        let mut removed = Vec::with_capacity(n);
        for _ in 0..n {
            let word = r.str()?;
            if FCC_REVOCATION_WORDS.iter().any(|w| canonical(w) == word) {
                return Err(r.corrupt(format!("protected keyword {word:?} marked removed")));
            }
            removed.push(word.to_owned());
        }
        let matching = match (r.u8()?, version) {
            // Version 1 had no sentence matching; its default was whole
            // messages, which is now below what the FCC rule asks for.
            (0, 1) | (2, 2..) => KeywordMatch::Sentences,
            (0, _) => KeywordMatch::WholeMessage,
            (1, _) => KeywordMatch::Leading,
            (other, _) => return Err(r.corrupt(format!("unknown matching policy {other}"))),
        };
        let opt_in_reply = r.opt_str()?.map(str::to_owned);
        let help_reply = r.opt_str()?.map(str::to_owned);
        let clarify_reply = if version >= 2 {
            r.opt_str()?.map(str::to_owned)
        } else {
            None
        };
        let keywords = Keywords {
            languages,
            extra,
            removed,
            matching,
            opt_in_reply,
            help_reply,
            clarify_reply,
        };
        keywords
            .check_shape()
            .map_err(|e| r.corrupt(e.to_string()))?;
        Ok(keywords)
    }

    /// The configured opt-in reply, or `language`'s default.
    pub(crate) fn opt_in_text(&self, language: Option<Language>) -> String {
        self.opt_in_reply
            .clone()
            .unwrap_or_else(|| self.reply_language(language).opt_in_reply().to_owned())
    }

    /// The configured help reply, or `language`'s default.
    pub(crate) fn help_text(&self, language: Option<Language>) -> String {
        self.help_reply
            .clone()
            .unwrap_or_else(|| self.reply_language(language).help_reply().to_owned())
    }

    /// The configured clarification question, or `language`'s default.
    pub(crate) fn clarify_text(&self, language: Option<Language>) -> String {
        self.clarify_reply
            .clone()
            .unwrap_or_else(|| self.reply_language(language).clarify_reply().to_owned())
    }

    /// The default opt-out confirmation in `language`.
    pub(crate) fn opt_out_text(&self, language: Option<Language>) -> String {
        self.reply_language(language).opt_out_reply().to_owned()
    }

    /// Compiles the keywords, with custom lists' own keywords, into a
    /// matcher.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::Store;
    /// use optout::keyword::{KeywordKind, Keywords};
    /// use optout::store::ListSettings;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let promo = store.create_list(ListSettings::new("Promotions").keyword("STOPPROMO"))?;
    /// let m = Keywords::default().compile(&[("STOPPROMO".to_string(), promo)]);
    /// assert_eq!(m.find("stoppromo").map(|h| h.kind), Some(KeywordKind::OptOut(promo)));
    /// assert_eq!(m.find("STOPPROMO please").map(|h| h.kind), Some(KeywordKind::OptOut(promo)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn compile(&self, list_keywords: &[(String, ListId)]) -> KeywordMatcher {
        self.compile_with(list_keywords, self.matching, &[])
    }

    /// The matcher a version-1 journal's inbound messages were handled
    /// with: keywords only (whole message, or leading where chosen), and
    /// YES among the English opt-in words.
    pub(crate) fn compile_v1(&self, list_keywords: &[(String, ListId)]) -> KeywordMatcher {
        let matching = match self.matching {
            KeywordMatch::Leading => KeywordMatch::Leading,
            _ => KeywordMatch::WholeMessage,
        };
        self.compile_with(list_keywords, matching, &["YES"])
    }

    fn compile_with(
        &self,
        list_keywords: &[(String, ListId)],
        matching: KeywordMatch,
        extra_opt_in: &[&str],
    ) -> KeywordMatcher {
        let mut words = matcher::Words::default();
        let removed = |k: &str| self.removed.iter().any(|r| r == k);
        let mut add = |word: &str, kind: KeywordKind, language: Option<Language>, force: bool| {
            let key = canonical(word);
            if key.is_empty() || (!force && removed(&key)) {
                return;
            }
            // The first registration of a word wins: opt-out words come
            // first, so a word cannot be turned from opt-out into opt-in.
            words.entry(key).or_insert(KeywordHit { kind, language });
        };
        for word in FCC_REVOCATION_WORDS {
            add(
                word,
                KeywordKind::OptOut(ListId::SYSTEM),
                Some(Language::English),
                true,
            );
        }
        for (word, list) in list_keywords {
            add(word, KeywordKind::OptOut(*list), None, false);
        }
        for &language in &self.languages {
            for word in language.opt_out_words() {
                add(
                    word,
                    KeywordKind::OptOut(ListId::SYSTEM),
                    Some(language),
                    false,
                );
            }
        }
        for (word, kind) in &self.extra {
            if *kind == ExtraKind::OptOut {
                add(word, KeywordKind::OptOut(ListId::SYSTEM), None, false);
            }
        }
        for &language in &self.languages {
            for word in language.opt_in_words() {
                add(word, KeywordKind::OptIn, Some(language), false);
            }
            if language == Language::English {
                for word in extra_opt_in {
                    add(word, KeywordKind::OptIn, Some(language), false);
                }
            }
            for word in language.help_words() {
                add(word, KeywordKind::Help, Some(language), false);
            }
        }
        for (word, kind) in &self.extra {
            // Settings recorded by another version are not refused when
            // read back; an opt-in or help word that reads as an opt-out
            // with this version's words is left out here instead, so the
            // message falls through to the opt-out it reads as.
            let kind = match kind {
                ExtraKind::OptIn => KeywordKind::OptIn,
                ExtraKind::Help => KeywordKind::Help,
                ExtraKind::OptOut => continue,
            };
            if self.reads_as_opt_out(word).is_none() {
                add(word, kind, None, false);
            }
        }
        KeywordMatcher::new(words, matching, &self.languages)
    }

    /// The language to reply in to words matched in `hit`: that language
    /// if these settings use it (or the words have none), else the first
    /// language they use. An FCC word is English, but on a channel set to
    /// Spanish the reply must name the Spanish opt-in word.
    pub(crate) fn reply_language(&self, hit: Option<Language>) -> Language {
        match hit {
            Some(l) if self.languages.contains(&l) => l,
            _ => self
                .languages
                .first()
                .copied()
                .or(hit)
                .unwrap_or(Language::English),
        }
    }

    /// The canonical forms of the extra words (which a list's own keyword
    /// must not take over).
    pub(crate) fn extra_keys(&self) -> impl Iterator<Item = String> + '_ {
        self.extra.iter().map(|(w, _)| canonical(w))
    }
}

const OPTS_OUT: &str = "opts out of every list";

/// Every language's sentence words.
const ALL_LANGS: [classify::Lang; 5] = [
    classify::Lang::En,
    classify::Lang::Es,
    classify::Lang::Fr,
    classify::Lang::Pt,
    classify::Lang::De,
];

/// What a built-in keyword (an FCC word, or a shipped language's opt-out,
/// opt-in or help word) does, given its canonical form; `None` for any
/// other word.
pub(crate) fn builtin_meaning(key: &str) -> Option<&'static str> {
    let is = |words: &[&str]| words.iter().any(|w| canonical(w) == key);
    if is(&FCC_REVOCATION_WORDS) || Language::ALL.iter().any(|l| is(l.opt_out_words())) {
        Some(OPTS_OUT)
    } else if Language::ALL.iter().any(|l| is(l.opt_in_words())) {
        Some("opts back in")
    } else if Language::ALL.iter().any(|l| is(l.help_words())) {
        Some("asks for help")
    } else {
        None
    }
}
