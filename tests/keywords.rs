//! Inbound keywords: a table of messages with their outcomes, and the
//! STOP / START scenarios as the platforms run them.

use optout::address::Region;
use optout::error::ErrorKind;
use optout::filter::SkipReason;
use optout::inbound::InboundAction;
use optout::keyword::{KeywordMatch, Keywords, Language};
use optout::model::{Category, Channel, KeywordScope, ListId, Scope};
use optout::store::ListSettings;
use optout::{Address, Dispatch, Error, Normalizer, Store};

/// A sender number, and a WhatsApp phone-number id: channels by name.
fn ch_a() -> Channel {
    Channel::new("+14155550100").unwrap()
}

fn ch_b() -> Channel {
    Channel::new("106540352242922").unwrap()
}

fn sender() -> Address {
    Normalizer::new(Region::new("US").unwrap())
        .address("(415) 555-0123")
        .unwrap()
}

/// A store with a custom list that has its own keyword.
fn store() -> (Store, ListId) {
    let store = Store::new();
    let promo = store
        .create_list(
            ListSettings::new("Promotions")
                .keyword("STOPPROMO")
                .confirmation("No more promotions."),
        )
        .unwrap();
    (store, promo)
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// Opt-out of the system list, with a reply.
    Out,
    /// Opt-out of the custom list, with its reply.
    OutPromo,
    /// Opt-in, with a reply.
    In,
    Help,
    /// A clarification asked, nothing recorded as an opt-out.
    Clarify,
    None,
}

/// (message, sender opted out beforehand?, expected outcome)
const TABLE: &[(&str, bool, Expect)] = &[
    // The FCC seven and the other default English words, in every shape.
    ("STOP", false, Expect::Out),
    ("stop", false, Expect::Out),
    ("Stop", false, Expect::Out),
    ("Stop.", false, Expect::Out),
    (" stop! ", false, Expect::Out),
    ("\"STOP\"", false, Expect::Out),
    ("'stop'", false, Expect::Out),
    ("STOP!!!", false, Expect::Out),
    ("stop 🛑", false, Expect::Out),
    ("🙏 STOP", false, Expect::Out),
    ("\tSTOP\n", false, Expect::Out),
    ("ＳＴＯＰ", false, Expect::Out),
    ("QUIT", false, Expect::Out),
    ("quit.", false, Expect::Out),
    ("END", false, Expect::Out),
    ("end", false, Expect::Out),
    ("REVOKE", false, Expect::Out),
    ("revoke!", false, Expect::Out),
    ("OPT OUT", false, Expect::Out),
    ("opt out", false, Expect::Out),
    ("opt   out", false, Expect::Out),
    ("Opt-Out", false, Expect::Out),
    ("OPTOUT", false, Expect::Out),
    ("CANCEL", false, Expect::Out),
    ("Cancel.", false, Expect::Out),
    ("UNSUBSCRIBE", false, Expect::Out),
    ("unsubscribe", false, Expect::Out),
    ("STOPALL", false, Expect::Out),
    ("StopAll", false, Expect::Out),
    // Other languages, accents optional.
    ("BAJA", false, Expect::Out),
    ("baja", false, Expect::Out),
    ("¡Baja!", false, Expect::Out),
    ("PARAR", false, Expect::Out),
    ("CANCELAR", false, Expect::Out),
    ("ARRET", false, Expect::Out),
    ("ARRÊT", false, Expect::Out),
    ("arrêt", false, Expect::Out),
    ("Arret !", false, Expect::Out),
    ("SAIR", false, Expect::Out),
    ("sair", false, Expect::Out),
    ("STOPP", false, Expect::Out),
    ("ABMELDEN", false, Expect::Out),
    ("abbestellen", false, Expect::Out),
    ("STORNIEREN", false, Expect::Out),
    // The custom list's own keyword.
    ("STOPPROMO", false, Expect::OutPromo),
    ("stoppromo.", false, Expect::OutPromo),
    ("StopPromo", false, Expect::OutPromo),
    // Repeated opt-outs: the keyword is recognized, nothing changes.
    ("STOP", true, Expect::None),
    ("unsubscribe", true, Expect::None),
    // Opt-ins only from someone who opted out.
    ("START", true, Expect::In),
    ("start", true, Expect::In),
    ("Start.", true, Expect::In),
    ("UNSTOP", true, Expect::In),
    ("ALTA", true, Expect::In),
    ("COMENZAR", true, Expect::In),
    ("DÉBUT", true, Expect::In),
    ("debut", true, Expect::In),
    ("VOLTAR", true, Expect::In),
    ("ANMELDEN", true, Expect::In),
    ("START", false, Expect::None),
    ("UNSTOP", false, Expect::None),
    // YES answers utility texts ("Reply YES to confirm your
    // appointment"): not an opt-in by default.
    ("YES", true, Expect::None),
    ("yes!", true, Expect::None),
    ("yes", false, Expect::None),
    // Help.
    ("HELP", false, Expect::Help),
    ("help?", false, Expect::Help),
    ("INFO", false, Expect::Help),
    ("AYUDA", false, Expect::Help),
    ("AIDE", false, Expect::Help),
    ("AJUDA", false, Expect::Help),
    ("HILFE", false, Expect::Help),
    ("HELP", true, Expect::Help),
    // Sentences that clearly ask to stop revoke consent (FCC 24-24).
    ("Please stop", false, Expect::Out),
    ("STOP sending me these", false, Expect::Out),
    ("stop it now", false, Expect::Out),
    ("I want to opt out of this", false, Expect::Out),
    ("stop stop", false, Expect::Out),
    ("Stop texting me", false, Expect::Out),
    ("unsubscribe me", false, Expect::Out),
    ("Cancel my subscription", false, Expect::Out),
    ("STOP ALL MESSAGES", false, Expect::Out),
    ("quit texting me", false, Expect::Out),
    ("STOPPROMO please", false, Expect::OutPromo),
    // An opt-out word anywhere wins over opt-in and help words.
    ("Yes stop", false, Expect::Out),
    ("Start? No, STOP", false, Expect::Out),
    ("HELP STOP", false, Expect::Out),
    // Maybe a request to stop: one question, nothing recorded.
    ("remove me", false, Expect::Clarify),
    ("no more texts", false, Expect::Clarify),
    ("leave me alone", false, Expect::Clarify),
    // Ordinary messages, words in another sense included.
    ("don't stop sending me deals", false, Expect::None),
    ("when does the sale end?", false, Expect::None),
    ("can I cancel my order?", false, Expect::None),
    ("yes please", true, Expect::None),
    ("start over", true, Expect::None),
    ("unstoppable", false, Expect::None),
    ("Can you help me with my order?", false, Expect::None),
    ("hello", false, Expect::None),
    ("", false, Expect::None),
    ("...", false, Expect::None),
    // A stop sign alone may mean stop: asked, not recorded.
    ("🛑", false, Expect::Clarify),
    ("Ok thanks", false, Expect::None),
];

