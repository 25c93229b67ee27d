//! The OData-like `filter` parameter of the flow lists: `field op literal` conditions joined by
//! `and`, with `eq` and `ne`, string literals in single quotes (`''` escapes a quote), `true`,
//! `false`, `null` and numbers, and dotted fields (`id.id`). Field names match case-insensitively.
//! Anything else is refused, so a client never mistakes an ignored filter for an applied one.

use serde_json::Value;

/// A parsed filter: every condition must hold.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Filter {
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq)]
struct Condition {
    path: Vec<String>,
    negate: bool,
    literal: Value,
}

impl Filter {
    /// Parses a filter; an empty one matches everything.
    pub(crate) fn parse(raw: &str) -> Result<Filter, String> {
        let mut conditions = Vec::new();
        let mut rest = raw.trim();
        if rest.is_empty() {
            return Ok(Filter { conditions });
        }
        loop {
            let (condition, after) = condition(rest)?;
            conditions.push(condition);
            let after = after.trim_start();
            if after.is_empty() {
                break;
            }
            let Some(next) = strip_keyword(after, "and") else {
                return Err(format!("unsupported filter: expected `and` at `{after}`"));
            };
            rest = next.trim_start();
        }
        Ok(Filter { conditions })
    }

    /// Whether a record satisfies every condition.
    pub(crate) fn matches(&self, record: &Value) -> bool {
        self.conditions.iter().all(|c| {
            let value = c.path.iter().try_fold(record, |v, key| {
                v.as_object().and_then(|m| {
                    m.get(key).or_else(|| {
                        m.iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(key))
                            .map(|(_, v)| v)
                    })
                })
            });
            let equal = match (value.unwrap_or(&Value::Null), &c.literal) {
                (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
                (a, b) => a == b,
            };
            equal != c.negate
        })
    }
}

/// `keyword` followed by whitespace, case-insensitively.
fn strip_keyword<'a>(s: &'a str, keyword: &str) -> Option<&'a str> {
    let head = s.get(..keyword.len())?;
    let tail = &s[keyword.len()..];
    (head.eq_ignore_ascii_case(keyword) && tail.starts_with(char::is_whitespace)).then_some(tail)
}

fn condition(s: &str) -> Result<(Condition, &str), String> {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(s.len());
    let field = &s[..end];
    if field.is_empty() || field.starts_with('.') || field.ends_with('.') {
        return Err(format!(
            "unsupported filter: expected a field name at `{s}`"
        ));
    }
    let rest = s[end..].trim_start();
    let (negate, rest) = if let Some(r) = strip_keyword(rest, "eq") {
        (false, r)
    } else if let Some(r) = strip_keyword(rest, "ne") {
        (true, r)
    } else {
        return Err(format!(
            "unsupported filter: only `eq` and `ne` are supported, at `{rest}`"
        ));
    };
    let (literal, rest) = literal(rest.trim_start())?;
    Ok((
        Condition {
            path: field.split('.').map(str::to_owned).collect(),
            negate,
            literal,
        },
        rest,
    ))
}

fn literal(s: &str) -> Result<(Value, &str), String> {
    if let Some(body) = s.strip_prefix('\'') {
        let mut out = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            if c == '\'' {
                if body[i + 1..].starts_with('\'') {
                    out.push('\'');
                    chars.next();
                } else {
                    return Ok((Value::String(out), &body[i + 1..]));
                }
            } else {
                out.push(c);
            }
        }
        return Err("unsupported filter: unterminated string literal".to_owned());
    }
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    let (word, rest) = s.split_at(end);
    let value = match word.to_ascii_lowercase().as_str() {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Null,
        _ => match word.parse::<serde_json::Number>() {
            Ok(n) => Value::Number(n),
            Err(_) => {
                return Err(format!(
                    "unsupported filter: expected a literal ('text', true, false, null or a number) at `{s}`"
                ));
            }
        },
    };
    Ok((value, rest))
}
