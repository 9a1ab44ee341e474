//! Opt-out list metadata and its validation.

use crate::error::{Error, ErrorKind, ListField};
use crate::model::{
    ListId, MAX_DESCRIPTION_CHARS, MAX_KEYWORD_CHARS, MAX_MESSAGE_CHARS, MAX_NAME_CHARS,
};

/// The name of the system list.
pub(crate) const SYSTEM_LIST_NAME: &str = "Default";

/// The settings of a custom list, as given to
/// [`Store::create_list`](crate::Store::create_list) and
/// [`Store::update_list`](crate::Store::update_list).
///
/// Limits are in characters, not bytes: a 50-character name in Japanese is
/// fine.
///
/// # Example
///
/// ```
/// use optout::store::ListSettings;
///
/// let settings = ListSettings::new("Flash sales")
///     .description("Weekend flash sale texts")
///     .keyword("STOPSALE")
///     .confirmation("You will get no more flash sale texts. Reply START to resume.")
///     .webhook("https://hooks.example.com/optout");
/// assert_eq!(settings.name(), "Flash sales");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ListSettings {
    name: String,
    description: String,
    keyword: Option<String>,
    confirmation: Option<String>,
    webhook: Option<String>,
}

impl ListSettings {
    /// Settings with a name and nothing else.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::store::ListSettings::new("VIP").name(), "VIP");
    /// ```
    pub fn new(name: impl Into<String>) -> ListSettings {
        ListSettings {
            name: name.into(),
            ..ListSettings::default()
        }
    }

    /// Sets the description (at most 300 characters).
    ///
    /// # Example
    ///
    /// ```
    /// let s = optout::store::ListSettings::new("VIP").description("Top customers");
    /// assert_eq!(s.description_text(), "Top customers");
    /// ```
    pub fn description(mut self, description: impl Into<String>) -> ListSettings {
        self.description = description.into();
        self
    }

    /// Sets the list's own opt-out keyword (at most 50 characters, unique
    /// across lists).
    ///
    /// # Example
    ///
    /// ```
    /// let s = optout::store::ListSettings::new("VIP").keyword("STOPVIP");
    /// assert_eq!(s.keyword_text(), Some("STOPVIP"));
    /// ```
    pub fn keyword(mut self, keyword: impl Into<String>) -> ListSettings {
        self.keyword = Some(keyword.into());
        self
    }

    /// Sets the opt-out confirmation message (at most 300 characters).
    ///
    /// # Example
    ///
    /// ```
    /// let s = optout::store::ListSettings::new("VIP").confirmation("Unsubscribed from VIP news.");
    /// assert_eq!(s.confirmation_text(), Some("Unsubscribed from VIP news."));
    /// ```
    pub fn confirmation(mut self, message: impl Into<String>) -> ListSettings {
        self.confirmation = Some(message.into());
        self
    }

    /// Sets the webhook URL that list events are meant for (http or https).
    ///
    /// # Example
    ///
    /// ```
    /// let s = optout::store::ListSettings::new("VIP").webhook("https://example.com/hook");
    /// assert_eq!(s.webhook_url(), Some("https://example.com/hook"));
    /// ```
    pub fn webhook(mut self, url: impl Into<String>) -> ListSettings {
        self.webhook = Some(url.into());
        self
    }

    /// The name.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::store::ListSettings::new("VIP").name(), "VIP");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The description.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::store::ListSettings::new("VIP").description_text(), "");
    /// ```
    pub fn description_text(&self) -> &str {
        &self.description
    }

    /// The opt-out keyword, if any.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::store::ListSettings::new("VIP").keyword_text(), None);
    /// ```
    pub fn keyword_text(&self) -> Option<&str> {
        self.keyword.as_deref()
    }

    /// The confirmation message, if any.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::store::ListSettings::new("VIP").confirmation_text(), None);
    /// ```
    pub fn confirmation_text(&self) -> Option<&str> {
        self.confirmation.as_deref()
    }

    /// The webhook URL, if any.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(optout::store::ListSettings::new("VIP").webhook_url(), None);
    /// ```
    pub fn webhook_url(&self) -> Option<&str> {
        self.webhook.as_deref()
    }