#[test]
fn table_of_inbound_messages() {
    assert!(TABLE.len() >= 80, "{} rows", TABLE.len());
    for &(text, opted_out, expect) in TABLE {
        let (store, promo) = store();
        let from = sender();
        if opted_out {
            store.inbound(&from, &ch_a(), "STOP").unwrap();
        }
        let out = store.inbound(&from, &ch_a(), text).unwrap();
        let got = match out.action {
            InboundAction::OptOut if out.changes.is_empty() => Expect::None,
            InboundAction::OptOut if out.changes[0].list == Some(promo) => Expect::OutPromo,
            InboundAction::OptOut => Expect::Out,
            InboundAction::OptIn => Expect::In,
            InboundAction::Help => Expect::Help,
            InboundAction::Clarify => Expect::Clarify,
            _ => Expect::None,
        };
        assert_eq!(got, expect, "{text:?} (opted out before: {opted_out})");
        let wants_reply = expect != Expect::None;
        if expect == Expect::Clarify {
            assert!(
                out.changes.is_empty(),
                "{text:?}: a clarify recorded a change"
            );
        }
        assert_eq!(
            out.reply.is_some(),
            wants_reply,
            "{text:?}: reply {:?}",
            out.reply
        );
        if expect == Expect::OutPromo {
            assert_eq!(out.reply.as_deref(), Some("No more promotions."));
        }
        if expect == Expect::None {
            assert!(out.changes.is_empty(), "{text:?} changed something");
        }
    }
}

#[test]
fn replies_follow_the_keyword_language() {
    let (store, _) = store();
    let from = sender();
    let out = store.inbound(&from, &ch_a(), "BAJA").unwrap();
    assert_eq!(out.language, Some(Language::Spanish));
    assert_eq!(
        out.reply.as_deref(),
        Some(Language::Spanish.opt_out_reply())
    );
    let back = store.inbound(&from, &ch_a(), "ALTA").unwrap();
    assert_eq!(
        back.reply.as_deref(),
        Some(Language::Spanish.opt_in_reply())
    );
}

