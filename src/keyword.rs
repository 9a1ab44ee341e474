//! Inbound keywords: STOP, START, HELP and their kin, in several languages,
//! matched against whole messages in time that does not grow with the
//! number of keywords.

use std::collections::HashMap;
use std::fmt;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::error::{Error, ListField};
use crate::list::{ListId, MAX_MESSAGE_CHARS};

/// A language whose keywords and replies ship with the crate.
///
/// # Example
///
/// ```
/// use optout::Language;
///
/// assert!(Language::French.opt_out_words().contains(&"ARRET"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Language {
    /// English: the CTIA and US FCC keywords.
    English,
    /// Spanish.
    Spanish,
    /// French.
    French,
    /// Portuguese.
    Portuguese,
    /// German.
    German,
}

/// The seven words of the US FCC 2024 consent revocation rule (47 CFR
/// 64.1200(a)(10)): always opt-out keywords, whatever the configuration.
pub const FCC_REVOCATION_WORDS: [&str; 7] = [
    "STOP",
    "QUIT",
    "END",
    "REVOKE",
    "OPT OUT",
    "CANCEL",
    "UNSUBSCRIBE",
];

impl Language {
    /// Every shipped language.
    pub const ALL: [Language; 5] = [
        Language::English,
        Language::Spanish,
        Language::French,
        Language::Portuguese,
        Language::German,
    ];

