//! Revocation of consent in free-text SMS replies: is a message that is not
//! exactly a keyword a request to stop?
//!
//! # The rule
//!
//! Under 47 CFR 64.1200(a)(10) (adopted by FCC 24-24, 89 FR 15756, Mar. 5,
//! 2024, <https://www.govinfo.gov/content/pkg/FR-2024-03-05/html/2024-04587.htm>;
//! in force since 2025-04-11 per 89 FR 82518, <https://lexbuild.dev/fr/2024/10/2024-23605>)
//! a reply that uses the words "stop", "quit", "end", "revoke", "opt out",
//! "cancel" or "unsubscribe" revokes consent per se, and a reply in other
//! words does so "if a reasonable person would understand those words to have
//! conveyed a request to revoke consent" (rule text as quoted at
//! <https://leadcompliancehub.com/blog/how-to-revoke-tcpa-consent> and
//! <https://mslawgroup.com/fcc-delays-reasonable-methods-provision-of-new-revocation-of-consent-regulations-until-april-11-2026>).
//! CTIA's Messaging Principles §5.1.3 likewise ask senders to act on
//! "normal language" opt-outs ("stop, end, unsubscribe, cancel, quit, please
//! opt me out"), except where a word "can result in unintentional opt-out"
//! (<https://support.colligso.com/helpdesk/en/blog/best_practices_optin_optout>).
//!
//! 47 CFR 64.1200(a)(12) (effective 2024-04-04, same Federal Register notice;
//! quoted at <https://magnifyi.com/fcc-publishes-only-a-portion-of-rules-strengthening-customers-ability-to-stop-robocalls-that-are-effective-april-4-2024-but-what-about-the-rest-of-the-rules>)
//! allows one confirmation text, which "may request clarification", and the
//! sender "must cease all further texts for which consent is required absent
//! further clarification". That is what `Intent::Clarify` is for: the
//! caller sends the one confirmation-and-clarification text and sends nothing
//! else that needs consent unless the consumer answers. Silence means stop,
//! so `Clarify` must never be read as "keep sending".
//!
//! # What the classifier does
//!
//! The exact keywords (STOP, START, HELP, ...) are matched before this code
//! runs. `classify` takes the rest and answers `Intent::OptOut` (clear),
//! `Intent::Clarify` (maybe) or `Intent::None`. It is a small set of
//! hand-written rules over a per-message word list, not a statistical model:
//!
//! 1. One pass cuts the message into words: lower case, accents and other
//!    marks removed (NFKD), letter runs of 3+ collapsed (`STOOOP` → `stop`),
//!    and for each word the separator after it (a space, a comma, a sentence
//!    end `. ! ; ¡ ¿`, or a question mark). ASCII messages of up to 160
//!    bytes and 32 words, nearly all replies, are cut byte by byte into a
//!    stack buffer with no allocation (`scan_ascii`); others are normalized
//!    into one `String` first (`classify_general`). Both give the same words.
//! 2. Each word is looked up as it ends in one dictionary (`lex`, a `match`
//!    on the bytes, dispatched on the first byte) that gives its role: a
//!    strong or weak stop word, a negation, a messaging object, filler, a
//!    phrase word ("remove", "alone", "number", ...). Words of a language
//!    the account did not enable lose their role. Unknown words of 7+
//!    letters one edit away from a long stop word ("unsubscibe") take that
//!    word's role, and so do stop words with "it", "now", "all", "me",
//!    "pls", ... glued on ("STOPIT", "STOPNOW", "unsubscribeme": `glued`).
//! 3. If no word can start a rule, the answer is `None` at once: most
//!    ordinary messages stop here, after one pass and no allocation.
//! 4. Otherwise each sentence, and each comma-separated clause in it, is run
//!    through the rules below; the strongest finding wins. A clear finding in
//!    a question ("How do I unsubscribe?") becomes `Clarify`, a doubtful one
//!    becomes `None` ("What time do you stop serving lunch?"), except for
//!    polite requests ("Can you please stop texting me?") and reproachful
//!    ones ("Why won't you stop texting me?").
//!
//! The rules, each on the function that implements it:
//! * strong words (stop, unsubscribe, opt out, revoke; baja; arrêter,
//!   désabonner; parem, descadastrar; stopp, abmelden, aufhören): `strong`;
//!   one that opens its clause as an order is clear when one unknown word
//!   ends the clause after it ("Stop weirdo"), maybe (ask) when more
//!   follow ("Stop payment on check 1042", "Stop order 5512"), when the
//!   word names another thing ("Stop autopay", "Please stop delivery") or
//!   gives it another sense ("stop worrying", "stop the car"), or when the
//!   sentence is a question ("Stop weirdo?"); "stop by" is nothing:
//!   `imperative`, `loose`; an order to stop bothering the reader ("STOP
//!   HARASSING ME", "deja de molestarme") is clear: `bother_right`;
//! * weak words (cancel, end, quit; cancelar, parar; annuler; sair;
//!   stornieren), which need a messaging object, or insults ("cancel you
//!   idiots", "PARE seus chatos"; not friendly words: "Cancel it man" asks):
//!   `weak`, `abuse`, `mild`;
//! * insults and profanity ("fucking", "wtf", "idiotas", "bande de nuls")
//!   are noise around a stop word: "STOP FUCKING TEXTING ME" is "STOP
//!   TEXTING ME" (`K::Noise`);
//! * negation before a word ("don't stop", "N'arrêtez pas", "I no longer
//!   wish to receive"): `negated`; but a reproachful question asks to stop
//!   ("Why won't you stop texting me?", "can't you just stop", "¿por qué no
//!   dejan de escribirme?"): `rhetorical`;
//! * requests without a stop word ("don't text me", "take me off your list",
//!   "je ne veux plus recevoir de SMS"): `negated_send`, `take`,
//!   `negated_want`;
//! * ambiguous phrases ("remove me", "leave me alone", "wrong number", "no
//!   more texts", "no more", "I'm done", ...): the phrase rules in `rules`;
//!   annoyance at the sender ("you again?", "Encore vous ?"): `again`;
//! * typos: `long_typo` (≥ 8-letter words, anywhere) and `short_typo`
//!   (short words, only a message of one word, never a common word);
//!   a one-word message of a stop word with a messaging word glued on
//!   ("STOPTEXTS") or "stops": `one_word`, ask.
//!
//! # Cost
//!
//! Linear in the message, no allocation for an ASCII reply of up to 160
//! bytes, no regular expressions, no hashing. On the six non-keyword messages
//! of the library's bench mix it costs about 90 ns per message on a shared
//! 2-core AMD EPYC VM (`cargo test --release -- --ignored --nocapture` in the
//! standalone crate it was built in), where a stand-in for the exact-keyword
//! step measures 100-145 ns on the 16-message mix.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// A language whose sentence vocabulary applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Lang {
    En,
    Es,
    Fr,
    Pt,
    De,
}

/// What a message that is not exactly a keyword asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Intent {
    /// A clear request to stop; the language whose words decided it.
    OptOut(Lang),
    /// May be a request to stop, but not clearly: ask.
    Clarify(Lang),
    /// An ordinary message.
    None,
}

/// Classifies `raw` (the message as received). `langs`: the languages enabled
/// for this account/channel; English's seven FCC words (stop, quit, end, revoke,
/// opt out, cancel, unsubscribe) and English sentence rules ALWAYS apply even if
/// En is not in `langs`. Other languages' vocabulary applies only when enabled.
///
/// Politeness and filler words of every shipped language ("por favor",
/// "bitte", "svp") are recognised whatever `langs` says: they never decide
/// anything, they only keep "STOP bitte" as clear as "STOP please".
///
/// Never panics; time is linear in the length of `raw`.
pub(crate) fn classify(raw: &str, langs: &[Lang]) -> Intent {
    let mask = langs.iter().fold(EN, |m, l| m | l.bit());
    if raw.is_ascii()
        && let Some(intent) = classify_ascii(raw.as_bytes(), mask)
    {
        return intent;
    }
    classify_general(raw, mask)
}

/// Any message, non-ASCII or too long for [`classify_ascii`]: the same steps
/// with the text and words on the heap.
fn classify_general(raw: &str, mask: u8) -> Intent {
    let mut text = String::with_capacity(raw.len() + 8);
    normalize_chars(raw.nfkd().filter(|c| !is_combining_mark(*c)), &mut text);
    let (toks, anchored) = tokens(&text, mask);
    if anchored {
        judge(&toks)
    } else if let [only] = toks.as_slice() {
        one_word(only.text, mask)
    } else if toks.is_empty() && raw.contains(['🛑', '⛔', '🚫']) {
        // A reply of only a stop sign or a no-entry sign: a reasonable
        // person may read it as "stop", but it is not words; ask.
        Intent::Clarify(Lang::En)
    } else {
        Intent::None
    }
}

/// The common case, without allocating: an ASCII message of at most
/// [`STACK_BYTES`] bytes and [`STACK_WORDS`] words (`None` for a larger one).
fn classify_ascii(raw: &[u8], mask: u8) -> Option<Intent> {
    if raw.len() > STACK_BYTES {
        return None;
    }
    let mut buf = [0u8; STACK_BYTES];
    let mut spans = [Span::EMPTY; STACK_WORDS];
    let (count, anchored) = scan_ascii(raw, mask, &mut buf, &mut spans)?;
    let spans = spans.get(..count)?;
    if !anchored {
        // Early exit: no word that can start a rule, no rule to run.
        return Some(match spans {
            [only] => std::str::from_utf8(buf.get(only.range())?)
                .map_or(Intent::None, |w| one_word(w, mask)),
            _ => Intent::None,
        });
    }
    let end = spans.last().map_or(0, |s| usize::from(s.end));
    let text = std::str::from_utf8(buf.get(..end)?).ok()?;
    let mut toks = [Tok::EMPTY; STACK_WORDS];
    for (tok, span) in toks.iter_mut().zip(spans) {
        *tok = Tok {
            text: text.get(span.range())?,
            k: span.k,
            langs: span.langs,
            after: span.after,
        };
    }
    Some(judge(toks.get(..count)?))
}

/// Judges every sentence: an opt-out anywhere wins, then the first clarify.
fn judge(toks: &[Tok<'_>]) -> Intent {
    let mut clarify = None;
    for sentence in pieces(toks, Gap::Sentence) {
        let question = sentence.last().is_some_and(|t| t.after == Gap::Question);
        match judge_sentence(sentence, question) {
            Intent::OptOut(lang) => return Intent::OptOut(lang),
            Intent::Clarify(lang) => {
                clarify.get_or_insert(lang);
            }
            Intent::None => {}
        }
    }
    clarify.map_or(Intent::None, Intent::Clarify)
}

/// `toks` cut after every word followed by a separator at least as strong
/// as `at` (sentences for [`Gap::Sentence`], clauses for [`Gap::Clause`]).
fn pieces<'t, 'a>(toks: &'t [Tok<'a>], at: Gap) -> impl Iterator<Item = &'t [Tok<'a>]> {
    toks.split_inclusive(move |t| t.after >= at)
}

/// The message's canonical form with politeness/filler words removed from the
/// start and end ("please stoppromo thanks" → "stoppromo", "STOPPROMO pls" →
/// "stoppromo"), so the caller can look the rest up among its own custom
/// keywords. Returns the canonical form unchanged when nothing is removed.
///
/// A message made only of such words ("thank you") is also returned
/// unchanged: there is no core to find, and the whole may itself be a
/// custom keyword.
pub(crate) fn core(canonical: &str) -> &str {
    // Only the words that begin (end) with the text's first (last) byte
    // are compared: most messages start and end with no polite word.
    let mut rest = canonical;
    while let Some(shorter) = POLITE
        .iter()
        .filter(|p| p.as_bytes().first() == rest.as_bytes().first())
        .find_map(|p| strip_word_prefix(rest, p))
    {
        rest = shorter;
    }
    while let Some(shorter) = POLITE
        .iter()
        .filter(|p| p.as_bytes().last() == rest.as_bytes().last())
        .find_map(|p| strip_word_suffix(rest, p))
    {
        rest = shorter;
    }
    if rest.is_empty() { canonical } else { rest }
}

/// Words and phrases (canonical forms) that [`core()`] peels off either end.
const POLITE: [&str; 44] = [
    "please",
    "pls",
    "plz",
    "plse",
    "pleas",
    "kindly",
    "thanks",
    "thank you",
    "thankyou",
    "thx",
    "ty",
    "tyvm",
    "hi",
    "hey",
    "hello",
    "ok",
    "okay",
    "now",
    "por favor",
    "porfa",
    "porfavor",
    "gracias",
    "hola",
    "svp",
    "stp",
    "s il vous plait",
    "s il te plait",
    "merci",
    "bonjour",
    "salut",
    "bitte",
    "danke",
    "danke schon",
    "vielen dank",
    "hallo",
    "obrigado",
    "obrigada",
    "muito obrigado",
    "muito obrigada",
    "pf",
    "pfv",
    "ola",
    "oi",
    "bom dia",
];

/// `text` without the leading word or phrase `word` and the space after it.
fn strip_word_prefix<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let n = word.len();
    if !same(text.as_bytes().get(..n)?, word.as_bytes()) {
        return None;
    }
    let rest = text.get(n..)?;
    if rest.is_empty() {
        Some(rest)
    } else {
        rest.strip_prefix(' ')
    }
}

/// `text` without the trailing word or phrase `word` and the space before it.
fn strip_word_suffix<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let cut = text.len().checked_sub(word.len())?;
    if !same(text.as_bytes().get(cut..)?, word.as_bytes()) {
        return None;
    }
    let rest = text.get(..cut)?;
    if rest.is_empty() {
        Some(rest)
    } else {
        rest.strip_suffix(' ')
    }
}

/// Byte-wise equality of two short slices, compared in place (a library
/// `memcmp` call costs more than the comparison itself here).
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

// ---------------------------------------------------------------------------
// Normalization: one pass that cuts words, and records what separates them.

/// What separates two words, weakest first; the strongest one seen between
/// two words is kept. The last word of a message is followed by
/// [`Gap::Sentence`], or [`Gap::Question`] if the message ends with `?`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Gap {
    None,
    Space,
    Clause,
    Sentence,
    Question,
}

impl Gap {
    fn of(c: char) -> Gap {
        match c {
            '?' | '؟' => Gap::Question,
            '.' | '!' | ';' | '¡' | '¿' | '\n' | '\r' | '。' => Gap::Sentence,
            ',' | '、' => Gap::Clause,
            _ => Gap::Space,
        }
    }

    /// The marker [`normalize_chars`] writes for this separator.
    fn marker(self) -> Option<char> {
        match self {
            Gap::None => None,
            Gap::Space => Some(' '),
            Gap::Clause => Some(','),
            Gap::Sentence => Some('.'),
            Gap::Question => Some('?'),
        }
    }

    fn of_marker(c: char) -> Gap {
        match c {
            ',' => Gap::Clause,
            '.' => Gap::Sentence,
            '?' => Gap::Question,
            _ => Gap::Space,
        }
    }
}

/// ASCII messages up to this many bytes are classified on the stack...
const STACK_BYTES: usize = 160;

/// ... when they have at most this many words.
const STACK_WORDS: usize = 32;

/// A word found by [`scan_ascii`]: where it is in the text written, its
/// role, and what follows it. All zeros is a valid value, so an array of
/// them is cheap to clear.
#[derive(Clone, Copy)]
struct Span {
    start: u8,
    end: u8,
    k: K,
    langs: u8,
    after: Gap,
}

impl Span {
    const EMPTY: Span = Span {
        start: 0,
        end: 0,
        k: K::Other,
        langs: 0,
        after: Gap::None,
    };

    fn range(&self) -> std::ops::Range<usize> {
        usize::from(self.start)..usize::from(self.end)
    }
}