fn marketing(channel: Channel) -> Dispatch {
    Dispatch::new(Category::Marketing).channel(channel)
}

#[test]
fn stop_then_start_round_trip() {
    let (store, _) = store();
    let n = Normalizer::new(Region::new("US").unwrap());
    let from = sender();
    let audience = ["(415) 555-0123", "(415) 555-0124"];

    let stop = store.inbound(&from, &ch_a(), "STOP").unwrap();
    assert_eq!(stop.action, InboundAction::OptOut);
    assert_eq!(
        stop.reply.as_deref(),
        Some(Language::English.opt_out_reply())
    );
    let split = store
        .compile(&marketing(ch_a()))
        .unwrap()
        .split(&n, &audience);
    assert_eq!(
        split.outcomes()[0].skip_reason(),
        Some(SkipReason::OptedOut)
    );

    let start = store.inbound(&from, &ch_a(), "START").unwrap();
    assert_eq!(start.action, InboundAction::OptIn);
    assert_eq!(
        start.reply.as_deref(),
        Some(Language::English.opt_in_reply())
    );
    let split = store
        .compile(&marketing(ch_a()))
        .unwrap()
        .split(&n, &audience);
    assert!(split.outcomes()[0].is_sendable());
    assert_eq!(store.history(..).len(), 2);
}

#[test]
fn start_from_someone_never_opted_out_does_nothing() {
    let (store, _) = store();
    let out = store.inbound(&sender(), &ch_a(), "START").unwrap();
    assert_eq!(
        (out.action, out.reply, out.changes.len()),
        (InboundAction::None, None, 0)
    );
    assert!(store.history(..).is_empty());
}

#[test]
fn stop_on_a_leaves_b_sendable_unless_a_enforces_account_opt_outs() {
    let (store, _) = store();
    let from = sender();
    store.inbound(&from, &ch_a(), "STOP").unwrap();
    assert_eq!(
        store.check(&from, &marketing(ch_a())).unwrap(),
        Some(SkipReason::OptedOut)
    );
    assert_eq!(store.check(&from, &marketing(ch_b())).unwrap(), None);

    let (store, _) = self::store();
    store
        .set_keyword_scope(&ch_a(), KeywordScope::Account)
        .unwrap();
    store.inbound(&from, &ch_a(), "STOP").unwrap();
    assert_eq!(
        store.check(&from, &marketing(ch_b())).unwrap(),
        Some(SkipReason::OptedOut)
    );
    // START on the enforcing channel lifts the account-wide opt-out.
    assert_eq!(
        store.inbound(&from, &ch_a(), "START").unwrap().action,
        InboundAction::OptIn
    );
    assert_eq!(store.check(&from, &marketing(ch_b())).unwrap(), None);
}

#[test]
fn a_channel_that_starts_enforcing_account_opt_outs_widens_the_next_stop() {
    let (store, _) = store();
    let from = sender();
    store.inbound(&from, &ch_a(), "STOP").unwrap();
    store
        .set_keyword_scope(&ch_a(), KeywordScope::Account)
        .unwrap();
    // The earlier STOP was for A alone; this one is for the account.
    let again = store.inbound(&from, &ch_a(), "STOP").unwrap();
    assert_eq!(again.changes.len(), 1);
    assert_eq!(again.changes[0].scope, Scope::Account);
    assert!(again.reply.is_some());
    assert_eq!(
        store.check(&from, &marketing(ch_b())).unwrap(),
        Some(SkipReason::OptedOut)
    );
    // A third STOP is a repeat.
    let third = store.inbound(&from, &ch_a(), "STOP").unwrap();
    assert_eq!((third.changes.len(), third.reply), (0, None));
    // START on A lifts both the account-wide entry and A's own.
    let back = store.inbound(&from, &ch_a(), "START").unwrap();
    assert_eq!(back.changes.len(), 2);
    assert!(back.reply.is_some());
    assert_eq!(store.check(&from, &marketing(ch_a())).unwrap(), None);
    assert_eq!(store.check(&from, &marketing(ch_b())).unwrap(), None);
}