    /// The default opt-out keywords.
    ///
    /// Sources, checked for each language:
    /// * English: the FCC revocation words above, plus STOPALL and OPTOUT as
    ///   handled by Twilio's default opt-out filtering
    ///   (<https://www.twilio.com/docs/messaging/tutorials/advanced-opt-out>).
    /// * French: ARRET, required by AWS End User Messaging where local rules
    ///   apply (<https://docs.aws.amazon.com/sms-voice/latest/userguide/opt-out-list-keywords.html>);
    ///   ARRÊT matches it, accents being optional.
    /// * Spanish: BAJA, PARAR, CANCELAR (cancellation words of Spanish-language
    ///   SMS platforms, e.g. <https://notifycame.com/page/funciones-de-sms>;
    ///   BAJA is the common Spanish reply to leave an SMS list).
    /// * Portuguese: SAIR, the word Brazilian operators must accept under
    ///   Anatel's 2012 determination (<https://ad-freaks.com/anuncio-no-celular/>),
    ///   PARAR and CANCELAR.
    /// * German: STOPP, ABMELDEN, ABBESTELLEN, STORNIEREN
    ///   (<https://help.activecampaign.com/hc/de/articles/360021662640-Anforderungen-an-SMS-STOP-Klauseln>).
    ///
    /// # Example
    ///
    /// ```
    /// assert!(optout::Language::English.opt_out_words().contains(&"STOP"));
    /// ```
    pub fn opt_out_words(self) -> &'static [&'static str] {
        match self {
            Language::English => &[
                "STOP",
                "STOPALL",
                "UNSUBSCRIBE",
                "CANCEL",
                "END",
                "QUIT",
                "REVOKE",
                "OPTOUT",
                "OPT OUT",
            ],
            Language::Spanish => &["BAJA", "PARAR", "CANCELAR"],
            Language::French => &["ARRET", "ARRÊT"],
            Language::Portuguese => &["SAIR", "PARAR", "CANCELAR"],
            Language::German => &["STOPP", "ABMELDEN", "ABBESTELLEN", "STORNIEREN"],
        }
    }

    /// The default opt-in keywords (sources as for the opt-out words; ALTA
    /// and COMENZAR from the same Spanish platform page).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::Language::English.opt_in_words(), ["START", "UNSTOP", "YES"]);
    /// ```
    pub fn opt_in_words(self) -> &'static [&'static str] {
        match self {
            Language::English => &["START", "UNSTOP", "YES"],
            Language::Spanish => &["ALTA", "COMENZAR"],
            Language::French => &["DEBUT", "DÉBUT"],
            Language::Portuguese => &["VOLTAR"],
            Language::German => &["ANMELDEN"],
        }
    }

    /// The default help keywords.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::Language::English.help_words(), ["HELP", "INFO"]);
    /// ```
    pub fn help_words(self) -> &'static [&'static str] {
        match self {
            Language::English => &["HELP", "INFO"],
            Language::Spanish => &["AYUDA"],
            Language::French => &["AIDE"],
            Language::Portuguese => &["AJUDA"],
            Language::German => &["HILFE"],
        }
    }

    /// The default reply to an opt-out.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(optout::Language::English.opt_out_reply().contains("START"));
    /// ```
    pub fn opt_out_reply(self) -> &'static str {
        match self {
            Language::English => {
                "You have been unsubscribed and will receive no more messages. Reply START to resubscribe."
            }
            Language::Spanish => {
                "Te has dado de baja y no recibirás más mensajes. Responde ALTA para volver a suscribirte."
            }
            Language::French => {
                "Vous êtes désabonné et ne recevrez plus de messages. Répondez DEBUT pour vous réabonner."
            }
            Language::Portuguese => {
                "Você foi descadastrado e não receberá mais mensagens. Responda VOLTAR para se cadastrar novamente."
            }
            Language::German => {
                "Sie wurden abgemeldet und erhalten keine Nachrichten mehr. Antworten Sie ANMELDEN, um sich wieder anzumelden."
            }
        }
    }

    /// The default reply to an opt-in.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(optout::Language::English.opt_in_reply().contains("STOP"));
    /// ```
    pub fn opt_in_reply(self) -> &'static str {
        match self {
            Language::English => "You have been resubscribed. Reply STOP to unsubscribe.",
            Language::Spanish => "Te has vuelto a suscribir. Responde BAJA para darte de baja.",
            Language::French => "Vous êtes de nouveau abonné. Répondez ARRET pour vous désabonner.",
            Language::Portuguese => "Você foi cadastrado novamente. Responda SAIR para cancelar.",
            Language::German => {
                "Sie sind wieder angemeldet. Antworten Sie STOPP, um sich abzumelden."
            }
        }
    }

    /// The default reply to a help request.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(optout::Language::English.help_reply().contains("STOP"));
    /// ```
    pub fn help_reply(self) -> &'static str {
        match self {
            Language::English => {
                "Reply STOP to unsubscribe, START to resubscribe. Msg & data rates may apply."
            }
            Language::Spanish => {
                "Responde BAJA para darte de baja, ALTA para volver a suscribirte."
            }
            Language::French => "Répondez ARRET pour vous désabonner, DEBUT pour vous réabonner.",
            Language::Portuguese => {
                "Responda SAIR para cancelar, VOLTAR para se cadastrar novamente."
            }
            Language::German => "Antworten Sie STOPP zum Abmelden, ANMELDEN zum erneuten Anmelden.",
        }
    }
}

fn language_code(l: Language) -> u8 {
    match l {
        Language::English => 0,
        Language::Spanish => 1,
        Language::French => 2,
        Language::Portuguese => 3,
        Language::German => 4,
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Language::English => "English",
            Language::Spanish => "Spanish",
            Language::French => "French",
            Language::Portuguese => "Portuguese",
            Language::German => "German",
        })
    }
}

/// Whether a message that begins with a keyword counts.
///
/// # Example
///
/// ```
/// use optout::{KeywordMatch, Keywords};
///
/// let whole = Keywords::default().compile(&[]);
/// let leading = Keywords::default().matching(KeywordMatch::Leading).compile(&[]);
/// assert!(whole.find("STOP sending me these").is_none());
/// assert!(leading.find("STOP sending me these").is_some());
/// assert!(leading.find("don't stop the deals").is_none());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum KeywordMatch {
    /// The whole message must be the keyword (the default).
    #[default]
    WholeMessage,
    /// A message that begins with a keyword counts too.
    Leading,
}

/// What a keyword asks for.
///
/// # Example
///
/// ```
/// use optout::{KeywordKind, Keywords, ListId};
///
/// let m = Keywords::default().compile(&[]);
/// assert_eq!(m.find("stop").map(|h| h.kind), Some(KeywordKind::OptOut(ListId::SYSTEM)));
/// assert_eq!(m.find("start").map(|h| h.kind), Some(KeywordKind::OptIn));
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
}

