//! Domain errors turned into tool errors: what went wrong, then what to call next.
//!
//! Tool failures are results with `isError: true` (the model reads them); JSON-RPC errors are kept
//! for protocol faults, which rmcp produces itself.

use bdi_domain::Error;

/// The text of a failed tool call: the error, then a `hint:` line with the next step.
pub fn tool_error(err: &Error) -> String {
    let mut text = format!("error: {err}");
    if let Error::Validation { detail, .. } = err
        && detail.len() > 1
    {
        text.push_str("\nproblems:");
        for d in detail {
            text.push_str(&format!("\n- {d}"));
        }
    }
    if let Some(hint) = err.hint() {
        text.push_str("\nhint: ");
        text.push_str(&hint);
    }
    text
}

/// Shorthand for handlers: maps a domain error into the tool error text.
pub trait OrToolError<T> {
    /// Converts the error.
    fn or_tool_error(self) -> Result<T, String>;
}

impl<T> OrToolError<T> for Result<T, Error> {
    fn or_tool_error(self) -> Result<T, String> {
        self.map_err(|e| tool_error(&e))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bdi_domain::{StateConflict, ValidationDetail};
    use serde_json::json;

    use super::*;

    #[test]
    fn errors_say_what_to_do_next() {
        let e = Error::State {
            conflict: StateConflict::ActiveFlow,
            message: "cannot delete an active data flow".into(),
        };
        insta::assert_snapshot!(tool_error(&e), @r"
        error: cannot delete an active data flow
        hint: disable the data flow first (disable_data_flow), then retry
        ");
        let e = Error::RateLimited {
            retry_after: Some(Duration::from_secs(41)),
            message: "data flow x was run twice in the last minute".into(),
        };
        insta::assert_snapshot!(tool_error(&e), @r"
        error: rate limited: data flow x was run twice in the last minute
        hint: wait 41 s before trying again
        ");
        let d = |loc: &str, kind: &str| ValidationDetail {
            loc: vec![json!("body"), json!(loc)],
            msg: "Extra inputs are not permitted".into(),
            kind: kind.into(),
        };
        let e = Error::Validation {
            status: 422,
            message: String::new(),
            detail: vec![d("title", "extra_forbidden"), d("id", "extra_forbidden")],
        };
        insta::assert_snapshot!(tool_error(&e), @r"
        error: request rejected (422): body.title: Extra inputs are not permitted (extra_forbidden); body.id: Extra inputs are not permitted (extra_forbidden)
        problems:
        - body.title: Extra inputs are not permitted (extra_forbidden)
        - body.id: Extra inputs are not permitted (extra_forbidden)
        hint: remove the fields the API does not accept (server-managed fields such as cross_id, account_id, group_name; a top-level description belongs in metadata.description)
        ");
    }
}