#[test]
fn start_does_not_claim_a_resubscription_an_account_opt_out_still_blocks() {
    let (store, _) = store();
    let from = sender();
    store.inbound(&from, &ch_a(), "STOP").unwrap();
    store
        .opt_out(
            &from,
            &optout::store::Edit::new().source(optout::model::Source::WebForm),
        )
        .unwrap();
    let start = store.inbound(&from, &ch_a(), "START").unwrap();
    // A's own opt-out is lifted, but the web-form opt-out still applies:
    // no "you have been resubscribed".
    assert_eq!(start.action, InboundAction::OptIn);
    assert_eq!(start.changes.len(), 1);
    assert_eq!(start.reply, None);
    assert_eq!(
        store.check(&from, &marketing(ch_a())).unwrap(),
        Some(SkipReason::OptedOut)
    );
}

#[test]
fn replies_name_words_the_channel_accepts() {
    let store = Store::new();
    let from = sender();
    store
        .set_channel_keywords(&ch_a(), Keywords::default().languages([Language::Spanish]))
        .unwrap();
    // STOP is an FCC word and always works; the reply is in the channel's
    // language and names its opt-in word, which works there.
    let stop = store.inbound(&from, &ch_a(), "STOP").unwrap();
    let reply = stop.reply.unwrap();
    assert_eq!(reply, Language::Spanish.opt_out_reply());
    assert!(reply.contains("ALTA"));
    let back = store.inbound(&from, &ch_a(), "alta").unwrap();
    assert_eq!(back.action, InboundAction::OptIn);
    // On an English channel, STOP names START.
    let stop = store.inbound(&from, &ch_b(), "STOP").unwrap();
    assert_eq!(
        stop.reply.as_deref(),
        Some(Language::English.opt_out_reply())
    );
}

#[test]
fn an_account_wide_opt_out_makes_a_channel_stop_a_repeat() {
    let (store, _) = store();
    let from = sender();
    store.opt_out(&from, &optout::store::Edit::new()).unwrap();
    let out = store.inbound(&from, &ch_a(), "STOP").unwrap();
    assert_eq!((out.action, out.reply), (InboundAction::OptOut, None));
}

#[test]
fn list_keyword_opts_out_of_that_list_only() {
    let (store, promo) = store();
    let from = sender();
    let out = store.inbound(&from, &ch_a(), "STOPPROMO").unwrap();
    assert_eq!(out.changes[0].list, Some(promo));
    assert_eq!(store.check(&from, &marketing(ch_a())).unwrap(), None);
    assert_eq!(
        store
            .check(&from, &marketing(ch_a()).honour(promo))
            .unwrap(),
        Some(SkipReason::OptedOut)
    );
    // START brings them back on that list.
    let back = store.inbound(&from, &ch_a(), "START").unwrap();
    assert_eq!(back.changes[0].list, Some(promo));
    // Deleting the list retires its keyword: the word is then only a
    // glued "stop" + "promo", which may ask to stop, so it is clarified.
    store.delete_list(promo).unwrap();
    let after = store.inbound(&from, &ch_a(), "STOPPROMO").unwrap();
    assert_eq!(after.action, InboundAction::Clarify);
    assert!(after.changes.is_empty());
}

#[test]
fn keyword_settings_per_account_and_channel() {
    let (store, _) = store();
    let from = sender();
    store
        .set_channel_keywords(
            &ch_b(),
            Keywords::default()
                .languages([Language::Spanish])
                .help_reply("Ayuda: 555-0100"),
        )
        .unwrap();
    assert_eq!(
        store.inbound(&from, &ch_b(), "ARRET").unwrap().action,
        InboundAction::None
    );
    assert_eq!(
        store
            .inbound(&from, &ch_b(), "AYUDA")
            .unwrap()
            .reply
            .as_deref(),
        Some("Ayuda: 555-0100")
    );
    // The FCC words work everywhere.
    assert_eq!(
        store.inbound(&from, &ch_b(), "REVOKE").unwrap().action,
        InboundAction::OptOut
    );
    store
        .set_keywords(
            Keywords::default()
                .matching(KeywordMatch::Leading)
                .add_opt_out("ENOUGH"),
        )
        .unwrap();
    assert_eq!(
        store
            .inbound(&from, &ch_a(), "enough already")
            .unwrap()
            .action,
        InboundAction::OptOut
    );
}

