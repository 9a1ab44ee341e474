//! Reading a store for a send: the compiled suppression, and the check of
//! one address, which agree.

use std::sync::Arc;

use roaring::RoaringTreemap;

use crate::address::Address;
use crate::error::Error;
use crate::filter::{Dispatch, SkipReason, Suppression, hashed_out};

use super::Store;
use super::state::State;

/// The sets that suppress marketing for a dispatch: the honoured lists'
/// entries in the send's scope, and pending clarifications there.
fn opt_out_sets<'a>(
    state: &'a State,
    dispatch: &'a Dispatch,
) -> Result<Vec<&'a RoaringTreemap>, Error> {
    let mut sets: Vec<&RoaringTreemap> = Vec::new();
    // Utility and OTP sends honour no list, so a stale list id in their
    // dispatch cannot hold up a login code.
    if dispatch.category().honours_opt_outs() {
        let channel = dispatch.channel_name();
        for &list in dispatch.honoured_lists() {
            sets.extend(state.slot(list)?.entries.applying_to(channel));
        }
        // Until a person answers a clarification, marketing stops: the
        // rule's answer to silence (47 CFR 64.1200(a)(12)).
        sets.extend(state.pending.applying_to(channel));
    }
    Ok(sets)
}

impl Store {
    /// Compiles the suppression for a send: the union of the honoured
    /// lists' entries that apply to the send's channel (account-wide and
    /// that channel's; every scope's when the send names no channel),
    /// pending clarifications likewise, and the blocked set. Takes the
    /// store's read lock only while copying; on a shared log, first reads
    /// what other writers appended.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownList`](crate::error::ErrorKind::UnknownList) if
    /// a marketing send honours a list that does not exist; what a shared
    /// log reports.
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Dispatch, Normalizer, Store};
    /// use optout::error::ErrorKind;
    /// use optout::model::Channel;
    /// use optout::store::{Edit, ListSettings};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let ann = Normalizer::default().address("+14155550123")?;
    /// let sms1 = Channel::new("sms1")?;
    /// store.inbound(&ann, &sms1, "STOP")?; // opts out of sms1 only
    /// let on = |c: &str| -> Result<bool, Box<dyn std::error::Error>> {
    ///     Ok(store.compile(&Dispatch::marketing().channel(Channel::new(c)?))?.check(&ann).is_some())
    /// };
    /// assert!(on("sms1")? && !on("sms2")?);
    /// assert!(store.compile(&Dispatch::marketing())?.check(&ann).is_some()); // no channel: every scope
    ///
    /// let promo = store.create_list(ListSettings::new("Promotions"))?;
    /// store.delete_list(promo)?;
    /// let err = store.compile(&Dispatch::marketing().honour(promo)).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::UnknownList(_)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn compile(&self, dispatch: &Dispatch) -> Result<Suppression, Error> {
        self.refresh()?;
        let (blocked, opted, emails) = {
            let state = self.read();
            let sets = opt_out_sets(&state, dispatch)?;
            let opted = crate::bitmap::union_all(&sets);
            (state.blocked.clone(), opted, Arc::clone(&state.emails))
        };
        Ok(Suppression::new(
            dispatch.category(),
            blocked,
            opted,
            emails,
            dispatch.hashed_lists().to_vec(),
        ))
    }

    /// Checks one address against a send, at send time, from the live
    /// store: the verdict [`Suppression::check`] gives for the same
    /// dispatch (duplicates aside). On a shared log, first reads what
    /// other writers appended.
    ///
    /// # Errors
    ///
    /// As [`Store::compile`].
    ///
    /// # Example
    ///
    /// ```
    /// use optout::{Dispatch, Normalizer, Store};
    /// use optout::filter::SkipReason;
    /// use optout::model::Category;
    /// use optout::store::Edit;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Store::new();
    /// let a = Normalizer::default().address("+14155550123")?;
    /// store.block(&a, &Edit::new())?;
    /// let verdict = store.check(&a, &Dispatch::new(Category::Utility))?;
    /// assert_eq!(verdict, Some(SkipReason::Blocked));
    /// # Ok(())
    /// # }
    /// ```
    pub fn check(
        &self,
        address: &Address,
        dispatch: &Dispatch,
    ) -> Result<Option<SkipReason>, Error> {
        self.refresh()?;
        let state = self.read();
        let sets = opt_out_sets(&state, dispatch)?;
        if let Some(id) = state.lookup(address) {
            if state.blocked.contains(id.get()) {
                return Ok(Some(SkipReason::Blocked));
            }
            if sets.iter().any(|set| set.contains(id.get())) {
                return Ok(Some(SkipReason::OptedOut));
            }
        }
        if dispatch.category().honours_opt_outs() && hashed_out(dispatch.hashed_lists(), address) {
            return Ok(Some(SkipReason::OptedOut));
        }
        Ok(None)
    }
}