    /// Checks every limit and that the keyword is the list's own; the
    /// first violation is the error.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        self.check_shape()?;
        if let Some(keyword) = &self.keyword
            && let Some(meaning) =
                crate::keyword::builtin_meaning(&crate::keyword::canonical(keyword))
        {
            return Err(Error::invalid_list(
                ListField::Keyword,
                format!(
                    "{keyword:?} is a built-in keyword that {meaning}; a list needs a word of its own"
                ),
            ));
        }
        Ok(())
    }

    /// Checks the limits that do not depend on this version's word lists:
    /// settings that were valid when they were recorded stay readable when
    /// a later version learns a word (the matcher lets opt-out words win
    /// any clash).
    pub(crate) fn check_shape(&self) -> Result<(), Error> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(Error::invalid_list(ListField::Name, "must not be empty"));
        }
        check_len(ListField::Name, &self.name, MAX_NAME_CHARS)?;
        check_len(
            ListField::Description,
            &self.description,
            MAX_DESCRIPTION_CHARS,
        )?;
        if let Some(keyword) = &self.keyword {
            if keyword.trim().is_empty() {
                return Err(Error::invalid_list(ListField::Keyword, "must not be empty"));
            }
            check_len(ListField::Keyword, keyword, MAX_KEYWORD_CHARS)?;
            // Replies are matched on their canonical form (accents, case
            // and punctuation dropped), so that is what must be usable.
            let key = crate::keyword::canonical(keyword);
            if key.is_empty() {
                return Err(Error::invalid_list(
                    ListField::Keyword,
                    "has no letters or digits, so no reply could match it",
                ));
            }
        }
        if let Some(message) = &self.confirmation {
            check_len(ListField::Confirmation, message, MAX_MESSAGE_CHARS)?;
        }
        if let Some(url) = &self.webhook {
            let reason = match url::Url::parse(url) {
                Err(err) => Some(format!("is not a URL ({err})")),
                Ok(u) if !matches!(u.scheme(), "http" | "https") => {
                    Some(format!("must use http or https, not {}", u.scheme()))
                }
                Ok(u) if u.host_str().is_none_or(str::is_empty) => Some("has no host".into()),
                Ok(_) => None,
            };
            if let Some(reason) = reason {
                return Err(Error::invalid_list(ListField::Webhook, reason));
            }
        }
        Ok(())
    }

    pub(crate) fn encode(&self, w: &mut crate::persist::codec::Writer) {
        w.str(&self.name);
        w.str(&self.description);
        w.opt_str(self.keyword.as_deref());
        w.opt_str(self.confirmation.as_deref());
        w.opt_str(self.webhook.as_deref());
    }

    /// Reads settings back and checks their shape again.
    pub(crate) fn decode(r: &mut crate::persist::codec::Reader<'_>) -> Result<ListSettings, Error> {
        let settings = ListSettings {
            name: r.str()?.to_owned(),
            description: r.str()?.to_owned(),
            keyword: r.opt_str()?.map(str::to_owned),
            confirmation: r.opt_str()?.map(str::to_owned),
            webhook: r.opt_str()?.map(str::to_owned),
        };
        settings
            .check_shape()
            .map_err(|e| r.corrupt(e.to_string()))?;
        Ok(settings)
    }

    /// The name as compared for uniqueness.
    pub(crate) fn name_key(&self) -> String {
        fold_key(&self.name)
    }

    /// The keyword as compared for uniqueness: its canonical form, the
    /// form inbound replies are matched on.
    pub(crate) fn keyword_key(&self) -> Option<String> {
        self.keyword.as_deref().map(crate::keyword::canonical)
    }
}

/// Names are unique regardless of case and surrounding or repeated
/// whitespace.
pub(crate) fn fold_key(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn check_len(field: ListField, value: &str, limit: usize) -> Result<(), Error> {
    let chars = value.chars().count();
    if chars > limit {
        return Err(ErrorKind::TooLong {
            field,
            limit,
            actual: chars,
        }
        .into());
    }
    Ok(())
}

/// A list as the store holds it: its id, settings, and whether it is the
/// system list.
///
/// # Example
///
/// ```
/// use optout::Store;
/// use optout::model::ListId;
///
/// let store = Store::new();
/// let system = store.list(ListId::SYSTEM).unwrap();
/// assert!(system.is_system());
/// assert_eq!(system.name(), "Default");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct List {
    id: ListId,
    settings: ListSettings,
}