#[test]
fn protected_words_and_reply_limits() {
    for word in optout::keyword::FCC_REVOCATION_WORDS {
        assert!(
            matches!(
                Keywords::default().remove(word).map_err(Error::into_kind),
                Err(ErrorKind::ProtectedKeyword { .. })
            ),
            "{word}"
        );
        assert!(matches!(
            Keywords::default()
                .remove(&word.to_lowercase())
                .map_err(Error::into_kind),
            Err(ErrorKind::ProtectedKeyword { .. })
        ));
    }
    let store = Store::new();
    let too_long = Keywords::default().opt_in_reply("x".repeat(301));
    assert!(matches!(
        store.set_keywords(too_long).map_err(Error::into_kind),
        Err(ErrorKind::TooLong { limit: 300, .. })
    ));
    assert!(
        store
            .set_keywords(Keywords::default().opt_in_reply("x".repeat(300)))
            .is_ok()
    );
    // A default word that is not an FCC word can be removed from the
    // exact keywords; the FCC words keep working. Read as a sentence, a
    // removed opt-out word still asks to stop (fail closed).
    let exact = Keywords::default().matching(KeywordMatch::WholeMessage);
    let fewer = exact.clone().remove("STOPALL").unwrap().compile(&[]);
    assert!(fewer.find("stopall").is_none());
    assert!(fewer.find("stop").is_some());
    assert!(exact.compile(&[]).find("stopall").is_some());
    let sentences = Keywords::default().remove("STOPALL").unwrap().compile(&[]);
    assert!(sentences.find("stopall").is_some());
    let no_help = Keywords::default().remove("INFO").unwrap().compile(&[]);
    assert!(no_help.find("info").is_none());
}

#[test]
fn an_opt_in_or_help_word_cannot_begin_with_an_opt_out_word() {
    let store = Store::new();
    for keywords in [
        Keywords::default().add_opt_in("stop please"),
        Keywords::default().add_opt_in("STOP ALL"),
        Keywords::default().add_help("Cancel, help"),
        Keywords::default().add_opt_in("BAJA YA"),
        Keywords::default()
            .add_opt_out("HALT")
            .add_opt_in("halt now"),
    ] {
        assert!(
            matches!(
                store
                    .set_keywords(keywords.clone())
                    .map_err(Error::into_kind),
                Err(ErrorKind::InvalidList { .. })
            ),
            "{keywords:?}"
        );
    }
    assert_eq!(store.keywords(Some(&ch_a())), Keywords::default());
    store
        .set_keywords(
            Keywords::default()
                .matching(KeywordMatch::Leading)
                .add_opt_in("GO")
                .add_help("need help"),
        )
        .unwrap();
    let from = sender();
    store.inbound(&from, &ch_a(), "stop please now").unwrap();
    assert_eq!(
        store.check(&from, &marketing(ch_a())).unwrap(),
        Some(SkipReason::OptedOut)
    );
}

#[test]
fn list_keywords_are_checked_as_replies_are_matched() {
    let store = Store::new();
    let refused = |settings: ListSettings| {
        let before = store.lists();
        let err = store.create_list(settings).unwrap_err();
        assert_eq!(store.lists(), before, "a refused list changes nothing");
        err.into_kind()
    };
    // Built-in words of any shipped language: a list keyword START would
    // turn an opt-in into an opt-out, STOP would never fire.
    for word in ["START", "stop", "Opt-Out", "AYUDA", "arrêt", "Unstop"] {
        assert!(
            matches!(
                refused(ListSettings::new(format!("L {word}")).keyword(word)),
                ErrorKind::InvalidList {
                    field: optout::error::ListField::Keyword,
                    ..
                }
            ),
            "{word}"
        );
    }
    // Nothing a reply could match.
    assert!(matches!(
        refused(ListSettings::new("Dots").keyword("...")),
        ErrorKind::InvalidList { .. }
    ));
    // Keywords equal once accents, case and punctuation are dropped.
    store
        .create_list(ListSettings::new("Summer").keyword("Été"))
        .unwrap();
    assert!(matches!(
        refused(ListSettings::new("Summer 2").keyword("ete")),
        ErrorKind::DuplicateKeyword { .. }
    ));
    let promo = store
        .create_list(ListSettings::new("Promo").keyword("STOP-PROMO"))
        .unwrap();
    assert!(matches!(
        refused(ListSettings::new("Promo 2").keyword("stop promo")),
        ErrorKind::DuplicateKeyword { .. }
    ));
    let out = store.inbound(&sender(), &ch_a(), "Stop promo!").unwrap();
    assert_eq!(out.changes.first().and_then(|c| c.list), Some(promo));

    // The account's own words and the lists' words stay apart, whichever
    // comes first.
    let before = store.keywords(Some(&ch_a()));
    assert!(matches!(
        store
            .set_keywords(Keywords::default().add_opt_in("ete"))
            .map_err(Error::into_kind),
        Err(ErrorKind::DuplicateKeyword { .. })
    ));
    assert!(matches!(
        store
            .set_channel_keywords(&ch_b(), Keywords::default().add_help("ÉTÉ"))
            .map_err(Error::into_kind),
        Err(ErrorKind::DuplicateKeyword { .. })
    ));
    assert!(
        store
            .set_channel_keywords(&ch_b(), Keywords::default().add_help("STOP PROMO"))
            .is_err()
    );
    assert_eq!(store.keywords(Some(&ch_a())), before);
    assert_eq!(store.keywords(Some(&ch_b())), before);
    store
        .set_keywords(Keywords::default().add_opt_in("RESUME"))
        .unwrap();
    assert!(matches!(
        refused(ListSettings::new("Resume").keyword("resume")),
        ErrorKind::InvalidList { .. }
    ));
}