/// A keyword found in a message.
///
/// # Example
///
/// ```
/// use optout::{Keywords, Language};
///
/// let hit = Keywords::default().compile(&[]).find("Arrêt !").unwrap();
/// assert_eq!(hit.language, Some(Language::French));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct KeywordHit {
    /// What the keyword asks for.
    pub kind: KeywordKind,
    /// The language of the keyword, for shipped keywords.
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
/// use optout::{KeywordKind, Keywords, Language, ListId};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let keywords = Keywords::default()
///     .languages([Language::English, Language::Spanish])
///     .add_opt_out("ENOUGH")
///     .remove("STOPALL")?;
/// let m = keywords.compile(&[]);
/// assert_eq!(m.find("enough!").map(|h| h.kind), Some(KeywordKind::OptOut(ListId::SYSTEM)));
/// assert!(m.find("stopall").is_none());
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
    /// Every shipped language, whole-message matching, default replies.
    fn default() -> Keywords {
        Keywords {
            languages: Language::ALL.to_vec(),
            extra: Vec::new(),
            removed: Vec::new(),
            matching: KeywordMatch::WholeMessage,
            opt_in_reply: None,
            help_reply: None,
        }
    }
}

impl Keywords {
    /// Uses only these languages' default keywords (English's FCC words
    /// always apply).
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Keywords, Language};
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
    /// let m = optout::Keywords::default().add_opt_out("NO MORE").compile(&[]);
    /// assert!(m.find("no  more!").is_some());
    /// ```
    pub fn add_opt_out(mut self, word: impl Into<String>) -> Keywords {
        self.extra.push((word.into(), ExtraKind::OptOut));
        self
    }

    /// Adds an opt-in keyword.
    ///
    /// # Example
    ///
    /// ```
    /// let m = optout::Keywords::default().add_opt_in("RESUME").compile(&[]);
    /// assert_eq!(m.find("resume").map(|h| h.kind), Some(optout::KeywordKind::OptIn));
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
    /// let m = optout::Keywords::default().add_help("SUPPORT").compile(&[]);
    /// assert_eq!(m.find("support").map(|h| h.kind), Some(optout::KeywordKind::Help));
    /// ```
    pub fn add_help(mut self, word: impl Into<String>) -> Keywords {
        self.extra.push((word.into(), ExtraKind::Help));
        self
    }

    /// Removes a default keyword.
    ///
    /// # Errors
    ///
    /// [`Error::ProtectedKeyword`] for the FCC revocation words.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let m = optout::Keywords::default().remove("yes")?.compile(&[]);
    /// assert!(m.find("yes").is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn remove(mut self, word: &str) -> Result<Keywords, Error> {
        let key = canonical(word);
        if FCC_REVOCATION_WORDS.iter().any(|w| canonical(w) == key) {
            return Err(Error::ProtectedKeyword {
                keyword: word.to_owned(),
            });
        }
        self.removed.push(key);
        Ok(self)
    }

    /// Sets the matching policy.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{KeywordMatch, Keywords};
    ///
    /// let k = Keywords::default().matching(KeywordMatch::Leading);
    /// assert_eq!(k.matching_policy(), KeywordMatch::Leading);
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
    /// let k = optout::Keywords::default().opt_in_reply("Welcome back!");
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
    /// let k = optout::Keywords::default().help_reply("Acme: call 555-0100. Reply STOP to opt out.");
    /// assert!(k.validate().is_ok());
    /// ```
    pub fn help_reply(mut self, text: impl Into<String>) -> Keywords {
        self.help_reply = Some(text.into());
        self
    }

    /// The matching policy.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::Keywords::default().matching_policy(), optout::KeywordMatch::WholeMessage);
    /// ```
    pub fn matching_policy(&self) -> KeywordMatch {
        self.matching
    }

    /// Checks the replies' lengths and that added keywords are not empty.
    ///
    /// # Errors
    ///
    /// [`Error::TooLong`] for a reply over 300 characters,
    /// [`Error::InvalidList`] for an empty keyword.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(optout::Keywords::default().help_reply("x".repeat(301)).validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), Error> {
        for text in [&self.opt_in_reply, &self.help_reply].into_iter().flatten() {
            let chars = text.chars().count();
            if chars > MAX_MESSAGE_CHARS {
                return Err(Error::TooLong {
                    field: ListField::Confirmation,
                    limit: MAX_MESSAGE_CHARS,
                    actual: chars,
                });
            }
        }
        if self.extra.iter().any(|(w, _)| canonical(w).is_empty()) {
            return Err(Error::InvalidList {
                field: ListField::Keyword,
                reason: "must not be empty".into(),
            });
        }
        // An opt-in or help word must not begin with an opt-out word: with
        // leading matching, "STOP PLEASE" as an opt-in would turn a
        // revocation into a resubscription.
        let opt_out = |key: &str| {
            matches!(builtin_meaning(key), Some(m) if m == OPTS_OUT)
                || self
                    .extra
                    .iter()
                    .any(|(w, k)| *k == ExtraKind::OptOut && canonical(w) == key)
        };
        for (word, kind) in &self.extra {
            if *kind == ExtraKind::OptOut {
                continue;
            }
            let key = canonical(word);
            let words: Vec<&str> = key.split(' ').collect();
            for n in 1..=words.len() {
                let prefix = words.get(..n).unwrap_or_default().join(" ");
                if opt_out(&prefix) {
                    return Err(Error::InvalidList {
                        field: ListField::Keyword,
                        reason: format!(
                            "{word:?} begins with the opt-out keyword {prefix:?}, so it cannot opt in or ask for help"
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    pub(crate) fn encode(&self, w: &mut crate::codec::Writer) {
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
        });
        w.opt_str(self.opt_in_reply.as_deref());
        w.opt_str(self.help_reply.as_deref());
    }

    pub(crate) fn decode(r: &mut crate::codec::Reader<'_>) -> Result<Keywords, Error> {
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
        let matching = match r.u8()? {
            0 => KeywordMatch::WholeMessage,
            1 => KeywordMatch::Leading,
            other => return Err(r.corrupt(format!("unknown matching policy {other}"))),
        };
        let keywords = Keywords {
            languages,
            extra,
            removed,
            matching,
            opt_in_reply: r.opt_str()?.map(str::to_owned),
            help_reply: r.opt_str()?.map(str::to_owned),
        };
        keywords.validate().map_err(|e| r.corrupt(e.to_string()))?;
        Ok(keywords)
    }

    /// The configured opt-in reply, or `language`'s default.
    pub(crate) fn opt_in_text(&self, language: Option<Language>) -> String {
        self.opt_in_reply.clone().unwrap_or_else(|| {
            language
                .unwrap_or(Language::English)
                .opt_in_reply()
                .to_owned()
        })
    }

    /// The configured help reply, or `language`'s default.
    pub(crate) fn help_text(&self, language: Option<Language>) -> String {
        self.help_reply.clone().unwrap_or_else(|| {
            language
                .unwrap_or(Language::English)
                .help_reply()
                .to_owned()
        })
    }

    /// Compiles the keywords, with custom lists' own keywords, into a
    /// matcher.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{KeywordKind, Keywords, ListId};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = optout::Store::new();
    /// let promo = store.create_list(optout::ListSettings::new("Promotions").keyword("STOPPROMO"))?;
    /// let m = Keywords::default().compile(&[("STOPPROMO".to_string(), promo)]);
    /// assert_eq!(m.find("stoppromo").map(|h| h.kind), Some(KeywordKind::OptOut(promo)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn compile(&self, list_keywords: &[(String, ListId)]) -> KeywordMatcher {
        let mut words: HashMap<String, KeywordHit> = HashMap::new();
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
            for word in language.help_words() {
                add(word, KeywordKind::Help, Some(language), false);
            }
        }
        for (word, kind) in &self.extra {
            match kind {
                ExtraKind::OptIn => add(word, KeywordKind::OptIn, None, false),
                ExtraKind::Help => add(word, KeywordKind::Help, None, false),
                ExtraKind::OptOut => {}
            }
        }
        let longest_words = words
            .keys()
            .map(|k| k.split(' ').count())
            .max()
            .unwrap_or(0);
        let longest_chars = words.keys().map(String::len).max().unwrap_or(0);
        KeywordMatcher {
            words,
            matching: self.matching,
            longest_words,
            longest_chars,
        }
    }
}

/// Compiled keywords: one hash lookup per message (a few with
/// [`KeywordMatch::Leading`]), whatever the number of keywords.
///
/// # Example
///
/// ```
/// let m = optout::Keywords::default().compile(&[]);
/// assert!(m.find(" Stop. ").is_some());
/// assert!(m.find("\"STOP\"").is_some());
/// assert!(m.find("opt   out").is_some());
/// assert!(m.find("don't stop sending me deals").is_none());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeywordMatcher {
    words: HashMap<String, KeywordHit>,
    matching: KeywordMatch,
    longest_words: usize,
    longest_chars: usize,
}

