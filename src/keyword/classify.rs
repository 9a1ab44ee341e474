//! Placeholder for the revocation classifier (replaced by the real one).

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Lang {
    En,
    Es,
    Fr,
    Pt,
    De,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Intent {
    OptOut(Lang),
    Clarify(Lang),
    None,
}

pub(crate) fn classify(_raw: &str, _langs: &[Lang]) -> Intent {
    Intent::None
}

pub(crate) fn core(canonical: &str) -> &str {
    canonical
}