#[test]
fn a_thousand_keywords_match_like_ten() {
    // Not a timing test (that is `cargo bench --bench keyword`): with a
    // thousand extra words the matcher still finds each of them, the
    // default words, and nothing inside a sentence.
    let mut many = Keywords::default();
    for i in 0..1000 {
        many = many.add_opt_out(format!("STOPCODE{i}"));
    }
    let m = many.compile(&[]);
    assert!(m.len() > 1000);
    assert!(m.find("stopcode999").is_some());
    assert!(m.find("stop").is_some());
    assert!(m.find("don't stop").is_none());
    assert!(m.find("stopcode999 please").is_some());
}

#[cfg(feature = "serde")]
#[test]
fn events_serialize_to_the_webhook_payload() {
    let store = Store::new();
    let promo = store
        .create_list(
            ListSettings::new("Promotions")
                .keyword("STOPPROMO")
                .webhook("https://hooks.example.com/o"),
        )
        .unwrap();
    let t = optout::model::Timestamp::from_unix_secs(1_764_000_000);
    let out = store
        .inbound_at(&sender(), &ch_a(), "STOPPROMO", t)
        .unwrap();
    let event = store.event(&out.changes[0]);
    assert_eq!(
        event.webhook.as_deref(),
        Some("https://hooks.example.com/o")
    );
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "opt_list_name": "Promotions",
            "mobile": 14155550123u64,
            "email": null,
            "channel_id": "+14155550100",
            "action": "opt-out",
            "source": "keyword",
            "time": "2025-11-24T16:00:00.000Z"
        })
    );
    let ann = Normalizer::default().address("ann@example.com").unwrap();
    let web = store
        .opt_out(
            &ann,
            &optout::store::Edit::new()
                .source(optout::model::Source::WebForm)
                .list(promo),
        )
        .unwrap();
    let json = serde_json::to_value(store.event(&web[0])).unwrap();
    assert_eq!(json["email"], "ann@example.com");
    assert_eq!(json["mobile"], serde_json::Value::Null);
    assert_eq!(json["channel_id"], serde_json::Value::Null);
    assert_eq!(json["source"], "web_form");
}

/// Opted-out customers still get utility texts such as "Reply YES to
/// confirm your appointment": their YES must not undo the opt-out. An
/// account that wants YES as an opt-in adds it, knowingly.
#[test]
fn yes_does_not_erase_an_opt_out() {
    let (store, _) = store();
    let from = sender();
    store.inbound(&from, &ch_a(), "STOP").unwrap();
    let yes = store.inbound(&from, &ch_a(), "YES").unwrap();
    assert_eq!((yes.action, yes.changes.len()), (InboundAction::None, 0));
    assert_eq!(
        store.check(&from, &marketing(ch_a())).unwrap(),
        Some(SkipReason::OptedOut)
    );
    store
        .set_keywords(Keywords::default().add_opt_in("YES"))
        .unwrap();
    assert_eq!(
        store.inbound(&from, &ch_a(), "YES").unwrap().action,
        InboundAction::OptIn
    );
}