impl KeywordMatcher {
    /// The keyword a message is, if any.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::KeywordKind;
    ///
    /// let m = optout::Keywords::default().compile(&[]);
    /// assert_eq!(m.find("HELP!").map(|h| h.kind), Some(KeywordKind::Help));
    /// assert_eq!(m.find("hello"), None);
    /// ```
    pub fn find(&self, message: &str) -> Option<KeywordHit> {
        let text = canonical_bounded(message, self.bound())?;
        if let Some(hit) = self.words.get(text.as_str()) {
            return Some(*hit);
        }
        if self.matching == KeywordMatch::Leading {
            let ends = text
                .match_indices(' ')
                .map(|(i, _)| i)
                .take(self.longest_words);
            let mut best = None;
            for end in ends {
                if let Some(hit) = text.get(..end).and_then(|prefix| self.words.get(prefix)) {
                    best = Some(*hit);
                }
            }
            return best;
        }
        None
    }

    /// The number of distinct keywords.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(optout::Keywords::default().compile(&[]).len() > 20);
    /// ```
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// `true` if there are no keywords (never, with the FCC words).
    ///
    /// # Example
    ///
    /// ```
    /// assert!(!optout::Keywords::default().compile(&[]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// How much of a message needs canonicalizing: a whole-message match
    /// can be no longer than the longest keyword, a leading one needs only
    /// the first words.
    fn bound(&self) -> Bound {
        match self.matching {
            KeywordMatch::WholeMessage => Bound::Whole(self.longest_chars),
            KeywordMatch::Leading => Bound::Leading(self.longest_words),
        }
    }
}