/// One pass over an ASCII message of at most 255 bytes: writes its words
/// into `buf` (lower case, letters and digits only, runs of 3+ of the same
/// letter collapsed to one: "stooop" → "stop", "STOPPPP" → "stop"; doubled
/// letters stay: "stopp", "too") with nothing between them, looks each word
/// up as it ends and records it in `spans` with the separator after it (the
/// last word: [`Gap::Question`] if the message ends with `?`, else
/// [`Gap::Sentence`]). Returns the word count and whether any word can start
/// a rule; `None` if `spans` or `buf` is too small. Each byte written comes
/// from a distinct byte of `raw`, so `buf` needs `raw.len()` bytes.
fn scan_ascii(raw: &[u8], mask: u8, buf: &mut [u8], spans: &mut [Span]) -> Option<(usize, bool)> {
    let mut n = 0usize; // bytes written
    let mut count = 0usize; // words recorded
    let mut anchored = false;
    let mut bytes = raw.iter();
    // The separator that ended the last word, if any.
    let mut gap = Gap::None;
    loop {
        // Separators before the next word.
        let mut first = None;
        for &b in bytes.by_ref() {
            let l = fold(b);
            if l != 0 {
                first = Some(l);
                break;
            }
            gap = gap.max(Gap::of(char::from(b)));
        }
        let prev = count.checked_sub(1).and_then(|i| spans.get_mut(i));
        let Some(first) = first else {
            // The end: after the last word, a question or a sentence end.
            if let Some(prev) = prev {
                prev.after = if gap == Gap::Question {
                    Gap::Question
                } else {
                    Gap::Sentence
                };
            }
            return Some((count, anchored));
        };
        if let Some(prev) = prev {
            prev.after = gap;
        }
        gap = Gap::None;
        // The word.
        let start = n;
        *buf.get_mut(n)? = first;
        n += 1;
        let mut last = first;
        let mut run = 1u8;
        for &b in bytes.by_ref() {
            let l = fold(b);
            if l == 0 {
                gap = Gap::of(char::from(b));
                break;
            }
            if l == last && l >= b'a' {
                run = run.saturating_add(1);
                if run >= 3 {
                    if run == 3 {
                        // Third in a row: drop the second, keep only the first.
                        n -= 1;
                    }
                    continue;
                }
            } else {
                last = l;
                run = 1;
            }
            *buf.get_mut(n)? = l;
            n += 1;
        }
        anchored |= record(buf, start, n, mask, spans.get_mut(count)?)?;
        count += 1;
    }
}

/// Looks up the word `buf[start..end]` into `span`; whether it can start a
/// rule.
fn record(buf: &[u8], start: usize, end: usize, mask: u8, span: &mut Span) -> Option<bool> {
    let w = lookup(buf.get(start..end)?, mask);
    *span = Span {
        start: u8::try_from(start).ok()?,
        end: u8::try_from(end).ok()?,
        k: w.k.role(),
        langs: w.langs,
        after: Gap::Space,
    };
    Some(w.k.is_anchor())
}

/// The lower-case form of an ASCII letter or digit, 0 for anything else.
fn fold(b: u8) -> u8 {
    FOLD.get(usize::from(b)).copied().unwrap_or(0)
}

#[allow(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an index out of range fails the build"
)]
const FOLD: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0u8;
    loop {
        if b.is_ascii_alphanumeric() {
            t[b as usize] = b.to_ascii_lowercase();
        }
        if b == u8::MAX {
            break t;
        }
        b += 1;
    }
};

/// The words of text written by [`normalize_chars`], with their roles, and
/// whether any word can start a rule.
fn tokens(text: &str, mask: u8) -> (Vec<Tok<'_>>, bool) {
    let mut toks = Vec::with_capacity(text.len() / 2 + 1);
    let mut anchored = false;
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find([' ', ',', '.', '?']).unwrap_or(rest.len());
        let (word, tail) = rest.split_at_checked(end).unwrap_or((rest, ""));
        let mut chars = tail.chars();
        let after = match chars.next() {
            Some(c) => Gap::of_marker(c),
            None => Gap::Sentence,
        };
        rest = chars.as_str();
        if !word.is_empty() {
            let w = lookup(word.as_bytes(), mask);
            anchored |= w.k.is_anchor();
            toks.push(Tok {
                text: word,
                k: w.k.role(),
                langs: w.langs,
                after,
            });
        }
    }
    (toks, anchored)
}

/// Writes any text (after NFKD and mark removal) into `out` as words of
/// lower-case letters and digits (the same characters as `keyword::canonical`),
/// runs of 3+ of the same letter collapsed to one ("stooop" → "stop",
/// "STOPPPP" → "stop"; doubled letters stay: "stopp", "too"), separated
/// by one marker each: `' '`, `','` (clause), `'.'` (sentence) or `'?'`
/// (question; also written at the end of a message that ends with one).
fn normalize_chars(chars: impl Iterator<Item = char>, out: &mut String) {
    let mut gap = Gap::None;
    let mut last = '\0';
    let mut run = 0u8;
    for c in chars {
        if !c.is_alphanumeric() {
            gap = gap.max(Gap::of(c));
            continue;
        }
        if !out.is_empty()
            && let Some(marker) = gap.marker()
        {
            out.push(marker);
            last = '\0';
        }
        gap = Gap::None;
        for l in c.to_lowercase() {
            if l == last && l.is_alphabetic() {
                run = run.saturating_add(1);
                if run == 3 {
                    // Third in a row: drop the second, keep only the first.
                    out.pop();
                }
                if run >= 3 {
                    continue;
                }
            } else {
                last = l;
                run = 1;
            }
            out.push(l);
        }
    }
    if gap == Gap::Question && !out.is_empty() {
        out.push('?');
    }
}

// ---------------------------------------------------------------------------
// Sentences and clauses.

/// How strongly a clause asks to stop, weakest first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Strength {
    Nothing,
    /// A stop word in an unclear construction ("stop who knows what"):
    /// `Clarify` in a statement, `None` in a question.
    Vague,
    /// Maybe a request to stop: `Clarify` in a statement or a question.
    Ask,
    /// A stop word in imperative position followed by one word the rules
    /// do not know, ending the clause or followed only by insults ("Stop
    /// weirdo", "STOP scumbags you idiots"): `OptOut` in a statement,
    /// `Clarify` in a question ("STOP scumbags?"), which may be about
    /// something else.
    Firm,
    /// A clear request: `OptOut` in a statement, `Clarify` in a question.
    Revoke,
    /// A clear request phrased as a reproachful question ("Why won't you
    /// stop texting me?", "Can't you just stop?"): `OptOut` either way.
    Demand,
}

#[derive(Clone, Copy, Debug)]
struct Finding {
    strength: Strength,
    lang: Lang,
}

const NOTHING: Finding = Finding {
    strength: Strength::Nothing,
    lang: Lang::En,
};

impl Finding {
    fn new(strength: Strength, bits: u8) -> Finding {
        Finding {
            strength,
            lang: lang_of(bits),
        }
    }

    /// The stronger of two findings; the earlier one on a tie.
    fn max(self, other: Finding) -> Finding {
        if other.strength > self.strength {
            other
        } else {
            self
        }
    }
}

/// The result of one rule at one word.
enum Step {
    /// The word is negated ("don't stop"): the whole clause asks for nothing.
    Negated,
    Found(Finding),
    /// The rule does not apply here.
    Skip,
}

fn found(strength: Strength, bits: u8) -> Step {
    Step::Found(Finding::new(strength, bits))
}