/// A reply that may be a revocation gets one clarification question per
/// sender and channel; marketing to them stops there until they answer
/// (47 CFR 64.1200(a)(12)); STOP makes it an opt-out, START lifts it.
/// The clarification asks "do you want to stop?": a "yes" to it is an
/// opt-out, in any shipped language, even where YES was made an opt-in
/// word; without a pending question "yes" is nothing.
#[test]
fn yes_to_the_clarification_opts_out() {
    for with_yes_opt_in in [false, true] {
        for yes in ["Yes", "yes please", "Sí", "oui", "Ja!"] {
            let (store, _) = store();
            if with_yes_opt_in {
                store
                    .set_keywords(Keywords::default().add_opt_in("YES"))
                    .unwrap();
            }
            let from = sender();
            assert_eq!(
                store.inbound(&from, &ch_a(), "remove me").unwrap().action,
                InboundAction::Clarify
            );
            let answer = store.inbound(&from, &ch_a(), yes).unwrap();
            assert_eq!(answer.action, InboundAction::OptOut, "{yes}");
            assert!(answer.reply.is_some(), "{yes}");
            assert!(!store.is_clarifying(&from, &ch_a()), "{yes}");
            assert_eq!(
                store.check(&from, &marketing(ch_a())).unwrap(),
                Some(SkipReason::OptedOut),
                "{yes}"
            );
            assert_eq!(store.history(..).len(), 1, "{yes}");
        }
    }
    let (store, _) = store();
    let from = sender();
    assert_eq!(
        store.inbound(&from, &ch_a(), "yes").unwrap().action,
        InboundAction::None
    );
    assert!(store.history(..).is_empty());
}

#[test]
fn a_clarification_is_asked_once_and_suppresses_until_answered() {
    let (store, _) = store();
    let from = sender();
    let first = store.inbound(&from, &ch_a(), "remove me").unwrap();
    assert_eq!(first.action, InboundAction::Clarify);
    assert_eq!(
        first.reply.as_deref(),
        Some(Language::English.clarify_reply())
    );
    assert!(first.changes.is_empty());
    assert!(
        store.history(..).is_empty(),
        "nothing recorded as an opt-out"
    );
    assert!(store.is_clarifying(&from, &ch_a()));
    // Marketing on that channel (and on no named channel) is suppressed;
    // another channel and utility traffic are not.
    assert_eq!(
        store.check(&from, &marketing(ch_a())).unwrap(),
        Some(SkipReason::OptedOut)
    );
    assert_eq!(
        store
            .check(&from, &Dispatch::new(Category::Marketing))
            .unwrap(),
        Some(SkipReason::OptedOut)
    );
    assert_eq!(store.check(&from, &marketing(ch_b())).unwrap(), None);
    assert_eq!(
        store
            .check(&from, &Dispatch::new(Category::Utility).channel(ch_a()))
            .unwrap(),
        None
    );
    // Asked once: another unclear message, or an unrelated one, gets no
    // second question and lifts nothing.
    let again = store.inbound(&from, &ch_a(), "leave me alone").unwrap();
    assert_eq!((again.action, again.reply), (InboundAction::Clarify, None));
    assert_eq!(
        store.inbound(&from, &ch_a(), "what?").unwrap().action,
        InboundAction::None
    );
    assert!(store.is_clarifying(&from, &ch_a()));
    // START answers it: they want to keep receiving messages.
    let start = store.inbound(&from, &ch_a(), "START").unwrap();
    assert_eq!(start.action, InboundAction::OptIn);
    assert_eq!(
        start.reply.as_deref(),
        Some(Language::English.opt_in_reply())
    );
    assert!(!store.is_clarifying(&from, &ch_a()));
    assert_eq!(store.check(&from, &marketing(ch_a())).unwrap(), None);
    // A new unclear message is asked about again; STOP then opts out.
    assert!(
        store
            .inbound(&from, &ch_a(), "remove me")
            .unwrap()
            .reply
            .is_some()
    );
    let stop = store.inbound(&from, &ch_a(), "STOP").unwrap();
    assert_eq!(stop.changes.len(), 1);
    assert!(!store.is_clarifying(&from, &ch_a()));
    assert_eq!(
        store.check(&from, &marketing(ch_a())).unwrap(),
        Some(SkipReason::OptedOut)
    );
    // Someone already opted out is not asked.
    let asked = store.inbound(&from, &ch_a(), "remove me").unwrap();
    assert_eq!((asked.action, asked.reply), (InboundAction::Clarify, None));
}

/// The clarification question is configurable per account, channel and
/// language.
#[test]
fn clarification_replies_per_language_and_account() {
    let store = Store::new();
    let from = sender();
    store
        .set_channel_keywords(
            &ch_b(),
            Keywords::default()
                .languages([Language::Spanish])
                .clarify_reply("¿Quieres darte de baja? Responde BAJA."),
        )
        .unwrap();
    let es = store.inbound(&from, &ch_b(), "No me molesten más").unwrap();
    assert_eq!(es.action, InboundAction::Clarify);
    assert_eq!(
        es.reply.as_deref(),
        Some("¿Quieres darte de baja? Responde BAJA.")
    );
    let fr = store
        .inbound(&from, &ch_a(), "Laissez-moi tranquille")
        .unwrap();
    assert_eq!(fr.action, InboundAction::Clarify);
    assert_eq!(fr.reply.as_deref(), Some(Language::French.clarify_reply()));
}

