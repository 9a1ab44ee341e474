//! The languages whose keywords and replies ship with the crate.

use std::fmt;

/// A language whose keywords and replies ship with the crate.
///
/// # Example
///
/// ```
/// use optout::keyword::Language;
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
    /// assert!(optout::keyword::Language::English.opt_out_words().contains(&"STOP"));
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
    /// YES is not among them: opted-out customers still get utility texts
    /// such as "Reply YES to confirm your appointment", and a YES answering
    /// one must not undo an opt-out. Add it with
    /// [`Keywords::add_opt_in`](crate::keyword::Keywords::add_opt_in) if
    /// your account asks customers to reply YES to resubscribe, knowing
    /// that any YES from an opted-out customer then resubscribes them.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::keyword::Language::English.opt_in_words(), ["START", "UNSTOP"]);
    /// ```
    pub fn opt_in_words(self) -> &'static [&'static str] {
        match self {
            Language::English => &["START", "UNSTOP"],
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
    /// assert_eq!(optout::keyword::Language::English.help_words(), ["HELP", "INFO"]);
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
    /// assert!(optout::keyword::Language::English.opt_out_reply().contains("START"));
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
    /// assert!(optout::keyword::Language::English.opt_in_reply().contains("STOP"));
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
    /// assert!(optout::keyword::Language::English.help_reply().contains("STOP"));
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
    /// The default clarification question, sent once when a reply may be
    /// a request to stop but is not clearly one (see
    /// [`InboundAction::Clarify`](crate::inbound::InboundAction::Clarify)).
    /// Like the one confirmation the FCC rule allows, it carries no
    /// marketing.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(optout::keyword::Language::English.clarify_reply().contains("STOP"));
    /// ```
    pub fn clarify_reply(self) -> &'static str {
        match self {
            Language::English => {
                "Do you want to stop receiving messages from us? Reply STOP to unsubscribe or START to keep receiving them."
            }
            Language::Spanish => {
                "¿Quieres dejar de recibir nuestros mensajes? Responde BAJA para darte de baja o ALTA para seguir recibiéndolos."
            }
            Language::French => {
                "Voulez-vous ne plus recevoir nos messages ? Répondez ARRET pour vous désabonner ou DEBUT pour continuer à les recevoir."
            }
            Language::Portuguese => {
                "Deseja parar de receber nossas mensagens? Responda SAIR para cancelar ou VOLTAR para continuar recebendo."
            }
            Language::German => {
                "Möchten Sie keine Nachrichten mehr von uns erhalten? Antworten Sie STOPP zum Abmelden oder ANMELDEN, um sie weiter zu erhalten."
            }
        }
    }
}

impl Language {
    /// "Yes" in this language, in canonical form: while a clarification
    /// is pending, a "yes" answers its question ("Do you want to stop
    /// receiving messages from us?") and opts out.
    pub(crate) fn affirmative_words(self) -> &'static [&'static str] {
        match self {
            Language::English => &[
                "yes",
                "y",
                "yes please",
                "yeah",
                "yep",
                "yup",
                "sure",
                "yes i do",
            ],
            Language::Spanish => &["si", "si por favor", "claro"],
            Language::French => &["oui", "oui merci", "oui svp"],
            Language::Portuguese => &["sim", "sim por favor", "claro"],
            Language::German => &["ja", "ja bitte", "jawohl"],
        }
    }
}

pub(crate) fn language_code(l: Language) -> u8 {
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