/// Applies the question rule to the strongest clause of one sentence.
fn judge_sentence(sentence: &[Tok<'_>], question: bool) -> Intent {
    // A question about stopping ("How do I unsubscribe?") is not yet a
    // request, but a polite request phrased as a question is one.
    let asks = question && !polite_request(sentence);
    let mut best = NOTHING;
    for clause in pieces(sentence, Gap::Clause) {
        best = best.max(rules(clause));
    }
    if best.strength < Strength::Ask
        && let Some(bits) = no_thanks(sentence).or_else(|| again(sentence))
    {
        best = Finding::new(Strength::Ask, bits);
    }
    match (best.strength, asks) {
        (Strength::Demand, _) | (Strength::Revoke | Strength::Firm, false) => {
            Intent::OptOut(best.lang)
        }
        (Strength::Revoke | Strength::Firm | Strength::Ask, true)
        | (Strength::Ask | Strength::Vague, false) => Intent::Clarify(best.lang),
        (Strength::Vague | Strength::Nothing, true) | (Strength::Nothing, false) => Intent::None,
    }
}

/// "Can you (please) stop ...?", "Would you ...?": a request, not a question.
fn polite_request(sentence: &[Tok<'_>]) -> bool {
    let mut words = sentence
        .iter()
        .map(|t| t.text)
        .skip_while(|t| matches!(*t, "please" | "pls" | "so" | "ok" | "okay" | "hey" | "hi"));
    if !matches!(words.next(), Some("can" | "could" | "would" | "will")) {
        return false;
    }
    let mut next = words.next();
    if next == Some("t") {
        next = words.next();
    }
    matches!(next, Some("you" | "u" | "ya"))
}

/// "No thanks", "nein danke", "não, obrigado": declines an offer; may or may
/// not revoke. Looks at the whole sentence, as a comma often splits it.
fn no_thanks(sentence: &[Tok<'_>]) -> Option<u8> {
    let mut no = None;
    let mut thanks = false;
    for t in sentence {
        match t.k {
            K::No => no = Some(t.langs),
            K::Neg if t.text == "nao" => no = Some(PT),
            K::Thanks => thanks = true,
            K::Filler | K::Noise => {}
            _ => return None,
        }
    }
    if thanks { no } else { None }
}

/// "You again?", "ugh, not you again", "this again?", "Encore vous ?",
/// "¿Otra vez ustedes?", "Vocês de novo?", "Ihr schon wieder?": annoyance at
/// the sender, alone in a sentence; may be a request to stop, ask. "Thank
/// you again", "see you again", "can you send it again?" have other words.
fn again(sentence: &[Tok<'_>]) -> Option<u8> {
    if sentence.len() > 5 {
        return None;
    }
    let mut bits = 0;
    let mut you = false;
    for (j, x) in sentence.iter().enumerate() {
        let before = text(sentence, j.wrapping_sub(1));
        match x.text {
            // Enabled words only: a disabled language's word is `K::Known`.
            "again" | "encore" | "wieder" if x.k == K::Filler => bits |= x.langs,
            "novo" if x.k == K::Filler && before == "de" => bits |= x.langs,
            "vez" if x.k == K::Filler && before == "otra" => bits |= x.langs & ES,
            "vez" if x.k == K::Filler && before == "outra" => bits |= x.langs & PT,
            "you" | "u" | "ya" | "yall" | "guys" | "them" | "this" | "these" | "vous" | "toi"
            | "tu" | "ustedes" | "usted" | "ellos" | "voces" | "voce" | "vc" | "vcs" | "ihr"
            | "sie" | "du" => you = true,
            "oh" | "ugh" | "omg" | "not" | "no" | "nope" | "seriously" | "really" | "wow"
            | "god" | "jeez" | "geez" | "lol" | "its" | "it" | "s" | "is" | "c" | "est" | "de"
            | "otra" | "outra" | "schon" | "nao" | "nein" | "non" => {}
            _ => return None,
        }
    }
    if you && bits != 0 { Some(bits) } else { None }
}

/// Runs every rule that starts at a word of the clause, left to right, and
/// keeps the strongest finding. A negated stop word ("don't stop sending me
/// deals", "I don't want to opt out") makes the whole clause a non-request.
fn rules(t: &[Tok<'_>]) -> Finding {
    let mut best = NOTHING;
    for (i, tok) in t.iter().enumerate() {
        let bits = tok.langs;
        let step = match tok.k {
            K::Strong => strong(t, i, i, bits),
            K::Weak => weak(t, i, i, bits),
            K::Opt => opt(t, i),
            K::Hear => hear(t, i, bits),
            // "dejar de" (es): stop doing; needs an object like a weak word.
            K::Dejar if text(t, i + 1) == "de" => weak(t, i, i + 1, bits),
            K::Send | K::SendMsg => negated_send(t, i, bits),
            K::Want => negated_want(t, i, bits),
            K::Take | K::TakeMe | K::Get => take(t, i, bits),
            K::More => no_more(t, i, bits),
            K::No => no_object(t, i, bits),
            // "leave me alone", "laissez-moi tranquille", "lasst mich in Ruhe".
            K::Alone => match t
                .iter()
                .take(i)
                .find(|x| matches!(x.k, K::Leave | K::Dejar))
            {
                Some(leave) => found(Strength::Ask, leave.langs),
                None => Step::Skip,
            },
            K::Number => number(t, i),
            // "I didn't sign up", "je ne me suis jamais inscrit": a consent
            // dispute, most likely a revocation; ask.
            K::Signed if negated(t, i, bits) => found(Strength::Ask, bits),
            // "not interested", "no me interesa", "kein Interesse".
            K::Interested if tok.text == "uninterested" || negated(t, i, bits) => {
                found(Strength::Ask, bits)
            }
            // "This is spam": a complaint, likely but not explicitly a request.
            K::Spam if !negated(t, i, bits) => found(Strength::Ask, bits),
            // "goodbye", "au revoir", alone in a clause.
            K::Goodbye
                if others_are(t, i, i, |k| {
                    matches!(k, K::Filler | K::Thanks | K::No | K::Goodbye | K::Noise)
                }) =>
            {
                found(Strength::Ask, bits)
            }
            // "I'm done (with these)"; "done" alone answers many prompts.
            K::Done
                if matches!(
                    text(t, i.wrapping_sub(1)),
                    "m" | "im" | "am" | "re" | "are" | "so" | "totally"
                ) && others_are(t, i, i, |k| {
                    matches!(
                        k,
                        K::Filler | K::Thanks | K::Demo | K::Msg | K::SendMsg | K::Det | K::Noise
                    )
                }) =>
            {
                found(Strength::Ask, bits)
            }
            // "enough (with these)!", "ya basta", "chega": annoyed, not explicit;
            // "Is that enough?" is an ordinary question, hence Vague.
            K::Enough
                if others_are(t, i, i, |k| {
                    matches!(
                        k,
                        K::Filler
                            | K::Thanks
                            | K::Demo
                            | K::Msg
                            | K::SendMsg
                            | K::Send
                            | K::No
                            | K::Det
                            | K::Noise
                    )
                }) =>
            {
                found(Strength::Vague, bits)
            }
            // "too many texts", "can you text me less?": frequency, not a stop.
            K::Many if has(t, |k| matches!(k, K::Msg | K::SendMsg | K::Send)) => {
                found(Strength::Ask, bits)
            }
            // "pause texts for a month": a temporary stop; there is no pause, ask.
            K::Pause
                if has(t, |k| matches!(k, K::Msg | K::SendMsg | K::Send))
                    || others_are(t, i, i, bare_ok) =>
            {
                found(Strength::Ask, bits)
            }
            K::Bother => bother(t, i, bits),
            // "why do you keep texting me", "you guys keep texting me", "I keep
            // getting these": a complaint; "(please) keep texting me" is not.
            K::Keep
                if matches!(
                    text(t, i.wrapping_sub(1)),
                    "you"
                        | "u"
                        | "ya"
                        | "they"
                        | "guys"
                        | "people"
                        | "all"
                        | "i"
                        | "we"
                        | "why"
                        | "still"
                        | "always"
                        | "constantly"
                ) && t
                    .get(i + 1)
                    .is_some_and(|x| matches!(x.k, K::Send | K::SendMsg | K::Receive | K::Get)) =>
            {
                found(Strength::Ask, bits)
            }
            _ => Step::Skip,
        };
        match step {
            Step::Negated => return NOTHING,
            Step::Found(f) => best = best.max(f),
            Step::Skip => {}
        }
    }
    best
}

// ---------------------------------------------------------------------------
// The rules.

/// A strong stop word spanning tokens `s..=e` ("stop", "opt out", "hören ...
/// auf"). Used with only filler, politeness and messaging objects around it,
/// it is a clear request: "Please stop", "Stop it", "stop stop",
/// "unsubscribe me", "I want to opt out", "STOP por favor", "Stop texting me".
/// * negated ("don't stop", "N'arrêtez pas") → the clause asks for nothing;
/// * a noun after a determiner ("the bus stop") → not a request;
/// * another sense right after it ("stop by", "parar en") → not a request;
/// * a messaging object followed by a restriction ("stop texting me so
///   early") → ask, as the consumer may want fewer texts, not none;
/// * insults and profanity around it are noise: "STOP FUCKING TEXTING ME",
///   "STOP you idiot", "ARRET bande de nuls" read as "stop (texting me)";
/// * an order to stop bothering the reader ("STOP HARASSING ME", "arrête
///   de me harceler", "hör auf mich zu belästigen") → a clear request
///   (see [`bother_right`]);
/// * opening its clause as an order and followed by one word the rules do
///   not know, ending the clause or followed only by insults ("Stop
///   weirdo", "STOP scumbags") → firm: a clear request in a statement, ask
///   in a question (see [`loose`] for the exceptions: "stop worrying",
///   "stop the car", "Stop autopay", "Stop order 5512" stay vague);
/// * otherwise followed or preceded by unknown words ("What time do you
///   stop serving lunch?", "Stop payment on check 1042") → vague: ask in a
///   statement, nothing in a question.
fn strong(t: &[Tok<'_>], s: usize, e: usize, bits: u8) -> Step {
    let Some(from) = unnegated(t, s, bits) else {
        return Step::Negated;
    };
    if post_negated(t, e) || t.iter().take(e).skip(s + 1).any(|x| x.k == K::Neg) {
        return Step::Negated;
    }
    if noun_use(t, s, bits) || t.get(e + 1).is_some_and(|x| x.k == K::Sense) {
        return Step::Skip;
    }
    // "STOP HARASSING ME", "arrête de me harceler", "hör auf mich zu
    // belästigen": an order to stop bothering the reader.
    if let Some(qualified) = bother_right(t, e + 1)
        && (from < s || imperative(t, s))
    {
        let strength = if qualified {
            Strength::Ask
        } else {
            Strength::Revoke
        };
        return found(demand(strength, from < s), bits);
    }
    let left_ok = t.iter().take(from).all(|x| context_ok(x.k));
    let strength = match right(t, e + 1) {
        Right::End if left_ok => Strength::Revoke,
        Right::Other if from == s && imperative(t, s) && loose(t, e + 1) => Strength::Firm,
        Right::End | Right::Other => Strength::Vague,
        Right::Object { qualified: false } => Strength::Revoke,
        Right::Object { qualified: true } | Right::Qualifier => Strength::Ask,
    };
    if from < s && strength == Strength::Vague {
        // "Can't you stop worrying": the question asks nothing of the texts.
        return Step::Negated;
    }
    found(demand(strength, from < s), bits)
}

/// Where the words before a stop word at `s` start to count: `Some(s)` if it
/// is not negated; `Some(start)` if the negation is part of a reproachful
/// question that asks to stop (see [`rhetorical`]), whose first word is at
/// `start`; `None` if it is negated ("don't stop", "I can't stop").
fn unnegated(t: &[Tok<'_>], s: usize, bits: u8) -> Option<usize> {
    if negated(t, s, bits) {
        rhetorical(t, s)
    } else {
        Some(s)
    }
}

/// A clear request made in a reproachful question is a demand.
fn demand(strength: Strength, rhetorical: bool) -> Strength {
    if rhetorical && strength == Strength::Revoke {
        Strength::Demand
    } else {
        strength
    }
}

/// A negation before a stop word at `s` that asks for the stop rather than
/// refusing it: "why won't you (just) stop", "can't you stop", "couldn't you
/// please quit", "why don't you stop" (but "don't you stop ..." is a
/// negative order), "¿por qué no dejan de ...?", "por que não param?".
/// Returns the index of the construction's first word.
fn rhetorical(t: &[Tok<'_>], s: usize) -> Option<usize> {
    // Back over softeners and object pronouns ("just", "please", "me").
    let mut j = s;
    while j > 0
        && (matches!(
            text(t, j - 1),
            "just" | "please" | "pls" | "plz" | "ever" | "guys" | "all" | "me" | "nos"
        ) || t.get(j - 1).is_some_and(|x| x.k == K::Noise))
    {
        j -= 1;
    }
    let at = |back: usize| text(t, j.wrapping_sub(back));
    match (at(1), at(2), at(3)) {
        // "why won't you", "can't you", "why can't you".
        ("you" | "u" | "ya" | "yall", "t", "can" | "won" | "couldn" | "wouldn")
        | ("you" | "u" | "ya" | "yall", "cant" | "wont" | "couldnt" | "wouldnt", _) => {
            let neg = if at(2) == "t" { 3 } else { 2 };
            Some(j.saturating_sub(neg))
        }
        // "why don't you": a suggestion; without "why", an order not to.
        ("you" | "u" | "ya" | "yall", "t", "don") if at(4) == "why" => Some(j.saturating_sub(4)),
        ("you" | "u" | "ya" | "yall", "dont", "why") => Some(j.saturating_sub(3)),
        // "por qué no ...", "porque no ...", "por que não ...".
        ("no" | "nao", "que", "por") => Some(j.saturating_sub(3)),
        ("no" | "nao", "porque" | "pq", _) => Some(j.saturating_sub(2)),
        _ => None,
    }
}

/// A weak stop word spanning `s..=e` ("cancel", "end", "quit", "cancelar",
/// "sair", "annuler", "stornieren", "dejen de"): these have everyday senses
/// (an order, an appointment, "the end of the week", "vou sair agora"), so:
/// * with a messaging object ("Cancel my subscription", "quit texting me",
///   "sair da lista") → a clear request (or ask, if restricted);
/// * opening its clause, with insults after it ("cancel you idiots", "PARE
///   seus chatos") → a clear request; with "you" and an unknown word
///   ("QUIT u bozos") → firm (see [`abuse`]);
/// * alone with only filler ("I want to cancel", "cancel please") → ask;
/// * alone with nothing at all (a direct call with "cancel") → the keyword;
/// * with another object or context ("cancel my order") → nothing.
fn weak(t: &[Tok<'_>], s: usize, e: usize, bits: u8) -> Step {
    let Some(from) = unnegated(t, s, bits) else {
        return Step::Negated;
    };
    if post_negated(t, e) {
        return Step::Negated;
    }
    if noun_use(t, s, bits) {
        return Step::Skip;
    }
    if let Some(qualified) = object_right(t, e + 1) {
        let strength = if qualified {
            Strength::Ask
        } else {
            Strength::Revoke
        };
        return found(demand(strength, from < s), bits);
    }
    // German puts the verb last: "Kann ich mein Abo stornieren?".
    if bits & DE != 0 && object_left(t, s) {
        return found(Strength::Revoke, bits);
    }
    // "quit bothering me", "deja de molestarme", "pare de me incomodar".
    if let Some(qualified) = bother_right(t, e + 1)
        && (from < s || imperative(t, s))
    {
        let strength = if qualified {
            Strength::Ask
        } else {
            Strength::Revoke
        };
        return found(demand(strength, from < s), bits);
    }
    // An order with abuse: "cancel you idiots", "QUIT wtf", "PARE seus chatos".
    if from == s
        && imperative(t, s)
        && let Some(strength) = abuse(t, e + 1)
    {
        return found(strength, bits);
    }
    if others_are(t, s, e, |k| matches!(k, K::Strong | K::Weak)) {
        found(Strength::Revoke, bits)
    } else if others_are(t, s, e, bare_ok) {
        found(Strength::Ask, bits)
    } else {
        Step::Skip
    }
}

/// "opt out", "opt me out" (strong); "I never opted in" (a consent dispute).
fn opt(t: &[Tok<'_>], i: usize) -> Step {
    match text(t, i + 1) {
        "out" => strong(t, i, i + 1, EN),
        "me" | "us" if text(t, i + 2) == "out" => strong(t, i, i + 2, EN),
        "in" if negated(t, i, EN) => found(Strength::Ask, EN),
        _ => Step::Skip,
    }
}

/// German separable verb: "hören Sie (bitte) auf", "hört auf" = stop; a
/// "nicht" between ("Hört bloß nicht auf") negates it.
fn hear(t: &[Tok<'_>], i: usize, bits: u8) -> Step {
    match t
        .iter()
        .enumerate()
        .skip(i + 1)
        .find(|(_, x)| x.k == K::Auf)
    {
        Some((auf, _)) => strong(t, i, auf, bits),
        None => Step::Skip,
    }
}

/// A negated sending verb: "Don't text me", "No me envíes más mensajes",
/// "Ne m'envoyez plus de messages", "Não me mande mais", "Schickt mir keine
/// Nachrichten mehr" → a clear request; with a restriction ("don't text me
/// after 9pm") → ask; with another object ("you never text me back") →
/// nothing. Also the complaint "why are you texting me (at night)" → ask;
/// but "why won't you send me the code?", "why didn't you text me back?"
/// → nothing.
fn negated_send(t: &[Tok<'_>], i: usize, bits: u8) -> Step {
    if t.iter()
        .take(i)
        .any(|x| matches!(x.text, "why" | "pourquoi" | "warum" | "porque"))
    {
        return if negated(t, i, bits) || matches!(right(t, i + 1), Right::Other) {
            Step::Skip
        } else {
            found(Strength::Ask, bits)
        };
    }
    // "schickt mir keine ...", "... nie wieder SMS": the negation follows the verb.
    let mut from = i + 1;
    let mut neg = negated(t, i, bits);
    if let Some((j, x)) = t
        .iter()
        .enumerate()
        .skip(i + 1)
        .find(|(_, x)| !matches!(x.k, K::Filler | K::Det | K::Noise))
        && matches!(x.text, "kein" | "keine" | "keinen" | "nicht" | "nie")
    {
        neg = true;
        from = j + 1;
    }
    if !neg {
        return Step::Skip;
    }
    match right(t, from) {
        Right::End | Right::Object { qualified: false } => found(Strength::Revoke, bits),
        Right::Object { qualified: true } | Right::Qualifier => found(Strength::Ask, bits),
        Right::Other => Step::Skip,
    }
}

/// A negated wish to receive: "I don't want (to receive) these texts", "Je ne
/// veux plus recevoir de SMS", "Não quero mais receber mensagens", "Ich will
/// keine SMS mehr", "I no longer need your texts" → a clear request. A stop
/// word after the wish ("I don't want to opt out") is left to that word's
/// rule, which sees the negation. "Need" takes only the messages themselves:
/// "(you) don't need to text me back" is not a request.
fn negated_want(t: &[Tok<'_>], i: usize, bits: u8) -> Step {
    let mut neg = negated(t, i, bits);
    let need = matches!(text(t, i), "need" | "needs");
    for (j, x) in t.iter().enumerate().skip(i + 1) {
        match x.k {
            K::Send | K::SendMsg if need => return Step::Skip,
            K::Neg | K::No => neg = true,
            K::Filler | K::Det | K::More | K::Thanks | K::Noise => {}
            // "I don't want these" is probably the texts, but not surely.
            K::Demo if j + 1 == t.len() => {
                return if neg {
                    found(Strength::Vague, bits)
                } else {
                    Step::Skip
                };
            }
            K::Demo => {}
            K::Receive | K::Get | K::Msg | K::SendMsg | K::Send if neg => {
                let strength = if qualified(t, j + 1) {
                    Strength::Ask
                } else {
                    Strength::Revoke
                };
                return found(strength, bits);
            }
            // German puts "nicht" after the object: "Ich will Ihre
            // Nachrichten nicht mehr (erhalten)"; not "... nicht verpassen".
            K::Msg | K::SendMsg
                if bits & DE != 0
                    && t.iter().skip(j + 1).any(|x| x.text == "nicht")
                    && t.iter().skip(j + 1).all(|x| {
                        matches!(
                            x.k,
                            K::Neg | K::More | K::Receive | K::Get | K::Filler | K::Thanks
                        )
                    }) =>
            {
                return found(Strength::Revoke, bits & DE);
            }
            _ => return Step::Skip,
        }
    }
    Step::Skip
}

/// "take me off your list", "Me tira dessa lista", "quítame de la lista",
/// "remove my number from your list" → a clear request; "remove me", "take
/// me off" with no list named, or a bare "remove" → ask; "take me to the
/// store" → nothing. "get"
/// counts only with "off"/"out" ("get me off this list").
fn take(t: &[Tok<'_>], i: usize, bits: u8) -> Step {
    let is_me = |j: usize| matches!(text(t, j), "me" | "moi" | "mich" | "us" | "nos");
    let me = if t.get(i).is_some_and(|x| x.k == K::TakeMe) {
        i
    } else if is_me(i + 1) {
        i + 1
    } else if (is_me(i + 2) && t.get(i + 1).is_some_and(|x| x.k == K::Filler))
        || (text(t, i + 1) == "my" && t.get(i + 2).is_some_and(|x| x.k == K::Number))
    {
        // "entfernen Sie mich", "remove my number".
        i + 2
    } else if i > 0 && is_me(i - 1) {
        // Clitic before the verb (pt, es): "me tira", "me quita".
        i
    } else if t.get(i).is_some_and(|x| x.k == K::Take && x.text != "take")
        && others_are(t, i, i, bare_ok)
    {
        // "remove", "delete please": AWS counts REMOVE as an opt-out word,
        // but the object is unstated; ask.
        return found(Strength::Ask, bits);
    } else {
        return Step::Skip;
    };
    if t.get(i).is_some_and(|x| x.k == K::Get) && !matches!(text(t, me + 1), "off" | "out") {
        return Step::Skip;
    }
    match object_right(t, me + 1) {
        Some(false) => found(Strength::Revoke, bits),
        Some(true) => found(Strength::Ask, bits),
        None if t
            .iter()
            .skip(me + 1)
            .all(|x| matches!(x.k, K::Filler | K::Det | K::Thanks | K::Noise)) =>
        {
            found(Strength::Ask, bits)
        }
        None => Step::Skip,
    }
}

/// "no more texts", "Keine SMS mehr bitte", "plus de SMS", "no más
/// mensajes": asks for no further messages but, as a bare noun phrase, is
/// not clearly a revocation (issue #11 lists "no more texts" as clarify).
/// So is a bare "no more (please)", "no más", "nunca mais", "keine mehr,
/// danke"; "no more questions", "no more than two" are not.
fn no_more(t: &[Tok<'_>], i: usize, bits: u8) -> Step {
    let negator = |j: Option<usize>| {
        j.and_then(|j| t.get(j))
            .is_some_and(|x| matches!(x.k, K::Neg | K::No))
    };
    let near = negator(i.checked_sub(1))
        || negator(i.checked_sub(2))
        || (text(t, i) == "plus" && text(t, i + 1) == "de");
    if near
        && (has(t, |k| matches!(k, K::Msg | K::SendMsg | K::Send))
            || others_are(t, i, i, |k| {
                matches!(k, K::No | K::Neg | K::Filler | K::Thanks | K::Noise)
            }))
    {
        found(Strength::Ask, bits)
    } else {
        Step::Skip
    }
}

/// "no texts (please)", "no texting": ask.
fn no_object(t: &[Tok<'_>], i: usize, bits: u8) -> Step {
    let next = t
        .iter()
        .skip(i + 1)
        .find(|x| !matches!(x.k, K::Filler | K::More | K::Det | K::Noise));
    if next.is_some_and(|x| matches!(x.k, K::Msg | K::SendMsg | K::Send)) {
        found(Strength::Ask, bits)
    } else {
        Step::Skip
    }
}

/// "wrong number", "Número equivocado", "Falsche Nummer", "not my number",
/// "this number belongs to someone else", "who gave you my number?": the
/// person texted never consented, or was reassigned the number; ask once.
fn number(t: &[Tok<'_>], i: usize) -> Step {
    for j in [i.wrapping_sub(1), i + 1] {
        if let Some(x) = t.get(j).filter(|x| x.k == K::Wrong) {
            return found(Strength::Ask, x.langs);
        }
    }
    let reassigned = t
        .iter()
        .any(|x| matches!(x.text, "belongs" | "else" | "owner" | "reassigned"));
    let not_mine = text(t, i.wrapping_sub(1)) == "my"
        && t.get(i.wrapping_sub(2)).is_some_and(|x| x.k == K::Neg);
    let how_got = t.iter().any(|x| matches!(x.text, "who" | "how" | "where"))
        && t.iter()
            .any(|x| matches!(x.text, "gave" | "give" | "got" | "get"));
    if reassigned || not_mine || how_got {
        found(Strength::Ask, EN)
    } else {
        Step::Skip
    }
}

/// A bother verb ("bothering", "molesten", "déranger", "nerven"). After a
/// stop word aimed at the reader ("STOP HARASSING ME", "quit bothering
/// me") the stop word's rule finds a clear request (see [`bother_right`]);
/// this rule asks for the rest: "stop bothering my wife", "Don't bother
/// me", "no me molesten más" (like "leave me alone"). Spanish and
/// Portuguese "para de (me) …" is "stop …" only before such a verb, as
/// "para" is also "for": "Para de me incomodar", "para de molestarme" are
/// clear; "para de molestar" asks.
fn bother(t: &[Tok<'_>], i: usize, bits: u8) -> Step {
    if negated(t, i, bits)
        || t.iter()
            .take(i)
            .any(|x| matches!(x.k, K::Strong | K::Weak | K::Dejar | K::Hear | K::Keep))
    {
        return found(Strength::Ask, bits);
    }
    let iberian = bits & (ES | PT);
    // Back over a clitic pronoun: "para de me incomodar".
    let de = if i > 0 && me_word(text(t, i - 1)) {
        i.wrapping_sub(2)
    } else {
        i.wrapping_sub(1)
    };
    let para = de.wrapping_sub(1);
    if iberian != 0 && text(t, de) == "de" && text(t, para) == "para" && imperative(t, para) {
        let strength = if aimed(t, i) && !qualified(t, i + 1) {
            Strength::Revoke
        } else {
            Strength::Ask
        };
        return found(strength, iberian);
    }
    Step::Skip
}

// ---------------------------------------------------------------------------
// Context helpers.

/// A bother verb aimed at the reader after a stop word ending at `from - 1`,
/// skipping filler and insults: `Some(qualified)` ("harassing me", "bugging
/// me at night"), else `None` ("stop bothering my wife").
fn bother_right(t: &[Tok<'_>], from: usize) -> Option<bool> {
    let (j, x) = t
        .iter()
        .enumerate()
        .skip(from)
        .find(|(_, x)| !passed(x.k))?;
    (x.k == K::Bother && aimed(t, j)).then(|| qualified(t, j + 1))
}

/// Whether the bother verb at `j` has the reader as its object: "harassing
/// me", "bugging us", "me harceler", "m'embêter", "me incomodar", "mich zu
/// belästigen", "molestarme".
fn aimed(t: &[Tok<'_>], j: usize) -> bool {
    let before = match text(t, j.wrapping_sub(1)) {
        "zu" => text(t, j.wrapping_sub(2)),
        w => w,
    };
    me_word(text(t, j + 1)) || me_word(before) || matches!(text(t, j), "molestarme" | "molestarnos")
}

/// The reader as an object: "me", "us", "m'", "moi", "nous", "mich", "uns", "nos".
fn me_word(w: &str) -> bool {
    matches!(
        w,
        "me" | "us" | "m" | "moi" | "nous" | "mich" | "uns" | "nos"
    )
}

/// Words that address the sender: "you", "u", "guys", "vous", "ihr", "seus".
fn vocative(w: &str) -> bool {
    matches!(
        w,
        "you"
            | "u"
            | "ya"
            | "yall"
            | "ye"
            | "guys"
            | "ustedes"
            | "vous"
            | "ihr"
            | "seus"
            | "suas"
            | "voces"
            | "vcs"
            | "tu"
            | "du"
    )
}

/// Friendly or mild [`K::Noise`] words: "Cancel it man" is no angrier than
/// "Cancel it", so these never make an order clear (see [`abuse`],
/// [`insults_only`]); they stay noise everywhere else ("Stop it man").
fn mild(w: &str) -> bool {
    matches!(
        w,
        "man" | "mate" | "bro" | "bruh" | "dude" | "hell" | "heck" | "bloody"
    )
}

/// Whether the words from `from` to the end of the clause are only insults
/// and words addressing the sender ("you idiots", "ihr Idioten"), or none.
fn insults_only(t: &[Tok<'_>], from: usize) -> bool {
    t.iter()
        .skip(from)
        .all(|x| (x.k == K::Noise && !mild(x.text)) || vocative(x.text))
}

/// Negation before the word at `s`: a negator ("not", "never", "don't",
/// "ne/n'", "não", "nicht", "nunca", "jamais", "no longer") up to four words back, with
/// only filler, wishes and determiners between ("I don't want to opt out",
/// "Please don't unsubscribe me", "Não parem"). Spanish/Portuguese "no"
/// negates the words of those languages ("No dejen de mandarme ofertas"); in
/// English "no" is an interjection ("Start? No, STOP").
fn negated(t: &[Tok<'_>], s: usize, bits: u8) -> bool {
    let mut after = "";
    for x in t.iter().take(s).rev().take(4) {
        match x.k {
            K::Neg => return true,
            // "I no longer wish to receive these".
            K::No if bits & EN == 0 || after == "longer" => return true,
            K::No | K::Filler | K::Want | K::Det | K::More | K::Thanks | K::Noise => {}
            _ => return false,
        }
        after = x.text;
    }
    false
}

/// French "pas"/"jamais" or German "nicht" right after the word
/// ("arrête pas", "stoppt nicht").
fn post_negated(t: &[Tok<'_>], e: usize) -> bool {
    matches!(text(t, e + 1), "pas" | "jamais" | "nicht")
}

/// An English stop word used as a noun: "the end", "a stop", "bus stop".
fn noun_use(t: &[Tok<'_>], s: usize, bits: u8) -> bool {
    bits & EN != 0 && s > 0 && t.get(s - 1).is_some_and(|x| x.k == K::Det)
}

/// Words that may stand before a stop word without making it doubtful:
/// filler, politeness, opt-in/help words ("Yes stop", "HELP STOP"), question
/// words, other stop words and messaging words.
fn context_ok(k: K) -> bool {
    matches!(
        k,
        K::Filler
            | K::Want
            | K::Det
            | K::Thanks
            | K::Wh
            | K::No
            | K::Strong
            | K::Weak
            | K::Opt
            | K::Out
            | K::Demo
            | K::Msg
            | K::SendMsg
            | K::More
            | K::Noise
    )
}

/// Words that may accompany a weak stop word for "ask" ("I want to cancel").
fn bare_ok(k: K) -> bool {
    matches!(
        k,
        K::Filler
            | K::Want
            | K::Det
            | K::Thanks
            | K::No
            | K::Wh
            | K::Strong
            | K::Weak
            | K::Opt
            | K::Out
            | K::More
            | K::Noise
    )
}

/// What follows a stop word.
enum Right {
    /// Nothing but filler, or a new clause ("stop who is this").
    End,
    /// A messaging object ("texting", "these", "my subscription"), and
    /// whether a restriction follows it ("so early", "after 9pm").
    Object { qualified: bool },
    /// A restriction with no object ("for a week", "on weekends").
    Qualifier,
    /// Something else ("serving lunch", "my order").
    Other,
}

fn right(t: &[Tok<'_>], from: usize) -> Right {
    for (j, x) in t.iter().enumerate().skip(from) {
        match x.k {
            k if passed(k) => {}
            k if k.is_object() => {
                return Right::Object {
                    qualified: qualified(t, j + 1),
                };
            }
            K::Qual | K::Many => return Right::Qualifier,
            K::Wh | K::Neg => return Right::End,
            _ if qualified(t, j + 1) => return Right::Qualifier,
            _ => return Right::Other,
        }
    }
    Right::End
}

/// Words [`right`] passes over to find what a stop word acts on.
fn passed(k: K) -> bool {
    matches!(
        k,
        K::Filler
            | K::Det
            | K::Thanks
            | K::No
            | K::Strong
            | K::Weak
            | K::Opt
            | K::Out
            | K::More
            | K::Want
            | K::Noise
    )
}

/// Whether the stop word at `s` opens its clause as an order: nothing
/// before it but interjections, politeness, insults and other stop words
/// ("STOP", "omg stop", "please stop", "I said stop", "stop stop", "ya
/// basta, baja"). "I stop at the gym", "we end early" are not orders.
fn imperative(t: &[Tok<'_>], s: usize) -> bool {
    t.iter().take(s).enumerate().all(|(j, x)| {
        matches!(
            x.k,
            K::Thanks | K::No | K::Noise | K::Strong | K::Weak | K::Opt | K::Out
        ) || matches!(
            x.text,
            "please"
                | "pls"
                | "plz"
                | "plse"
                | "pleas"
                | "pleeze"
                | "kindly"
                | "ok"
                | "okay"
                | "k"
                | "kk"
                | "hey"
                | "hi"
                | "hello"
                | "yes"
                | "yeah"
                | "yea"
                | "yep"
                | "just"
                | "so"
                | "oh"
                | "omg"
                | "ugh"
                | "seriously"
                | "now"
                | "again"
                | "said"
                | "ya"
                | "por"
                | "favor"
                | "porfa"
                | "porfavor"
                | "svp"
                | "stp"
                | "bitte"
                | "jetzt"
                | "endlich"
                | "sofort"
                | "pf"
                | "pfv"
                | "si"
                | "sim"
                | "oui"
                | "ja"
        ) || (x.text == "i" && matches!(text(t, j + 1), "said" | "say"))
    })
}

/// After a stop word in imperative position at `from - 1`, whose [`right`]
/// is [`Right::Other`]: whether that other word reads as abuse or emphasis
/// rather than as another object. So are an unknown word that ends the
/// clause or is followed only by insults ("Stop weirdo", "Stop 2", "STOP
/// scumbags you idiots"), a word of a language not enabled, and an
/// annoyed phrase ("STOP wrong number", "STOP goodbye", "STOP leave me
/// alone"). Not so, as the stop may be of something else:
/// * an unknown word followed by other words ("Stop payment on check
///   1042", "Stop order 5512", "Revoke access for Bob", "stop shipment
///   please", "Stop delivery man": [`mild`] words are no insults);
/// * a word for another thing the sender handles ("Stop autopay", "Please
///   stop delivery", "Arrêt prélèvement": [`thing`]);
/// * a gerund right after it ("stop worrying", "stop smoking");
/// * an article or possessive before the word ("stop the car", "stop my
///   card", "baja el volumen");
/// * a preposition right after the stop word ("stop for gas", "stop on Main
///   Street", "arrête de fumer", "pare de fumar"), or "here"/"there" ("stop
///   here please"). (A noun that makes a compound with it, "stop loss",
///   "arrêt maladie", "Baja California", is a `K::Sense` word.)
fn loose(t: &[Tok<'_>], from: usize) -> bool {
    let Some((j, x)) = t.iter().enumerate().skip(from).find(|(_, x)| !passed(x.k)) else {
        return false;
    };
    if !matches!(
        x.k,
        K::Other | K::Known | K::Wrong | K::Goodbye | K::Enough | K::Done | K::Leave
    ) {
        return false;
    }
    // An unknown word ends the clause, or only insults follow it: "Stop
    // weirdo", "STOP scumbags you idiots"; not "Stop payment on check
    // 1042", "stop shipment please", "Stop order 5512".
    if matches!(x.k, K::Other | K::Known) && (thing(x.text) || !insults_only(t, j + 1)) {
        return false;
    }
    if j == from && x.k == K::Other && x.text.len() > 4 && x.text.ends_with("ing") {
        return false;
    }
    if matches!(
        text(t, from),
        "de" | "d"
            | "to"
            | "of"
            | "for"
            | "on"
            | "with"
            | "zu"
            | "mit"
            | "con"
            | "com"
            | "avec"
            | "here"
            | "there"
    ) {
        return false;
    }
    !t.iter().take(j).skip(from).any(|y| {
        y.k == K::Det
            || matches!(
                y.text,
                "el" | "la"
                    | "los"
                    | "las"
                    | "le"
                    | "les"
                    | "l"
                    | "un"
                    | "una"
                    | "une"
                    | "o"
                    | "os"
                    | "der"
                    | "die"
                    | "das"
                    | "den"
                    | "dem"
                    | "ein"
                    | "eine"
                    | "einen"
            )
    })
}

/// After a weak stop word in imperative position: insults ("cancel you
/// idiots", "QUIT wtf", "END it dammit", "PARE seus chatos") make the order
/// clear; "you" and an unknown word ending the clause ("quit u weirdos")
/// make it firm. Anything else ("cancel my order", "quit smoking", "cancel
/// you guys appointment 3pm") is not abuse: `None`. Friendly words ("Cancel
/// it man", "cancel it bro") are no abuse either: see [`mild`].
fn abuse(t: &[Tok<'_>], from: usize) -> Option<Strength> {
    let mut noise = false;
    let mut addressed = false;
    for (j, x) in t.iter().enumerate().skip(from) {
        match x.k {
            K::Noise => noise |= !mild(x.text),
            k if bare_ok(k) => {}
            K::Other | K::Known
                if j > from
                    && vocative(text(t, j - 1))
                    && !thing(x.text)
                    && insults_only(t, j + 1) =>
            {
                addressed = true;
            }
            _ => return None,
        }
    }
    if noise {
        Some(Strength::Revoke)
    } else if addressed {
        Some(Strength::Firm)
    } else {
        None
    }
}

/// Things a stop word may be about that are not the messages: "Stop
/// autopay", "Please stop delivery", "Revoke access", "Arrêt prélèvement",
/// "Baja tarjeta", "Stopp Lastschrift". After a stop word they make it
/// doubtful, never clear. (Looked up only there, not in [`lex`], so they
/// cost nothing on the fast path.)
fn thing(w: &str) -> bool {
    matches!(
        w,
        "abbuchung"
            | "access"
            | "account"
            | "alarm"
            | "appointment"
            | "autopay"
            | "autorenew"
            | "autorenewal"
            | "bestellung"
            | "billing"
            | "booking"
            | "buchung"
            | "card"
            | "cargo"
            | "cargos"
            | "cartao"
            | "carte"
            | "charge"
            | "charges"
            | "check"
            | "cheque"
            | "cita"
            | "cobranca"
            | "commande"
            | "dauerauftrag"
            | "debit"
            | "debito"
            | "deliveries"
            | "delivery"
            | "domiciliacion"
            | "encomenda"
            | "entrega"
            | "lastschrift"
            | "lieferung"
            | "livraison"
            | "membership"
            | "order"
            | "orders"
            | "pagamento"
            | "pago"
            | "pagos"
            | "paiement"
            | "payment"
            | "payments"
            | "pedido"
            | "pedidos"
            | "prelevement"
            | "prelevements"
            | "prescription"
            | "refill"
            | "renewal"
            | "renovacao"
            | "renovacion"
            | "reserva"
            | "reservation"
            | "service"
            | "servicio"
            | "servico"
            | "shipment"
            | "shipments"
            | "shipping"
            | "tarjeta"
            | "termin"
            | "transaction"
            | "transfer"
            | "trial"
            | "virement"
            | "zahlung"
            | "zahlungen"
    )
}

/// A messaging object after `from`, skipping filler: `Some(qualified)`.
fn object_right(t: &[Tok<'_>], from: usize) -> Option<bool> {
    for (j, x) in t.iter().enumerate().skip(from) {
        match x.k {
            K::Filler
            | K::Det
            | K::Thanks
            | K::No
            | K::More
            | K::Want
            | K::Strong
            | K::Weak
            | K::Noise => {}
            k if k.is_object() => return Some(qualified(t, j + 1)),
            _ => return None,
        }
    }
    None
}

/// A messaging object before `s`, skipping filler.
fn object_left(t: &[Tok<'_>], s: usize) -> bool {
    for x in t.iter().take(s).rev() {
        match x.k {
            K::Filler | K::Det | K::Thanks | K::Want | K::Noise => {}
            k => return k.is_object(),
        }
    }
    false
}

/// A restriction of time or frequency from `from` on.
fn qualified(t: &[Tok<'_>], from: usize) -> bool {
    t.iter()
        .skip(from)
        .any(|x| matches!(x.k, K::Qual | K::Many))
}

/// Whether every token outside `s..=e` satisfies `ok`.
fn others_are(t: &[Tok<'_>], s: usize, e: usize, ok: impl Fn(K) -> bool) -> bool {
    t.iter()
        .enumerate()
        .all(|(j, x)| (s..=e).contains(&j) || ok(x.k))
}

fn has(t: &[Tok<'_>], ok: impl Fn(K) -> bool) -> bool {
    t.iter().any(|x| ok(x.k))
}

/// The text of token `j`, or `""` past either end.
fn text<'a>(t: &[Tok<'a>], j: usize) -> &'a str {
    t.get(j).map_or("", |x| x.text)
}

// ---------------------------------------------------------------------------
// Glued words.

/// Stop words that replies glue other words to: "STOPIT", "STOPNOW",
/// "unsubscribeme", "ENDALL", "stopp" + "bitte". Each word is tried as a
/// prefix of an unknown word only, by its first letters (see [`stems`]).
const GLUED: [(&str, u8); 12] = [
    ("stop", EN),
    ("stopp", DE),
    ("unsubscribe", EN),
    ("unsub", EN),
    ("optout", EN),
    ("revoke", EN),
    ("quit", EN),
    ("cancel", EN),
    ("end", EN),
    ("baja", ES),
    ("arret", FR),
    ("arretez", FR),
];

/// The words of [`GLUED`] that `t` may begin with, by its first three
/// letters: most unknown words begin with none of them and cost one `match`.
#[inline]
fn stems(t: &[u8]) -> &'static [(&'static str, u8)] {
    let [a, b, c, ..] = *t else {
        return &[];
    };
    // Bytes, not slices: a `match` on byte strings compares each in turn.
    let range = match (a, b, c) {
        (b's', b't', b'o') => 0..2,
        (b'u', b'n', b's') => 2..4,
        (b'o', b'p', b't') => 4..5,
        (b'r', b'e', b'v') => 5..6,
        (b'q', b'u', b'i') => 6..7,
        (b'c', b'a', b'n') => 7..8,
        (b'e', b'n', b'd') => 8..9,
        (b'b', b'a', b'j') => 9..10,
        (b'a', b'r', b'r') => 10..12,
        _ => return &[],
    };
    GLUED.get(range).unwrap_or_default()
}

/// What may be glued after a word of [`GLUED`], any number of times, for
/// the whole to be as clear as the word alone: objects of the order,
/// urgency and politeness ("STOPITNOW", "stoppls", "quitall").
const GLUE: [&str; 33] = [
    "it",
    "now",
    "all",
    "me",
    "pls",
    "plz",
    "plse",
    "pleas",
    "please",
    "asap",
    "already",
    "right",
    "forever",
    "them",
    "this",
    "these",
    "texting",
    "txting",
    "messaging",
    "sending",
    "emailing",
    "calling",
    "thx",
    "thanks",
    "ty",
    "ya",
    "svp",
    "stp",
    "bitte",
    "jetzt",
    "porfa",
    "porfavor",
    "agora",
];

/// An unknown word that is a stop word with only [`GLUE`] words glued after
/// it ("STOPIT", "STOPNOW", "unsubscribeme"): the stop word, as strong.
/// "stopover", "ending", "endless", "quite", "cancellation" have other
/// endings, and "endme" ("end me") is not an order to the sender.
fn glued(t: &[u8]) -> Option<W> {
    let stems = stems(t);
    if stems.is_empty() || !(5..=32).contains(&t.len()) {
        return None;
    }
    glued_to(t, stems)
}

/// [`glued`] once a stem may match, out of line: rare, and it keeps
/// [`lookup`] small.
#[inline(never)]
fn glued_to(t: &[u8], stems: &[(&str, u8)]) -> Option<W> {
    stems.iter().find_map(|&(stem, langs)| {
        let rest = t.strip_prefix(stem.as_bytes())?;
        let end_me = stem == "end" && rest.starts_with(b"me");
        let ok = !rest.is_empty() && !end_me && glue(rest, 0);
        ok.then_some(W {
            k: K::Strong,
            langs,
        })
    })
}

/// Whether `rest` is made of [`GLUE`] words only (at most eight of them).
fn glue(rest: &[u8], depth: u8) -> bool {
    rest.is_empty()
        || (depth < 8
            && GLUE.iter().any(|g| {
                rest.strip_prefix(g.as_bytes())
                    .is_some_and(|r| glue(r, depth + 1))
            }))
}

/// A message of one unknown word: a stop word with a messaging word or
/// thanks glued on ("STOPTEXTS", "stopspam", "stopthx",
/// "cancelsubscription") or the plural "stops" may be a request; ask.
/// Filler and insults make real words: "quitte", "endet", "Stoppel",
/// "endloser". Else a typo of a short stop word
/// ([`short_typo`]).
fn one_word(tok: &str, mask: u8) -> Intent {
    let t = tok.as_bytes();
    if lex(t).k == K::Other {
        for &(stem, langs) in stems(t) {
            let Some(rest) = t.strip_prefix(stem.as_bytes()) else {
                continue;
            };
            let clear = (stem == "stop" && rest == b"s")
                || (rest.len() >= 2
                    && matches!(
                        lex(rest).k,
                        K::Thanks | K::Msg | K::SendMsg | K::Send | K::Demo | K::Spam | K::Strong
                    ));
            if clear && langs & mask != 0 {
                return Intent::Clarify(lang_of(langs & mask));
            }
        }
    }
    short_typo(tok, mask)
}

// ---------------------------------------------------------------------------
// Typos.

/// Stop words of 8+ letters whose one-edit typos count as the word, anywhere
/// in a message ("unsubscibe me"): long words have no everyday neighbours.
/// CompliancePoint recommends honouring misspellings
/// (<https://www.compliancepoint.com/marketing-compliance/important-considerations-for-pending-consent-revocation-rules/>).
const LONG: [(&str, K, u8); 16] = [
    ("unsubscribe", K::Strong, EN),
    ("abbestellen", K::Strong, DE),
    ("abmelden", K::Strong, DE),
    ("aufhoren", K::Strong, DE),
    ("austragen", K::Strong, DE),
    ("stornieren", K::Weak, DE),
    ("desabonner", K::Strong, FR),
    ("desabonnez", K::Strong, FR),
    ("desinscrire", K::Strong, FR),
    ("desinscrivez", K::Strong, FR),
    ("descadastrar", K::Strong, PT),
    ("descadastre", K::Strong, PT),
    ("desuscribir", K::Strong, ES),
    ("desuscribirme", K::Strong, ES),
    ("cancelar", K::Weak, ES | PT),
    ("unsubscribed", K::Strong, EN),
];

/// The role of the long stop word `tok` is one edit away from, if any.
fn long_typo(tok: &[u8]) -> Option<W> {
    if !(7..=14).contains(&tok.len()) {
        return None;
    }
    let (head, tail) = (tok.get(..2), tok.get(tok.len() - 2..));
    for &(kw, k, langs) in &LONG {
        let kw = kw.as_bytes();
        // One edit touches at most two neighbouring letters, so in a word of
        // 5+ letters either the first two or the last two are intact: a cheap
        // filter before the edit check.
        if kw.len().abs_diff(tok.len()) <= 1
            && (kw.get(..2) == head || kw.get(kw.len() - 2..) == tail)
            && within_one_edit(tok, kw)
        {
            return Some(W { k, langs });
        }
    }
    None
}

/// Short stop words: a one-edit typo of one of these is only "maybe"
/// ("stpo", "STIP"), and only when it is the whole message.
const SHORT: [(&str, u8); 11] = [
    ("stop", EN),
    ("quit", EN),
    ("cancel", EN),
    ("revoke", EN),
    ("optout", EN),
    ("stopall", EN),
    ("baja", ES),
    ("parar", ES | PT),
    ("arret", FR),
    ("sair", PT),
    ("stopp", DE),
];

/// A one-word message that is a typo of a short stop word → `Clarify`.
/// Common words one edit away from a stop word are not typos: "step",
/// "shop", "top", "quite", "suit", "para", "said", ... ("end" is too short
/// to have typos: "and", "send", "ed").
fn short_typo(tok: &str, mask: u8) -> Intent {
    if tok.len() < 3
        || !tok.bytes().all(|b| b.is_ascii_lowercase())
        || lex(tok.as_bytes()).k != K::Other
    {
        return Intent::None;
    }
    if matches!(
        tok,
        "step"
            | "shop"
            | "top"
            | "stops"
            | "atop"
            | "stow"
            | "slop"
            | "swop"
            | "sto"
            | "spot"
            | "suit"
            | "quite"
            | "quiet"
            | "quiz"
            | "quilt"
            | "quid"
            | "qui"
            | "quits"
            | "quip"
            | "cancer"
            | "evoke"
            | "bajo"
            | "caja"
            | "bala"
            | "baba"
            | "baya"
            | "raja"
            | "paja"
            | "haja"
            | "bajar"
            | "bajas"
            | "bajan"
            | "baje"
            | "para"
            | "parad"
            | "pagar"
            | "parer"
            | "parir"
            | "pasar"
            | "paras"
            | "sai"
            | "said"
            | "sail"
            | "saia"
            | "hair"
            | "fair"
            | "pair"
            | "air"
            | "sari"
            | "saio"
            | "sais"
            | "sain"
            | "lair"
            | "arrest"
            | "arrets"
            | "stoep"
            | "stomp"
            | "stook"
            | "stoa"
            | "soir"
    ) {
        return Intent::None;
    }
    SHORT
        .iter()
        .find(|(kw, bits)| bits & mask != 0 && within_one_edit(tok.as_bytes(), kw.as_bytes()))
        .map_or(Intent::None, |&(_, bits)| {
            Intent::Clarify(lang_of(bits & mask))
        })
}

/// Optimal string alignment distance ≤ 1: equal, or one substitution,
/// insertion, deletion or swap of two neighbours ("stpo" → "stop").
fn within_one_edit(a: &[u8], b: &[u8]) -> bool {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (Some(ra), Some(rb)) = (a.get(prefix..), b.get(prefix..)) else {
        return false;
    };
    if ra.is_empty() && rb.is_empty() {
        return true;
    }
    match ra.len().abs_diff(rb.len()) {
        0 => {
            ra.get(1..) == rb.get(1..)
                || (ra
                    .get(..2)
                    .zip(rb.get(..2))
                    .is_some_and(|(x, y)| x.first() == y.get(1) && x.get(1) == y.first())
                    && ra.get(2..) == rb.get(2..))
        }
        1 if ra.len() > rb.len() => ra.get(1..) == Some(rb),
        1 => rb.get(1..) == Some(ra),
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// The dictionary.

const EN: u8 = 1;
const ES: u8 = 2;
const FR: u8 = 4;
const PT: u8 = 8;
const DE: u8 = 16;
/// Words that belong to no one language (filler, objects, negators).
const ALL: u8 = EN | ES | FR | PT | DE;

impl Lang {
    const fn bit(self) -> u8 {
        match self {
            Lang::En => EN,
            Lang::Es => ES,
            Lang::Fr => FR,
            Lang::Pt => PT,
            Lang::De => DE,
        }
    }
}

/// The first language in `bits`, English first.
fn lang_of(bits: u8) -> Lang {
    [Lang::En, Lang::Es, Lang::Fr, Lang::Pt, Lang::De]
        .into_iter()
        .find(|l| bits & l.bit() != 0)
        .unwrap_or(Lang::En)
}

/// The role of a word.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum K {
    /// Not in the dictionary. (First, so that an all-zero [`Span`] is valid.)
    Other,
    /// A clear stop word: stop, unsubscribe, revoke, baja, arrêtez, parem, abmelden.
    Strong,
    /// A stop word with everyday senses: cancel, end, quit, cancelar, sair, annuler, stornieren.
    Weak,
    /// "opt" (opt out, opt me out, opt in).
    Opt,
    Out,
    /// German "hören"/"hört", the first half of "hören ... auf".
    Hear,
    /// German "auf", the second half.
    Auf,
    /// Spanish "dejar"/"dejen" (+ "de" = stop doing).
    Dejar,
    /// Negators: not, never, (don)'t, ne/n', pas, jamais, nunca, não, nicht, kein.
    Neg,
    /// "no", "nah", "nein", "non": an interjection in English, a negator in es/pt.
    No,
    /// Sending verbs: send, texting, mandar, envoyer, schicken.
    Send,
    /// Words that are both a sending verb and a messaging noun: text, message, email.
    SendMsg,
    /// Messaging nouns: texts, messages, promos, list, subscription, SMS, Nachrichten.
    Msg,
    /// Demonstratives standing for the messages: these, this, them.
    Demo,
    /// Receiving verbs: receive, getting, recevoir, receber, bekommen.
    Receive,
    /// "get": receiving, or "get me off".
    Get,
    /// "number", "número", "Nummer".
    Number,
    /// Filler and politeness, opt-in and help words, pronouns, auxiliaries.
    Filler,
    /// Determiners that make an English stop word a noun: the, a, bus.
    Det,
    /// Words that give a stop word another sense right after it: by, in, at, serving.
    Sense,
    /// Question words.
    Wh,
    /// Restrictions of time or frequency: early, late, after, night, weekends.
    Qual,
    Thanks,
    /// Wishes: want, quiero, veux, quero, will.
    Want,
    /// "more", "más", "plus", "mais", "mehr".
    More,
    /// Removal verbs: take, remove, tira, quita, retirez, entfernen.
    Take,
    /// Removal verbs with "me" attached: quítame, sácame.
    TakeMe,
    /// "leave", "laissez", "lasst", "deixa", "déjame".
    Leave,
    /// "alone", "tranquille", "paz", "Ruhe".
    Alone,
    /// "wrong", "equivocado", "errado", "mauvais", "falsche".
    Wrong,
    /// "signed (up)", "subscribed", "suscribí", "inscrit", "cadastrei", "angemeldet".
    Signed,
    /// "interested", "interesa", "intéressé", "interessiert".
    Interested,
    Spam,
    Goodbye,
    Done,
    /// "enough", "basta", "chega", "genug", "marre".
    Enough,
    /// Frequency: many, much, less, fewer, menos, moins, weniger.
    Many,
    Pause,
    /// "bother", "harassing", "bugging", "molesten", "incomodar", "déranger",
    /// "harceler", "belästigen", "nerven".
    Bother,
    Keep,
    /// Insults, profanity and vocatives ("idiot", "wtf", "fucking", "dude",
    /// "idiotas", "bande de nuls", "Idioten"): noise that never decides
    /// anything, but shows the reply is addressed, angrily, to the sender.
    Noise,
    /// "again", "encore", "wieder", "(de) novo", "(otra/outra) vez": filler
    /// in every rule, but it can start the rule in [`again`], so a word
    /// list keeps this role only until the message is known to be anchored.
    Again,
    /// A dictionary word of a language that is not enabled.
    Known,
}

impl K {
    /// Words that can start a rule: a message with none of them is `None`.
    fn is_anchor(self) -> bool {
        !matches!(
            self,
            K::Out
                | K::Auf
                | K::Neg
                | K::Msg
                | K::Demo
                | K::Receive
                | K::Filler
                | K::Det
                | K::Sense
                | K::Wh
                | K::Qual
                | K::Thanks
                | K::Leave
                | K::Wrong
                | K::Noise
                | K::Known
                | K::Other
        )
    }

    /// The role a word plays in the rules ([`K::Again`] is filler there).
    fn role(self) -> K {
        if self == K::Again { K::Filler } else { self }
    }

    /// What a stop or sending word can act on: the messages.
    fn is_object(self) -> bool {
        matches!(
            self,
            K::Send | K::SendMsg | K::Msg | K::Demo | K::Receive | K::Get | K::Number | K::Spam
        )
    }
}

/// A word's role and the languages it belongs to.
#[derive(Clone, Copy, Debug)]
struct W {
    k: K,
    langs: u8,
}

const fn w(k: K, langs: u8) -> W {
    W { k, langs }
}

const UNKNOWN: W = w(K::Other, ALL);

/// A word of the message with its role, for the enabled languages.
#[derive(Clone, Copy, Debug)]
struct Tok<'a> {
    text: &'a str,
    k: K,
    /// The enabled languages the word belongs to (never 0 for a role).
    langs: u8,
    /// What separates it from the next word.
    after: Gap,
}

impl Tok<'_> {
    const EMPTY: Tok<'static> = Tok {
        text: "",
        k: K::Other,
        langs: 0,
        after: Gap::Space,
    };
}

/// Looks word `t` up, reads glued orders ("STOPIT"), corrects long typos,
/// and drops the role of a word
/// whose languages are all disabled (not in `mask`).
#[inline]
fn lookup(t: &[u8], mask: u8) -> W {
    let mut found = lex(t);
    if found.k == K::Other
        && let Some(other) = glued(t).or_else(|| long_typo(t))
    {
        found = other;
    }
    let langs = found.langs & mask;
    let k = if langs == 0 { K::Known } else { found.k };
    W { k, langs }
}

/// The dictionary: every word with a role, by first letter (a `match` per
/// letter keeps each lookup to a few length-and-byte comparisons). Words are
/// canonical: lower case, no accents ("arrêtez" → "arretez", "não" → "nao").
/// Keep each word under its first letter, or it will never be found.
#[rustfmt::skip]
fn lex(t: &[u8]) -> W {
    let Some(first) = t.first() else {
        return UNKNOWN;
    };
    match first {
        b'a' => match t {
            b"a" | b"an" => w(K::Det, ALL),
            b"abbestellen" | b"abmelden" | b"aufhoeren" | b"aufhoren" | b"austragen" => w(K::Strong, DE),
            b"abends" | b"after" => w(K::Qual, ALL),
            b"abo" | b"abonnement" | b"ads" | b"advertising" | b"adverts" | b"alertas" | b"alertes" | b"alerts" | b"angebote" | b"anrufe" | b"anuncios" | b"appels" | b"assinatura" => w(K::Msg, ALL),
            b"abonne" => w(K::Signed, FR),
            b"abonniert" | b"angemeldet" => w(K::Signed, DE),
            b"adieu" => w(K::Goodbye, FR),
            b"adios" => w(K::Goodbye, ES),
            b"agora" | b"ahead" | b"ahora" | b"aide" | b"ajuda" | b"all" | b"alles" | b"already" | b"also" | b"alta" | b"am" | b"and" | b"anmelden" | b"any" | b"anymore" | b"anything" | b"are" | b"as" | b"asap" | b"au" | b"aus" | b"away" | b"ayuda" => w(K::Filler, ALL),
            b"agree" | b"agreed" => w(K::Signed, EN),
            b"again" => w(K::Again, EN),
            b"alone" => w(K::Alone, ALL),
            b"annule" | b"annuler" | b"annulez" => w(K::Weak, FR),
            b"anrufen" => w(K::Send, DE),
            b"apague" | b"apaguem" => w(K::Take, PT),
            b"appeler" | b"appelez" => w(K::Send, FR),
            b"arret" | b"arrete" | b"arreter" | b"arretes" | b"arretez" => w(K::Strong, FR),
            b"assez" => w(K::Enough, FR),
            b"at" => w(K::Sense, ALL),
            b"auf" => w(K::Auf, DE),
            b"abrutis" | b"abzocker" | b"ahole" | b"arnaqueur" | b"arnaqueurs" | b"arschloch" | b"arschlocher" | b"ass" | b"asshole" | b"assholes" => w(K::Noise, ALL),
            b"annoy" | b"annoying" => w(K::Bother, EN),
            b"acosando" | b"acosar" | b"acosarme" => w(K::Bother, ES),
            b"assediar" => w(K::Bother, PT),
            _ => UNKNOWN,
        },
        b'b' => match t {
            b"baja" => w(K::Strong, ES),
            b"basta" => w(K::Enough, ES | PT),
            b"be" | b"been" | b"bin" | b"bitte" | b"blos" | b"bloss" | b"bonjour" => w(K::Filler, ALL),
            b"beenden" => w(K::Weak, DE),
            b"before" => w(K::Qual, ALL),
            b"bei" | b"by" => w(K::Sense, ALL),
            b"bekommen" => w(K::Receive, ALL),
            b"benachrichtigungen" => w(K::Msg, ALL),
            b"borra" | b"borrar" | b"borren" => w(K::Take, ES),
            b"borrame" | b"borrenme" => w(K::TakeMe, ES),
            b"bother" | b"bothering" | b"bugging" => w(K::Bother, EN),
            b"bus" => w(K::Det, ALL),
            b"babaca" | b"babacas" | b"bande" | b"bastard" | b"bastards" | b"betrueger" | b"betruger" | b"bitch" | b"bitches" | b"bloody" | b"bordel" | b"bozo" | b"bozos" | b"bro" | b"bruh" | b"bs" | b"bullshit" => w(K::Noise, ALL),
            b"belaestigen" | b"belaestigt" | b"belastigen" | b"belastigt" => w(K::Bother, DE),
            _ => UNKNOWN,
        },
        b'c' => match t {
            b"c" | b"can" | b"comenzar" | b"completely" | b"con" | b"could" => w(K::Filler, ALL),
            b"ca" | b"cela" | b"ces" => w(K::Demo, ALL),
            b"cadastrada" | b"cadastrado" | b"cadastrei" | b"cadastrou" => w(K::Signed, PT),
            b"call" => w(K::SendMsg, EN),
            b"calling" | b"contact" | b"contacting" => w(K::Send, EN),
            b"calls" | b"consent" | b"correos" | b"coupons" | b"courriels" => w(K::Msg, ALL),
            b"cancel" => w(K::Weak, EN),
            b"cancela" | b"cancelar" => w(K::Weak, ES | PT),
            b"cancele" => w(K::Weak, PT),
            b"cancelen" => w(K::Weak, ES),
            b"cant" => w(K::Neg, ALL),
            b"cease" => w(K::Strong, EN),
            b"cedo" => w(K::Qual, ALL),
            b"chega" => w(K::Enough, PT),
            b"chez" => w(K::Sense, ALL),
            b"comment" | b"como" | b"cuando" => w(K::Wh, ALL),
            b"contactar" | b"contactarme" => w(K::Send, ES),
            b"contacter" | b"contactez" => w(K::Send, FR),
            b"cabron" | b"cabrones" | b"carajo" | b"caralho" | b"chata" | b"chatas" | b"chato" | b"chatos" | b"chier" | b"clown" | b"clowns" | b"connard" | b"connards" | b"conneries" | b"cons" | b"crap" | b"creep" | b"creeps" | b"creepy" | b"cretin" | b"cretins" => w(K::Noise, ALL),
            b"cardiaque" | b"california" | b"calidad" => w(K::Sense, ALL),
            _ => UNKNOWN,
        },
        b'd' => match t {
            b"d" | b"da" | b"damit" | b"dar" | b"darme" | b"das" | b"de" | b"dear" | b"debut" | b"del" | b"dem" | b"den" | b"der" | b"des" | b"dessa" | b"desse" | b"desta" | b"deste" | b"did" | b"die" | b"do" | b"doch" | b"does" | b"dos" | b"du" => w(K::Filler, ALL),
            b"daily" | b"dimanche" | b"domingo" | b"domingos" | b"during" => w(K::Qual, ALL),
            b"danke" => w(K::Thanks, ALL),
            b"deals" => w(K::Msg, ALL),
            b"deixa" | b"deixe" | b"deixem" => w(K::Leave, PT),
            b"deja" | b"dejad" | b"dejan" | b"dejar" | b"deje" | b"dejen" | b"dejes" => w(K::Dejar, ES),
            b"dejame" | b"dejenme" => w(K::Leave, ES),
            b"delete" | b"drop" => w(K::Take, EN),
            b"derange" | b"deranger" | b"derangez" => w(K::Bother, FR),
            b"desabonne" | b"desabonner" | b"desabonnez" | b"desinscrire" | b"desinscris" | b"desinscrivez" => w(K::Strong, FR),
            b"descadastra" | b"descadastrar" | b"descadastre" | b"descadastrem" | b"descadastro" => w(K::Strong, PT),
            b"deseo" => w(K::Want, ES),
            b"desejo" => w(K::Want, PT),
            b"desuscribanme" | b"desuscribeme" | b"desuscribir" | b"desuscribirme" => w(K::Strong, ES),
            b"didnt" | b"doesnt" | b"dont" => w(K::Neg, ALL),
            b"diese" | b"dieses" => w(K::Demo, ALL),
            b"done" => w(K::Done, EN),
            b"dammit" | b"damn" | b"damnit" | b"deppen" | b"droga" | b"dude" | b"dumb" | b"dumbass" => w(K::Noise, ALL),
            _ => UNKNOWN,
        },
        b'e' => match t {
            b"e" | b"einfach" | b"el" | b"endlich" | b"es" | b"et" | b"eu" | b"ever" | b"everything" => w(K::Filler, ALL),
            b"each" | b"every" => w(K::Det, ALL),
            b"early" => w(K::Qual, ALL),
            b"ecrire" | b"ecrivez" | b"envoie" | b"envoient" | b"envoies" | b"envoyer" | b"envoyez" => w(K::Send, FR),
            b"eingetragen" => w(K::Signed, DE),
            b"em" | b"en" => w(K::Sense, ALL),
            b"email" => w(K::SendMsg, EN),
            b"encore" => w(K::Again, FR),
            b"emailing" => w(K::Send, EN),
            b"emails" => w(K::Msg, ALL),
            b"end" => w(K::Weak, EN),
            b"enleve" | b"enlever" | b"enlevez" => w(K::Take, FR),
            b"enough" => w(K::Enough, EN),
            b"entferne" | b"entfernen" | b"entfernt" => w(K::Take, DE),
            b"envia" | b"enviando" | b"enviem" | b"escrever" => w(K::Send, PT),
            b"envian" | b"enviarme" | b"envias" | b"envien" | b"envies" | b"escriban" | b"escribas" | b"escribir" | b"escribirme" => w(K::Send, ES),
            b"enviar" | b"envie" => w(K::Send, ES | PT),
            b"equivocada" | b"equivocado" => w(K::Wrong, ES),
            b"erase" => w(K::Take, EN),
            b"erhalten" => w(K::Receive, ALL),
            b"errada" | b"errado" => w(K::Wrong, PT),
            b"eso" | b"essas" | b"esses" | b"estas" | b"esto" | b"estos" => w(K::Demo, ALL),
            b"excluam" | b"exclui" | b"excluir" => w(K::Take, PT),
            b"effing" | b"enfoire" | b"enfoires" | b"estafadores" | b"estupida" | b"estupidas" | b"estupido" | b"estupidos" => w(K::Noise, ALL),
            b"embete" | b"embeter" | b"embetez" | b"emmerder" | b"emmerdez" => w(K::Bother, FR),
            _ => UNKNOWN,
        },
        b'f' => match t {
            b"falsch" | b"falsche" | b"falscher" => w(K::Wrong, DE),
            b"farewell" => w(K::Goodbye, EN),
            b"faux" => w(K::Wrong, FR),
            b"favor" | b"fine" | b"for" | b"forever" | b"formally" | b"from" => w(K::Filler, ALL),
            b"fewer" => w(K::Many, EN),
            b"first" | b"full" => w(K::Det, ALL),
            b"frequently" | b"friday" | b"fruh" => w(K::Qual, ALL),
            b"fck" | b"fckin" | b"fcking" | b"ffs" | b"fkin" | b"fking" | b"fkn" | b"freakin" | b"freaking" | b"frickin" | b"friggin" | b"fu" | b"fuck" | b"fucken" | b"fucker" | b"fuckers" | b"fuckin" | b"fucking" | b"fucks" => w(K::Noise, ALL),
            b"fastidiar" | b"fastidiarme" => w(K::Bother, ES),
            _ => UNKNOWN,
        },
        b'g' => match t {
            b"genug" => w(K::Enough, DE),
            b"gern" | b"gerne" | b"go" | b"god" | b"good" | b"guys" => w(K::Filler, ALL),
            b"get" => w(K::Get, EN),
            b"getting" => w(K::Receive, ALL),
            b"goodbye" => w(K::Goodbye, EN),
            b"gracias" => w(K::Thanks, ALL),
            b"goddammit" | b"goddamn" | b"goddamnit" | b"golpistas" | b"gtfo" => w(K::Noise, ALL),
            b"gap" => w(K::Sense, ALL),
            _ => UNKNOWN,
        },
        b'h' => match t {
            b"hab" | b"habe" | b"had" | b"hallo" | b"has" | b"have" | b"hello" | b"help" | b"hereby" | b"hey" | b"hi" | b"hilfe" | b"hola" => w(K::Filler, ALL),
            b"harasing" | b"harass" | b"harassing" | b"harrass" | b"harrassing" | b"hassling" => w(K::Bother, EN),
            b"her" | b"his" => w(K::Det, ALL),
            b"hoer" | b"hoere" | b"hoeren" | b"hoert" | b"hor" | b"hore" | b"horen" | b"hort" => w(K::Hear, DE),
            b"hour" | b"hours" => w(K::Qual, ALL),
            b"how" => w(K::Wh, ALL),
            b"heck" | b"hell" => w(K::Noise, ALL),
            b"harcele" | b"harceler" | b"harcelez" => w(K::Bother, FR),
            _ => UNKNOWN,
        },
        b'i' => match t {
            b"i" | b"ich" | b"ihnen" | b"ihr" | b"ihre" | b"ihren" | b"il" | b"im" | b"immediately" | b"info" | b"inmediatamente" | b"is" | b"ist" | b"it" | b"its" => w(K::Filler, ALL),
            b"in" => w(K::Sense, ALL),
            b"incomodando" | b"incomodar" | b"incomode" | b"incomodem" => w(K::Bother, PT),
            b"inscrevi" => w(K::Signed, PT),
            b"inscricao" => w(K::Msg, ALL),
            b"inscrit" | b"inscrite" | b"inscrits" => w(K::Signed, FR),
            b"interesa" | b"interesada" | b"interesado" => w(K::Interested, ES),
            b"interessada" | b"interessado" => w(K::Interested, PT),
            b"interesse" => w(K::Interested, FR | PT | DE),
            b"interessiert" => w(K::Interested, DE),
            b"interested" => w(K::Interested, EN),
            b"isnt" => w(K::Neg, ALL),
            b"isso" | b"isto" => w(K::Demo, ALL),
            b"idiot" | b"idiota" | b"idiotas" | b"idioten" | b"idiots" | b"imbecil" | b"imbecile" | b"imbeciles" | b"imbecis" => w(K::Noise, ALL),
            _ => UNKNOWN,
        },
        b'j' => match t {
            b"j" | b"ja" | b"je" | b"jetzt" | b"just" => w(K::Filler, ALL),
            b"jamais" => w(K::Neg, ALL),
            b"jerk" | b"jerks" | b"joder" => w(K::Noise, ALL),
            _ => UNKNOWN,
        },
        b'k' => match t {
            b"k" | b"kindly" | b"kk" => w(K::Filler, ALL),
            b"keep" | b"keeps" => w(K::Keep, EN),
            b"kein" | b"keine" | b"keinen" => w(K::Neg, ALL),
            b"kontaktieren" => w(K::Send, DE),
            b"kriegen" => w(K::Receive, ALL),
            b"kuendigen" | b"kundigen" => w(K::Weak, DE),
            _ => UNKNOWN,
        },
        b'l' => match t {
            b"l" | b"la" | b"las" | b"le" | b"les" | b"ll" | b"lo" | b"lol" | b"los" => w(K::Filler, ALL),
            b"laisse" | b"laissez" => w(K::Leave, FR),
            b"lass" | b"lassen" | b"lasst" => w(K::Leave, DE),
            b"last" => w(K::Det, ALL),
            b"late" | b"later" => w(K::Qual, ALL),
            b"longer" => w(K::Filler, ALL),
            b"leave" => w(K::Leave, EN),
            b"less" => w(K::Many, EN),
            b"ligacoes" | b"list" | b"lista" | b"liste" | b"lists" | b"llamadas" => w(K::Msg, ALL),
            b"ligar" | b"liguem" => w(K::Send, PT),
            b"light" | b"lights" => w(K::Sense, ALL),
            b"llamar" | b"llamarme" | b"llamen" => w(K::Send, ES),
            b"losche" | b"loschen" | b"loscht" => w(K::Take, DE),
            b"ladrones" | b"loser" | b"losers" => w(K::Noise, ALL),
            b"loss" => w(K::Sense, ALL),
            _ => UNKNOWN,
        },
        b'm' => match t {
            b"m" | b"ma" | b"maam" | b"maintenant" | b"mal" | b"may" | b"me" | b"mein" | b"meine" | b"meinen" | b"mes" | b"meu" | b"meus" | b"mi" | b"mich" | b"might" | b"mim" | b"mine" | b"minha" | b"mir" | b"mis" | b"moi" | b"mon" | b"must" => w(K::Filler, ALL),
            b"madrugada" | b"manha" | b"matin" | b"monday" | b"month" | b"months" | b"morgens" | b"morning" | b"mornings" => w(K::Qual, ALL),
            b"mailing" | b"mails" | b"marketing" | b"mensagem" | b"mensagens" | b"mensaje" | b"mensajes" | b"messages" | b"mms" | b"msgs" => w(K::Msg, ALL),
            b"mais" => w(K::More, PT),
            b"manda" | b"mandando" | b"mandem" => w(K::Send, PT),
            b"mandan" | b"mandarme" | b"mandas" | b"manden" | b"mandes" => w(K::Send, ES),
            b"mandar" | b"mande" => w(K::Send, ES | PT),
            b"many" | b"much" => w(K::Many, EN),
            b"marre" => w(K::Enough, FR),
            b"mas" => w(K::More, ES),
            b"mauvais" => w(K::Wrong, FR),
            b"mehr" => w(K::More, DE),
            b"menos" => w(K::Many, ES | PT),
            b"merci" => w(K::Thanks, ALL),
            b"message" | b"msg" => w(K::SendMsg, EN),
            b"messaging" => w(K::Send, EN),
            b"mochte" | b"moechte" => w(K::Want, DE),
            b"moins" => w(K::Many, FR),
            b"molestando" | b"molestar" | b"molestarme" | b"molestarnos" | b"moleste" | b"molesten" | b"molestes" => w(K::Bother, ES),
            b"more" => w(K::More, EN),
            b"muita" | b"muitas" | b"muitos" => w(K::Many, PT),
            b"mute" => w(K::Pause, EN),
            b"my" => w(K::Det, ALL),
            b"maldita" | b"malditas" | b"maldito" | b"malditos" | b"man" | b"mate" | b"merda" | b"merde" | b"mf" | b"mierda" | b"moron" | b"morons" | b"motherfucker" | b"motherfuckers" => w(K::Noise, ALL),
            b"maladie" | b"motion" => w(K::Sense, ALL),
            _ => UNKNOWN,
        },
        b'n' => match t {
            b"n" | b"nao" | b"ne" | b"never" | b"nicht" | b"nie" | b"niemals" | b"not" | b"nunca" => w(K::Neg, ALL),
            b"nachricht" | b"nachrichten" | b"newsletter" | b"newsletters" | b"notificaciones" | b"notificacoes" | b"notification" | b"notifications" => w(K::Msg, ALL),
            b"nacht" | b"nachts" | b"night" | b"nights" | b"nighttime" | b"noche" | b"noches" | b"noite" | b"nuit" => w(K::Qual, ALL),
            b"nah" | b"nope" => w(K::No, EN),
            b"near" => w(K::Sense, ALL),
            b"nos" | b"now" => w(K::Filler, ALL),
            b"need" | b"needs" => w(K::Want, EN),
            b"novo" => w(K::Again, PT),
            b"nein" => w(K::No, DE),
            b"nerven" | b"nervt" => w(K::Bother, DE),
            b"next" => w(K::Det, ALL),
            b"no" => w(K::No, EN | ES),
            b"non" => w(K::No, FR),
            b"number" | b"numero" | b"nummer" => w(K::Number, ALL),
            b"nervensage" | b"nervensagen" | b"nul" | b"nuls" => w(K::Noise, ALL),
            b"nagging" => w(K::Bother, EN),
            _ => UNKNOWN,
        },
        b'o' => match t {
            b"o" | b"oder" | b"of" | b"off" | b"officially" | b"oh" | b"oi" | b"ok" | b"okay" | b"ola" | b"omg" | b"or" | b"os" | b"ou" | b"oui" | b"our" => w(K::Filler, ALL),
            b"obrigada" | b"obrigado" => w(K::Thanks, ALL),
            b"ofertas" | b"offers" | b"offres" => w(K::Msg, ALL),
            b"often" => w(K::Qual, ALL),
            b"one" => w(K::Det, ALL),
            b"opt" | b"opted" | b"opting" => w(K::Opt, EN),
            b"optout" => w(K::Strong, EN),
            b"out" => w(K::Out, ALL),
            b"over" => w(K::Sense, ALL),
            b"omfg" | b"otario" | b"otarios" => w(K::Noise, ALL),
            _ => UNKNOWN,
        },
        b'p' => match t {
            b"para" | b"permanently" | b"pf" | b"pfv" | b"phone" | b"plait" | b"pleas" | b"please" | b"pleeze" | b"pls" | b"plse" | b"plz" | b"por" | b"porfa" | b"porfavor" | b"pra" => w(K::Filler, ALL),
            b"parar" => w(K::Weak, ES | PT),
            b"param" | b"pare" => w(K::Weak, PT),
            b"parem" => w(K::Strong, PT),
            b"paren" => w(K::Strong, ES),
            b"pas" => w(K::Neg, ALL),
            b"pausa" | b"pausar" => w(K::Pause, ES | PT),
            b"pause" => w(K::Pause, EN | FR),
            b"pausieren" => w(K::Pause, DE),
            b"paz" | b"peace" => w(K::Alone, ALL),
            b"person" | b"persona" | b"personne" | b"pessoa" => w(K::Number, ALL),
            b"pester" | b"pestering" => w(K::Bother, EN),
            b"pit" => w(K::Det, ALL),
            b"plus" => w(K::More, FR),
            b"pm" => w(K::Qual, ALL),
            b"porque" | b"pourquoi" => w(K::Wh, ALL),
            b"promo" | b"promocao" | b"promocion" | b"promociones" | b"promocoes" | b"promos" | b"promotion" | b"promotional" | b"promotions" | b"propaganda" | b"propagandas" | b"pub" | b"publicidad" | b"publicidade" | b"publicite" | b"publicites" | b"pubs" => w(K::Msg, ALL),
            b"palhacos" | b"pathetic" | b"pendeja" | b"pendejas" | b"pendejo" | b"pendejos" | b"penner" | b"pinche" | b"pinches" | b"porra" | b"prick" | b"pricks" | b"puta" | b"putain" | b"putas" | b"puto" | b"putos" => w(K::Noise, ALL),
            b"perturbar" | b"perturbem" => w(K::Bother, PT),
            _ => UNKNOWN,
        },
        b'q' => match t {
            b"qu" | b"que" => w(K::Filler, ALL),
            b"quando" | b"quem" | b"quien" | b"quoi" => w(K::Wh, ALL),
            b"queria" | b"quero" => w(K::Want, PT),
            b"quiero" | b"quisiera" => w(K::Want, ES),
            b"quit" => w(K::Weak, EN),
            b"quita" | b"quitar" | b"quiten" => w(K::Take, ES),
            b"quitame" | b"quitenme" => w(K::TakeMe, ES),
            _ => UNKNOWN,
        },
        b'r' => match t {
            b"rayez" | b"retirer" | b"retirez" => w(K::Take, FR),
            b"re" | b"really" | b"rien" | b"right" => w(K::Filler, ALL),
            b"recebendo" | b"receber" | b"recebo" | b"receive" | b"receiving" | b"recevoir" | b"recibiendo" | b"recibir" | b"recibo" | b"recois" => w(K::Receive, ALL),
            b"register" | b"registered" => w(K::Signed, EN),
            b"registre" => w(K::Signed, ES),
            b"registriert" => w(K::Signed, DE),
            b"reicht" => w(K::Enough, DE),
            b"reminders" => w(K::Msg, ALL),
            b"remova" | b"removam" | b"remover" | b"retira" => w(K::Take, PT),
            b"remove" => w(K::Take, EN),
            b"rest" => w(K::Det, ALL),
            b"retire" => w(K::Take, FR | PT),
            b"revocation" | b"revoke" | b"revoked" | b"revoking" => w(K::Strong, EN),
            b"revoir" => w(K::Goodbye, FR),
            b"ruhe" => w(K::Alone, ALL),
            _ => UNKNOWN,
        },
        b's' => match t {
            b"s" | b"said" | b"salut" | b"say" | b"saying" | b"schon" | b"seriously" | b"shall" | b"should" | b"si" | b"sie" | b"sim" | b"sir" | b"so" | b"sofort" | b"seus" | b"sorry" | b"start" | b"stp" | b"suas" | b"suis" | b"sure" | b"sus" | b"svp" => w(K::Filler, ALL),
            b"souhaite" | b"souhaitons" => w(K::Want, FR),
            b"saca" | b"sacar" | b"saquen" => w(K::Take, ES),
            b"sacame" | b"saquenme" => w(K::TakeMe, ES),
            b"sair" => w(K::Weak, PT),
            b"saturday" | b"saturdays" | b"semana" | b"soir" | b"sonntags" | b"spat" | b"sunday" | b"sundays" => w(K::Qual, ALL),
            b"schick" | b"schicke" | b"schicken" | b"schickt" | b"schreiben" | b"schreibt" | b"sende" | b"senden" | b"sendet" => w(K::Send, DE),
            b"send" | b"sending" => w(K::Send, EN),
            b"serving" => w(K::Sense, ALL),
            b"sign" | b"signed" | b"subscribe" | b"subscribed" => w(K::Signed, EN),
            b"sms" | b"smss" | b"subscription" | b"subscriptions" | b"suscripcion" => w(K::Msg, ALL),
            b"snooze" => w(K::Pause, EN),
            b"spam" | b"spammer" | b"spammers" | b"spamming" | b"spammy" => w(K::Spam, EN),
            b"stop" | b"stopall" => w(K::Strong, EN),
            b"stopp" | b"stoppen" | b"stoppt" => w(K::Strong, DE),
            b"stornieren" => w(K::Weak, DE),
            b"streichen" | b"streicht" => w(K::Take, DE),
            b"suffit" => w(K::Enough, FR),
            b"supprime" | b"supprimer" | b"supprimez" => w(K::Take, FR),
            b"suscribi" | b"suscribir" | b"suscrita" | b"suscrito" => w(K::Signed, ES),
            b"salaud" | b"salauds" | b"scheiss" | b"scheisse" | b"shit" | b"shitty" | b"spinner" | b"stfu" | b"stupid" | b"suck" | b"sucks" => w(K::Noise, ALL),
            b"scam" | b"scammer" | b"scammers" | b"scammy" | b"scams" => w(K::Spam, EN),
            b"schild" => w(K::Sense, ALL),
            b"stalking" => w(K::Bother, EN),
            b"stoeren" | b"storen" => w(K::Bother, DE),
            _ => UNKNOWN,
        },
        b't' => match t {
            b"t" => w(K::Neg, ALL),
            b"take" => w(K::Take, EN),
            b"tantas" | b"tanto" | b"tantos" => w(K::Many, ES),
            b"tard" | b"tarde" | b"temprano" | b"thursday" | b"till" | b"today" | b"tonight" | b"tot" | b"tuesday" => w(K::Qual, ALL),
            b"te" | b"tell" | b"tenho" | b"to" | b"todas" | b"todo" | b"todos" | b"told" | b"too" | b"totally" | b"tous" | b"tout" | b"tu" | b"tudo" => w(K::Filler, ALL),
            b"text" | b"txt" => w(K::SendMsg, EN),
            b"texter" => w(K::Send, FR),
            b"texting" | b"txting" => w(K::Send, EN),
            b"textos" | b"texts" | b"torpedos" | b"txts" => w(K::Msg, ALL),
            b"thank" | b"thanks" | b"thankyou" | b"thx" | b"ty" | b"tyvm" => w(K::Thanks, ALL),
            b"that" | b"them" | b"these" | b"this" | b"those" => w(K::Demo, ALL),
            b"the" | b"their" | b"truck" => w(K::Det, ALL),
            b"tira" | b"tirar" => w(K::Take, ES),
            b"tirame" => w(K::TakeMe, PT),
            b"tire" | b"tirem" => w(K::Take, PT),
            b"tranquila" | b"tranquille" | b"tranquilo" | b"tranquilos" => w(K::Alone, ALL),
            b"trop" => w(K::Many, FR),
            b"tonto" | b"tontos" | b"trash" => w(K::Noise, ALL),
            _ => UNKNOWN,
        },
        b'u' => match t {
            b"u" | b"ugh" | b"und" | b"unstop" | b"us" => w(K::Filler, ALL),
            b"uninterested" => w(K::Interested, EN),
            b"unsub" | b"unsubscribe" | b"unsubscribed" | b"unsubscribing" => w(K::Strong, EN),
            b"until" => w(K::Qual, ALL),
            b"updates" => w(K::Msg, ALL),
            b"ur" => w(K::Det, ALL),
            _ => UNKNOWN,
        },
        b'v' => match t {
            b"vc" | b"ve" | b"very" | b"voce" | b"voltar" | b"vom" | b"von" | b"vos" | b"votre" | b"vous" => w(K::Filler, ALL),
            b"veux" | b"voudrais" => w(K::Want, FR),
            b"vez" => w(K::Again, ES | PT),
            b"viele" => w(K::Many, DE),
            b"vagabundos" | b"verdammt" | b"verdammte" => w(K::Noise, ALL),
            _ => UNKNOWN,
        },
        b'w' => match t {
            b"wann" | b"warum" | b"was" | b"wer" | b"what" | b"whats" | b"when" | b"where" | b"which" | b"who" | b"why" | b"wie" | b"wo" => w(K::Wh, ALL),
            b"wanna" | b"want" | b"wish" => w(K::Want, EN),
            b"we" | b"with" | b"would" => w(K::Filler, ALL),
            b"wednesday" | b"week" | b"weekday" | b"weekdays" | b"weekend" | b"weekends" | b"weeks" | b"wochenende" | b"work" => w(K::Qual, ALL),
            b"weniger" => w(K::Many, DE),
            b"wieder" => w(K::Again, DE),
            b"werbung" => w(K::Msg, ALL),
            b"will" => w(K::Want, EN | DE),
            b"wollen" => w(K::Want, DE),
            b"wont" => w(K::Neg, ALL),
            b"writing" => w(K::Send, EN),
            b"wrong" => w(K::Wrong, EN),
            b"wtf" | b"wth" => w(K::Noise, ALL),
            b"watch" => w(K::Sense, ALL),
            _ => UNKNOWN,
        },
        b'y' => match t {
            b"y" | b"ya" | b"yea" | b"yeah" | b"yep" | b"yes" | b"yo" | b"you" | b"yup" => w(K::Filler, ALL),
            b"your" => w(K::Det, ALL),
            _ => UNKNOWN,
        },
        b'z' => match t {
            b"zu" => w(K::Filler, ALL),
            b"zuviel" | b"zuviele" => w(K::Many, DE),
            _ => UNKNOWN,
        },
        _ => UNKNOWN,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::keyword::canonical;

    const ALL_LANGS: [Lang; 5] = [Lang::En, Lang::Es, Lang::Fr, Lang::Pt, Lang::De];

    fn c(raw: &str) -> Intent {
        classify(raw, &ALL_LANGS)
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(canonical("Arrêt !"), "arret");
        assert_eq!(canonical("  \"OPT-out\"  "), "opt out");
        assert_eq!(canonical("ＳＴＯＰ"), "stop");
        assert_eq!(canonical("🛑 stop 🛑"), "stop");
        assert_eq!(canonical("don't"), "don t");
        assert_eq!(canonical("m'envoyer"), "m envoyer");
        assert_eq!(canonical("STÖRNIEREN"), "stornieren");
        assert_eq!(canonical("..."), "");
    }

    /// The general path's text, after checking that the ASCII scan cuts the
    /// same words with the same roles and separators.
    fn normalized(raw: &str) -> String {
        let mut text = String::new();
        normalize_chars(raw.nfkd().filter(|c| !is_combining_mark(*c)), &mut text);
        if raw.is_ascii() {
            let general: Vec<(&str, K, Gap)> = tokens(&text, ALL)
                .0
                .iter()
                .map(|t| (t.text, t.k, t.after))
                .collect();
            let mut buf = vec![0u8; raw.len()];
            let mut spans = vec![Span::EMPTY; raw.len() + 1];
            let (count, _) =
                scan_ascii(raw.as_bytes(), ALL, &mut buf, &mut spans).unwrap_or_default();
            let scanned: Vec<(&str, K, Gap)> = spans
                .iter()
                .take(count)
                .map(|s| {
                    (
                        std::str::from_utf8(buf.get(s.range()).unwrap_or_default()).unwrap_or("?"),
                        s.k,
                        s.after,
                    )
                })
                .collect();
            assert_eq!(scanned, general, "{raw:?}");
        }
        text
    }

    #[test]
    fn normalize_keeps_sentences_and_collapses_runs() {
        assert_eq!(normalized("Start? No, STOP"), "start?no,stop");
        assert_eq!(normalized("Who is this? Stop!!"), "who is this?stop");
        assert_eq!(normalized("STOOOP"), "stop");
        assert_eq!(normalized("STOPPPP now"), "stop now");
        assert_eq!(normalized("stopp, too"), "stopp,too");
        assert_eq!(normalized("call 1000"), "call 1000");
        assert_eq!(normalized("¿Puedo cancelar?"), "puedo cancelar?");
        assert_eq!(normalized("  ...  "), "");
        assert_eq!(
            normalized("Arrêtez de m'envoyer des messages !"),
            "arretez de m envoyer des messages"
        );
        for raw in [
            "",
            "a",
            "?",
            "a?",
            "?a",
            "a,,b..c?!d",
            "aaa bbbb. cc?",
            "Don't!!! STOP?!",
            "x y z w",
        ] {
            normalized(raw);
        }
    }

    #[test]
    fn core_strips_politeness() {
        assert_eq!(core("please stoppromo thanks"), "stoppromo");
        assert_eq!(core("stoppromo pls"), "stoppromo");
        assert_eq!(core("thank you stoppromo"), "stoppromo");
        assert_eq!(core("s il vous plait stoppromo"), "stoppromo");
        assert_eq!(core("hi please stoppromo ok"), "stoppromo");
        assert_eq!(core("pleasestop"), "pleasestop");
        assert_eq!(core("thank you"), "thank you");
        assert_eq!(core(""), "");
        let s = "stoppromo";
        assert!(std::ptr::eq(core(s), s));
    }

    #[test]
    fn one_edit() {
        assert!(within_one_edit(b"stpo", b"stop"));
        assert!(within_one_edit(b"stip", b"stop"));
        assert!(within_one_edit(b"unsubscibe", b"unsubscribe"));
        assert!(within_one_edit(b"stop", b"stop"));
        assert!(within_one_edit(b"stops", b"stop"));
        assert!(!within_one_edit(b"spot", b"stop"));
        assert!(!within_one_edit(b"saturday", b"abmelden"));
        assert!(!within_one_edit(b"", b"ab"));
    }

    /// The stack path and the general path agree (the crate's table test
    /// runs every labelled row through this too).
    pub(crate) fn paths_agree(raw: &str, langs: &[Lang]) {
        let mask = langs.iter().fold(EN, |m, l| m | l.bit());
        if raw.is_ascii()
            && let Some(fast) = classify_ascii(raw.as_bytes(), mask)
        {
            assert_eq!(fast, classify_general(raw, mask), "{raw:?}");
        }
    }

    #[test]
    fn languages_gate_vocabulary() {
        assert_eq!(
            classify("baja por favor", &[Lang::Es]),
            Intent::OptOut(Lang::Es)
        );
        assert_eq!(classify("baja por favor", &[Lang::En]), Intent::None);
        // English always applies, and foreign politeness never hurts.
        assert_eq!(classify("STOP por favor", &[]), Intent::OptOut(Lang::En));
        assert_eq!(
            classify("Stop bitte", &[Lang::Fr]),
            Intent::OptOut(Lang::En)
        );
        assert_eq!(
            classify("Quero cancelar", &[Lang::Pt]),
            Intent::Clarify(Lang::Pt)
        );
        assert_eq!(
            classify("Quiero cancelar", &[Lang::Es]),
            Intent::Clarify(Lang::Es)
        );
        assert_eq!(c("Keine SMS mehr bitte"), Intent::Clarify(Lang::De));
        assert_eq!(classify("Falsche Nummer", &[Lang::En]), Intent::None);
    }

    #[test]
    fn direct_calls_with_keywords() {
        assert_eq!(c("stop"), Intent::OptOut(Lang::En));
        assert_eq!(c("cancel"), Intent::OptOut(Lang::En));
        assert_eq!(c("quit quit"), Intent::OptOut(Lang::En));
        assert_eq!(c(""), Intent::None);
    }

    #[test]
    fn more_sentences() {
        assert_eq!(
            c("Can you please stop texting me?"),
            Intent::OptOut(Lang::En)
        );
        assert_eq!(c("Stop, who is this"), Intent::OptOut(Lang::En));
        assert_eq!(c("STOP who is this"), Intent::OptOut(Lang::En));
        assert_eq!(c("don't message me on weekends"), Intent::Clarify(Lang::En));
        assert_eq!(c("Do not text this number"), Intent::OptOut(Lang::En));
        assert_eq!(c("get me off this list"), Intent::OptOut(Lang::En));
        assert_eq!(c("get me a coffee"), Intent::None);
        assert_eq!(c("take me to the store"), Intent::None);
        assert_eq!(c("I didn't get your text"), Intent::None);
        assert_eq!(c("You never text me back"), Intent::None);
        assert_eq!(c("Keep texting me!"), Intent::None);
        assert_eq!(c("Is that enough?"), Intent::None);
        assert_eq!(c("Done!"), Intent::None);
        assert_eq!(c("I'm done with my homework"), Intent::None);
        assert_eq!(c("thanks so much"), Intent::None);
        assert_eq!(
            c("Kann ich mein Abo stornieren?"),
            Intent::Clarify(Lang::De)
        );
        assert_eq!(c("Hört auf, mir zu schreiben!"), Intent::OptOut(Lang::De));
        assert_eq!(c("quite"), Intent::None);
        assert_eq!(c("and"), Intent::None);
        assert_eq!(c("anmelden bitte"), Intent::None);
        // Reproachful questions ask to stop; a negative order does not.
        assert_eq!(
            c("Why won't you stop texting me?"),
            Intent::OptOut(Lang::En)
        );
        assert_eq!(c("can't you just stop"), Intent::OptOut(Lang::En));
        assert_eq!(c("Don't you stop sending those deals!"), Intent::None);
        assert_eq!(c("Can't you stop by later?"), Intent::None);
        assert_eq!(c("why won't it stop loading?"), Intent::None);
        assert_eq!(
            c("¿Por qué no dejan de mandarme mensajes?"),
            Intent::OptOut(Lang::Es)
        );
        // "no longer" negates like "not".
        assert_eq!(
            c("I no longer wish to receive these messages"),
            Intent::OptOut(Lang::En)
        );
        assert_eq!(
            c("I no longer need the blue one, the red is fine"),
            Intent::None
        );
        // "you again?" needs a pronoun and nothing else.
        assert_eq!(c("you again?"), Intent::Clarify(Lang::En));
        assert_eq!(c("Thank you again!"), Intent::None);
        assert_eq!(c("Sie schon wieder?"), Intent::Clarify(Lang::De));
        assert_eq!(classify("Sie schon wieder?", &[Lang::En]), Intent::None);
        assert_eq!(c("no more"), Intent::Clarify(Lang::En));
        assert_eq!(c("no more questions"), Intent::None);
    }

    #[test]
    fn orders_with_abuse_or_unknown_words() {
        for m in [
            "STOP FUCKING TEXTING ME",
            "STOP you idiot",
            "Stop ur texts",
            "STOP bitch",
            "STOP wtf",
            "I said stop you idiot",
            "cancel you idiots",
            "QUIT u bozos",
            "BAJA ya idiotas",
            "ARRET bande de nuls",
            "PARE seus chatos",
            "STOPP ihr Idioten",
            "STOP wrong number",
        ] {
            assert!(matches!(c(m), Intent::OptOut(_)), "{m}");
        }
        // Another sense, a question, a negation: as before.
        for m in [
            "stop worrying",
            "Stop the car",
            "stop for gas",
            "Stop here please",
            "Arrête de fumer",
            "baja el volumen",
        ] {
            assert!(matches!(c(m), Intent::Clarify(_)), "{m}");
        }
        for m in [
            "Stop payment on that check?",
            "quit smoking",
            "cancel my fucking order",
            "don't stop you idiots",
            "I stop at the gym every day",
            "when does the sale end you idiots?",
        ] {
            assert_eq!(c(m), Intent::None, "{m}");
        }
        // Insults alone never decide, nor does a disabled language's word.
        assert_eq!(c("you idiots"), Intent::None);
        assert_eq!(classify("BAJA idiotas", &[Lang::En]), Intent::None);
    }

    #[test]
    fn service_requests_ask_and_bother_orders_are_clear() {
        // A strong word before a service request, or a weak word with a
        // friendly word: ask, never a silent opt-out.
        for m in [
            "Stop payment on check 1042",
            "Please stop delivery",
            "Stop autopay",
            "Stop auto renewal",
            "Stop order 5512",
            "Revoke access for Bob",
            "Stop 14 has no shelter",
            "Hi, stop shipment please",
            "Stop delivery man",
            "Cancel it man",
            "cancel it bro",
            "Arrêt prélèvement",
            "STOP scumbags?",
            "Stop weirdo?",
            "Stop bothering my wife",
            "Tell him to stop harassing me",
            "deja de molestar",
        ] {
            assert!(matches!(c(m), Intent::Clarify(_)), "{m}: {:?}", c(m));
        }
        for m in [
            "cancel order 5512",
            "Stop payment on that check?",
            "cancel you guys appointment 3pm",
        ] {
            assert_eq!(c(m), Intent::None, "{m}");
        }
        // An order to stop bothering the reader is clear.
        for m in [
            "STOP HARASSING ME",
            "Stop pestering me",
            "Stop bugging me",
            "STOP ANNOYING ME",
            "stop spamming me",
            "quit bothering me",
            "Why won't you stop harassing me?",
            "deja de molestarme",
            "Dejen de molestarnos",
            "arrête de me harceler",
            "Arrêtez de m'embêter",
            "pare de me incomodar",
            "Para de me incomodar",
            "hör auf mich zu belästigen",
            "Hören Sie auf mich zu nerven",
            "Stop weirdo",
            "STOP scumbags you idiots",
        ] {
            assert!(matches!(c(m), Intent::OptOut(_)), "{m}: {:?}", c(m));
        }
        // ... unless restricted: ask.
        assert_eq!(c("stop bugging me at night"), Intent::Clarify(Lang::En));
        assert_eq!(c("No me molesten más"), Intent::Clarify(Lang::Es));
    }

    #[test]
    fn glued_orders() {
        for m in [
            "STOPIT",
            "STOPNOW",
            "stopitplease",
            "unsubscribeme",
            "endall",
        ] {
            assert_eq!(c(m), Intent::OptOut(Lang::En), "{m}");
        }
        assert_eq!(c("STOPIT NOW"), Intent::OptOut(Lang::En));
        for m in ["Stops", "stoptexts", "stoppromo"] {
            assert_eq!(c(m), Intent::Clarify(Lang::En), "{m}");
        }
        for m in [
            "stopover",
            "ending",
            "endless",
            "endme",
            "quite",
            "quitte",
            "endet",
            "endloser",
            "Stoppel",
            "parenthese",
            "stopwatch",
        ] {
            assert_eq!(c(m), Intent::None, "{m}");
        }
        assert!(glue(b"itnowplease", 0));
        assert!(!glue(b"over", 0));
        assert!(!glue(&b"it".repeat(16), 0));
    }

    /// A tiny deterministic generator, so the test needs no dependency.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % n as u64).unwrap_or(0)
        }
    }

    #[test]
    fn never_panics() {
        const PIECES: [&str; 52] = [
            "stop",
            "STOP",
            "don't",
            "opt",
            "out",
            "me",
            "no",
            "not",
            "?",
            "!",
            ".",
            ",",
            " ",
            "  ",
            "¿",
            "¡",
            "…",
            "é",
            "\u{301}",
            "\u{308}",
            "ß",
            "İ",
            "ǅ",
            "ﬃ",
            "Ⅻ",
            "①",
            "🛑",
            "👍🏽",
            "\u{200d}",
            "\u{feff}",
            "\0",
            "\n",
            "עברית",
            "العربية",
            "中文。",
            "？",
            "ＳＴＯＰ",
            "ooooo",
            "pppp",
            "auf",
            "hört",
            "nicht",
            "dejen de",
            "take",
            "wrong",
            "number",
            "9pm",
            "\u{10ffff}",
            "arrête de me harceler",
            "belästigen",
            "prélèvement",
            "bro",
        ];
        const ASCII: [&str; 38] = [
            "stop",
            "STOP",
            "don't",
            "opt",
            "out",
            "me",
            "no",
            "not",
            "?",
            "!",
            ".",
            ",",
            " ",
            "cancel",
            "my",
            "texts",
            "the",
            "end",
            "pls",
            "sooo",
            "stooop",
            "unsubscibe",
            "x",
            "12",
            "idiot",
            "wtf",
            "stopit",
            "harassing",
            "bugging",
            "payment",
            "man",
            "weirdo",
            "1042",
            "de",
            "para",
            "molestarme",
            "zu",
            "mich",
        ];
        let langs: [&[Lang]; 4] = [&[], &[Lang::En], &[Lang::De, Lang::Fr], &ALL_LANGS];
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for round in 0..20_000 {
            let mut s = String::new();
            let ascii = round % 2 == 0;
            for _ in 0..rng.below(if ascii { 40 } else { 12 }) {
                if ascii {
                    s.push_str(ASCII.get(rng.below(ASCII.len())).copied().unwrap_or(""));
                } else if rng.below(4) == 0 {
                    // Any scalar value at all.
                    let c = char::from_u32(u32::try_from(rng.next() % 0x11_0000).unwrap_or(0));
                    s.push(c.unwrap_or('\u{fffd}'));
                } else {
                    s.push_str(PIECES.get(rng.below(PIECES.len())).copied().unwrap_or(""));
                }
            }
            let l = langs.get(round % langs.len()).copied().unwrap_or(&[]);
            let _ = classify(&s, l);
            paths_agree(&s, l);
            let key = canonical(&s);
            let core = core(&key);
            assert!(key.contains(core));
        }
        // Every length around the stack path's limits.
        for len in 0..=170 {
            for unit in ["stop ", "a", "x?y. ", "no, stop", "STOOOP "] {
                let s: String = unit.chars().cycle().take(len).collect();
                for l in langs {
                    let _ = classify(&s, l);
                    paths_agree(&s, l);
                }
            }
        }
        // Long inputs: many words in one clause (the Vec path), many sentences.
        let long = "please stop ".repeat(5_000);
        assert_eq!(c(&long), Intent::OptOut(Lang::En));
        let many = "ok. ".repeat(10_000);
        assert_eq!(c(&many), Intent::None);
        let marks = "?!,.".repeat(10_000);
        assert_eq!(c(&marks), Intent::None);
        let elongated = "o".repeat(100_000);
        assert_eq!(c(&elongated), Intent::None);
    }
}
