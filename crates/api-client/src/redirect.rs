//! Redirects: followed only within the origin a client was configured with, at most
//! [`MAX_REDIRECTS`] in a row. reqwest's default follows ten to any host and strips only
//! `Authorization` and cookies, so a redirect elsewhere would carry the Boomi Flow key
//! (`x-boomi-flow-api-key`), the tenant, and a write's body; a redirect to another origin is
//! refused instead, with an error that names where it pointed.

use reqwest::redirect::{Attempt, Policy};

/// Redirects followed in a row within the origin.
pub(crate) const MAX_REDIRECTS: usize = 5;

/// A redirect that was not followed.
#[derive(Debug)]
pub(crate) enum Refused {
    /// It pointed to another origin.
    CrossOrigin {
        /// The origin it pointed to (scheme, host and port: never a path or query).
        to: String,
    },
    /// More than [`MAX_REDIRECTS`] in a row.
    TooMany,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::CrossOrigin { to } => write!(f, "a redirect to another origin ({to})"),
            Self::TooMany => write!(f, "more than {MAX_REDIRECTS} redirects in a row"),
        }
    }
}

impl std::error::Error for Refused {}

/// The policy of every client of this crate.
pub(crate) fn policy() -> Policy {
    Policy::custom(decide)
}

fn decide(attempt: Attempt<'_>) -> reqwest::redirect::Action {
    let Some(first) = attempt.previous().first() else {
        return attempt.follow();
    };
    if attempt.url().origin() != first.origin() {
        let to = attempt.url().origin().ascii_serialization();
        return attempt.error(Refused::CrossOrigin { to });
    }
    if attempt.previous().len() > MAX_REDIRECTS {
        return attempt.error(Refused::TooMany);
    }
    attempt.follow()
}

/// The refused redirect behind a request error, if that is what it is.
pub(crate) fn refused(e: &reqwest::Error) -> Option<&Refused> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<Refused>() {
            return Some(r);
        }
        source = s.source();
    }
    None
}