impl List {
    pub(crate) fn new(id: ListId, settings: ListSettings) -> List {
        List { id, settings }
    }

    /// The list's id.
    ///
    /// # Example
    ///
    /// ```
    /// let store = optout::Store::new();
    /// assert_eq!(store.list(optout::model::ListId::SYSTEM).unwrap().id(), optout::model::ListId::SYSTEM);
    /// ```
    pub fn id(&self) -> ListId {
        self.id
    }

    /// The list's name.
    ///
    /// # Example
    ///
    /// ```
    /// let store = optout::Store::new();
    /// assert_eq!(store.list(optout::model::ListId::SYSTEM).unwrap().name(), "Default");
    /// ```
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// The list's settings.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = optout::Store::new();
    /// let id = store.create_list(optout::store::ListSettings::new("VIP").keyword("STOPVIP"))?;
    /// assert_eq!(store.list(id).unwrap().settings().keyword_text(), Some("STOPVIP"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn settings(&self) -> &ListSettings {
        &self.settings
    }

    /// `true` for the system (default) list.
    ///
    /// # Example
    ///
    /// ```
    /// let store = optout::Store::new();
    /// assert!(store.list(optout::model::ListId::SYSTEM).unwrap().is_system());
    /// ```
    pub fn is_system(&self) -> bool {
        self.id == ListId::SYSTEM
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_characters_not_bytes() {
        let fifty_kanji = "名".repeat(50);
        assert!(fifty_kanji.len() > 50);
        assert!(ListSettings::new(fifty_kanji.clone()).validate().is_ok());
        let err = ListSettings::new(format!("{fifty_kanji}名"))
            .validate()
            .unwrap_err()
            .into_kind();
        assert!(matches!(
            err,
            ErrorKind::TooLong {
                field: ListField::Name,
                limit: 50,
                actual: 51
            }
        ));
    }

    #[test]
    fn every_field_is_checked() {
        let ok = || ListSettings::new("VIP");
        assert!(ok().validate().is_ok());
        assert!(matches!(
            ListSettings::new("  ").validate().map_err(Error::into_kind),
            Err(ErrorKind::InvalidList {
                field: ListField::Name,
                ..
            })
        ));
        assert!(matches!(
            ok().description("d".repeat(301))
                .validate()
                .map_err(Error::into_kind),
            Err(ErrorKind::TooLong {
                field: ListField::Description,
                limit: 300,
                actual: 301
            })
        ));
        assert!(ok().description("d".repeat(300)).validate().is_ok());
        assert!(matches!(
            ok().keyword("K".repeat(51))
                .validate()
                .map_err(Error::into_kind),
            Err(ErrorKind::TooLong {
                field: ListField::Keyword,
                limit: 50,
                ..
            })
        ));
        assert!(matches!(
            ok().keyword(" ").validate().map_err(Error::into_kind),
            Err(ErrorKind::InvalidList {
                field: ListField::Keyword,
                ..
            })
        ));
        assert!(matches!(
            ok().confirmation("m".repeat(301))
                .validate()
                .map_err(Error::into_kind),
            Err(ErrorKind::TooLong {
                field: ListField::Confirmation,
                limit: 300,
                ..
            })
        ));
        for bad in [
            "ftp://example.com/x",
            "not a url",
            "https://",
            "javascript:alert(1)",
        ] {
            assert!(
                matches!(
                    ok().webhook(bad).validate().map_err(Error::into_kind),
                    Err(ErrorKind::InvalidList {
                        field: ListField::Webhook,
                        ..
                    })
                ),
                "{bad}"
            );
        }
        assert!(
            ok().webhook("http://example.com:8080/h?x=1")
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn keys_fold_case_and_spacing() {
        assert_eq!(fold_key("  Flash   Sales "), "flash sales");
        assert_eq!(fold_key("ÉTÉ"), "été");
    }
}