/// On a channel that enforces account-level opt-outs, a pending
/// clarification suppresses marketing account-wide, as a STOP would.
#[test]
fn a_clarification_on_an_enforcing_channel_is_account_wide() {
    let (store, _) = store();
    store
        .set_keyword_scope(&ch_a(), KeywordScope::Account)
        .unwrap();
    let from = sender();
    store.inbound(&from, &ch_a(), "remove me").unwrap();
    assert_eq!(
        store.check(&from, &marketing(ch_b())).unwrap(),
        Some(SkipReason::OptedOut)
    );
    store.inbound(&from, &ch_a(), "START").unwrap();
    assert_eq!(store.check(&from, &marketing(ch_b())).unwrap(), None);
}

/// Exact-keyword matching (carriers' filters) stays available: sentences
/// are then ordinary messages.
#[test]
fn exact_matching_is_an_option() {
    let store = Store::new();
    store
        .set_keywords(Keywords::default().matching(KeywordMatch::WholeMessage))
        .unwrap();
    let from = sender();
    for text in ["Please stop", "remove me", "Stop texting me"] {
        assert_eq!(
            store.inbound(&from, &ch_a(), text).unwrap().action,
            InboundAction::None,
            "{text}"
        );
    }
    assert_eq!(
        store.inbound(&from, &ch_a(), "STOP").unwrap().action,
        InboundAction::OptOut
    );
}

/// At least 150 labelled messages in five languages — opt-out, clarify,
/// none, opt-in and help — each with the source of its label
/// (`tests/data/revocation_messages.tsv`), handled end to end by a store.
#[test]
fn labelled_revocation_messages() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/revocation_messages.tsv");
    let table = std::fs::read_to_string(path).unwrap();
    let mut rows = 0;
    let mut wrong = Vec::new();
    for line in table.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [message, label, language, source] = cols[..] else {
            panic!("malformed row {line:?}");
        };
        assert!(!source.trim().is_empty(), "{message:?} has no source");
        assert!(["en", "es", "fr", "pt", "de"].contains(&language), "{line}");
        rows += 1;
        let store = Store::new();
        let from = sender();
        if label == "opt-in" {
            store.inbound(&from, &ch_a(), "STOP").unwrap();
        }
        let out = store.inbound(&from, &ch_a(), message).unwrap();
        let got = match out.action {
            InboundAction::OptOut if !out.changes.is_empty() => "opt-out",
            InboundAction::OptIn => "opt-in",
            InboundAction::Help => "help",
            InboundAction::Clarify if out.reply.is_some() => "clarify",
            InboundAction::None => "none",
            other => panic!("{message:?}: {other:?} with {:?}", out.reply),
        };
        if got != label {
            wrong.push(format!("{message:?}: {got}, labelled {label} ({source})"));
        }
    }
    assert!(rows >= 360, "only {rows} rows");
    assert!(
        wrong.is_empty(),
        "{} of {rows} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// An opt-out word anywhere wins, whatever the matching policy and
/// whatever words the account adds: a leading START does not outweigh a
/// later STOP, and an opt-in or help word cannot hold an opt-out word.
#[test]
fn an_opt_out_word_anywhere_wins_in_every_mode() {
    let leading = Keywords::default()
        .matching(KeywordMatch::Leading)
        .compile(&[]);
    for text in ["Start? No, STOP", "start stop", "help stop", "START. STOP"] {
        assert!(
            matches!(
                leading.find(text).map(|h| h.kind),
                Some(optout::keyword::KeywordKind::OptOut(_))
            ),
            "{text}"
        );
    }
    for (word, is_opt_in) in [
        ("YES STOP", true),
        ("OK STOP", false),
        ("please stop", true),
        ("dont stop", false),
    ] {
        let keywords = if is_opt_in {
            Keywords::default().add_opt_in(word)
        } else {
            Keywords::default().add_help(word)
        };
        assert!(
            matches!(
                keywords.validate().map_err(Error::into_kind),
                Err(ErrorKind::InvalidList { .. })
            ),
            "{word}"
        );
    }
    assert!(Keywords::default().add_opt_in("GO").validate().is_ok());
}
