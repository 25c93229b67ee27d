//! The size limits of tool arguments, checked on the raw JSON of every call before it is parsed,
//! so an oversized argument is refused before any upstream request and never echoed back whole.
//!
//! Limits go by the argument's name and JSON type, whatever the tool: ids (`*_id`) have fixed
//! shapes, text (names, filters, times, enums) is short, a description is longer, and structured
//! arguments (a data flow or connection body, a patch, a table list, variables) are bounded as
//! compact JSON. `docs/mcp-tools.md` lists them (generated from these constants).

use std::io;

use bdi_domain::Error;
use serde_json::{Map, Value};

/// Longest id argument (`data_flow_id`, `run_id`, ...), in characters: ids are 24 or 32
/// hexadecimal characters, with some room for surrounding whitespace.
pub const MAX_ID_CHARS: usize = 64;
/// Longest text argument, in characters: names, name filters, times, statuses.
pub const MAX_TEXT_CHARS: usize = 1_000;
/// Longest `description`, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
/// Largest structured argument (object or array), as compact JSON, in bytes (1 MiB).
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;
/// Largest set of arguments of one call, as compact JSON, in bytes (2 MiB).
pub const MAX_ARGUMENTS_BYTES: usize = 2 << 20;

/// The limits as documentation lines (for `docs/mcp-tools.md`).
pub fn describe() -> Vec<String> {
    vec![
        format!(
            "ids (`*_id`): at most {MAX_ID_CHARS} characters (they are 24 or 32 hexadecimal characters)"
        ),
        format!("text (names, name filters, times, statuses): at most {MAX_TEXT_CHARS} characters"),
        format!("`description`: at most {MAX_DESCRIPTION_CHARS} characters"),
        format!(
            "objects and lists (`body`, `patch`, `target_settings`, `table_names`, `variables`): at most {} as compact JSON",
            bytes(MAX_DOCUMENT_BYTES)
        ),
        format!(
            "all the arguments of one call: at most {} as compact JSON",
            bytes(MAX_ARGUMENTS_BYTES)
        ),
    ]
}

fn bytes(n: usize) -> String {
    if n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// Checks every argument against its limit; the error is the first argument over its limit.
pub fn check(arguments: Option<&Map<String, Value>>) -> Result<(), Error> {
    let Some(arguments) = arguments else {
        return Ok(());
    };
    for (name, value) in arguments {
        check_one(name, value)?;
    }
    let total = json_len(arguments);
    if total > MAX_ARGUMENTS_BYTES {
        return Err(Error::invalid(
            "arguments",
            format!(
                "too large: {total} bytes of JSON where at most {MAX_ARGUMENTS_BYTES} are accepted"
            ),
        ));
    }
    Ok(())
}

fn check_one(name: &str, value: &Value) -> Result<(), Error> {
    match value {
        Value::String(s) => {
            let (limit, what) = if name.ends_with("_id") {
                (MAX_ID_CHARS, " (ids are 24 or 32 hexadecimal characters)")
            } else if name == "description" {
                (MAX_DESCRIPTION_CHARS, "")
            } else {
                (MAX_TEXT_CHARS, "")
            };
            // Bytes bound characters from above: count only when it can matter.
            if s.len() > limit {
                let chars = s.chars().count();
                if chars > limit {
                    return Err(Error::invalid(
                        name,
                        format!(
                            "too long: {chars} characters where at most {limit} are accepted{what}"
                        ),
                    ));
                }
            }
            Ok(())
        }
        Value::Array(_) | Value::Object(_) => {
            let len = json_len(value);
            if len > MAX_DOCUMENT_BYTES {
                return Err(Error::invalid(
                    name,
                    format!(
                        "too large: {len} bytes of JSON where at most {MAX_DOCUMENT_BYTES} are accepted"
                    ),
                ));
            }
            Ok(())
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

/// The length of a value as compact JSON, counted without building the text.
fn json_len(value: &impl serde::Serialize) -> usize {
    struct Count(usize);
    impl io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing a `Value` into a sink that never fails cannot fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

#[cfg(test)]
mod tests;