#[derive(Clone, Copy)]
enum Bound {
    /// Give up when the canonical text exceeds this many bytes.
    Whole(usize),
    /// Keep only the first this many words (plus one, to know there is
    /// more).
    Leading(usize),
}

const OPTS_OUT: &str = "opts out of every list";

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

impl Keywords {
    /// The language to reply in to a word matched in `hit`: that language
    /// if these settings use it (or the word has none), else the first
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

/// The canonical form of a keyword or message: Unicode-compatibility
/// normalized, accents removed, lower-cased, every run of characters that
/// are not letters or digits turned into one space, trimmed.
/// `Arrêt !` → `arret`, `"OPT-out"` → `opt out`, `ＳＴＯＰ` → `stop`.
pub(crate) fn canonical(text: &str) -> String {
    canonical_bounded(text, Bound::Leading(usize::MAX)).unwrap_or_default()
}

fn canonical_bounded(text: &str, bound: Bound) -> Option<String> {
    let mut out = String::with_capacity(text.len().min(64));
    let mut words = 0usize;
    let mut pending_space = false;
    // ASCII needs no Unicode decomposition; most messages are ASCII.
    let chars: Box<dyn Iterator<Item = char>> = if text.is_ascii() {
        Box::new(text.chars())
    } else {
        Box::new(text.nfkd().filter(|c| !is_combining_mark(*c)))
    };
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
            out.extend(c.to_lowercase());
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
