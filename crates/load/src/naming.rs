//! dlt's `snake_case` naming convention, so that tables and columns get the names SQL written
//! against a dlt dataset expects: `developerName` → `developer_name`, `HTTPStatus` →
//! `http_status`, `x-y` → `x_y`, `1st` → `_1st`, `name_` → `namex`; nested paths join with `__`.
//!
//! The rules, in dlt's order: reduce `+-*@|` to `x_xal`; every other run of characters that are
//! not ASCII letters, digits or `_` becomes `_`; break camel case (`([^_])([A-Z][a-z]+)` then
//! `([a-z0-9])([A-Z])`) and lower-case; prefix a leading digit with `_`; each trailing `_` becomes
//! `x`; runs of `_` collapse to one (so that `__` stays the path separator).

use std::sync::LazyLock;

use regex::Regex;

/// Joins the parts of a nested path (`who_created` and `email` → `who_created__email`).
pub const PATH_SEPARATOR: &str = "__";

static NON_ALPHANUMERIC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[^a-zA-Z\d_]+").expect("a valid pattern"));
static BREAK_1: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([^_])([A-Z][a-z]+)").expect("a valid pattern"));
static BREAK_2: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([a-z0-9])([A-Z])").expect("a valid pattern"));
static UNDERSCORES: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"__+").expect("a valid pattern"));

/// The snake_case form of one identifier (a field name, a resource name).
pub fn normalize_identifier(identifier: &str) -> String {
    let trimmed = identifier.trim();
    // A fast path for names that are already snake_case (most of a dataset's repeated keys).
    if !trimmed.is_empty()
        && trimmed
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !trimmed.as_bytes()[0].is_ascii_digit()
        && !trimmed.ends_with('_')
        && !trimmed.contains(PATH_SEPARATOR)
    {
        return trimmed.to_owned();
    }
    let reduced: String = trimmed
        .chars()
        .map(|c| match c {
            '+' | '*' => 'x',
            '-' => '_',
            '@' => 'a',
            '|' => 'l',
            c => c,
        })
        .collect();
    let alnum = NON_ALPHANUMERIC.replace_all(&reduced, "_");
    let broken = BREAK_1.replace_all(&alnum, "${1}_${2}");
    let mut snake = BREAK_2.replace_all(&broken, "${1}_${2}").to_lowercase();
    if snake.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        snake.insert(0, '_');
    }
    let stripped = snake.trim_end_matches('_');
    let trailing = snake.len() - stripped.len();
    let mut out = String::with_capacity(snake.len());
    out.push_str(stripped);
    out.extend(std::iter::repeat_n('x', trailing));
    UNDERSCORES.replace_all(&out, "_").into_owned()
}

/// A nested name: the parent's (already normalized) path and a child identifier.
pub fn join_path(parent: &str, child: &str) -> String {
    let child = normalize_identifier(child);
    if parent.is_empty() {
        child
    } else {
        format!("{parent}{PATH_SEPARATOR}{child}")
    }
}

/// `name` cut to `max` bytes as dlt shortens identifiers for a destination's limit: the head and
/// the tail of the name around a tag computed from the whole name, so that the same long name
/// always gives the same short one and two long names that share a head and a tail still differ.
/// A name within `max` is returned as it is. Names are ASCII here (normalized identifiers).
pub fn shorten(name: &str, max: usize) -> String {
    use sha2::Digest as _;
    if name.len() <= max || !name.is_ascii() {
        return name.to_owned();
    }
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let digest = sha2::Sha256::digest(name.as_bytes());
    // 40 bits of the digest as 8 base-32 letters.
    let bits = digest[..5]
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let tag: String = (0..8)
        .rev()
        .map(|i| char::from(ALPHABET[((bits >> (i * 5)) & 31) as usize]))
        .collect();
    let left = max.saturating_sub(tag.len());
    let head = left.div_ceil(2);
    let tail = left / 2;
    format!("{}{tag}{}", &name[..head], &name[name.len() - tail..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_shortened_the_same_way_every_time() {
        let long = format!("audit_search__{}", "deeply__nested__".repeat(6));
        let short = shorten(&long, 63);
        assert_eq!(short.len(), 63);
        assert_eq!(short, shorten(&long, 63), "stable");
        assert!(short.starts_with("audit_search__deeply"), "{short}");
        assert!(short.ends_with(&long[long.len() - 27..]), "{short}");
        let other = format!("{long}x");
        assert_ne!(shorten(&other, 63), short, "another name, another tag");
        assert_eq!(shorten("short", 63), "short");
    }

    #[test]
    fn names_follow_dlt_snake_case() {
        for (input, want) in [
            ("developerName", "developer_name"),
            ("id", "id"),
            ("versionId", "version_id"),
            ("HTTPStatus", "http_status"),
            ("isSSO", "is_sso"),
            ("x-boomi-flow", "x_boomi_flow"),
            ("1st", "_1st"),
            ("name_", "namex"),
            ("name__", "namexx"),
            ("_meta", "_meta"),
            ("a  b", "a_b"),
            ("a__b", "a_b"),
            ("price+tax", "pricextax"),
            ("user@host", "userahost"),
            ("ÜberName", "_ber_name"),
            ("stateEntries", "state_entries"),
            ("mapElements", "map_elements"),
            ("lastPingAt", "last_ping_at"),
            ("ABC", "abc"),
            ("getHTTPResponseCode", "get_http_response_code"),
            ("occurredAt", "occurred_at"),
            (" padded ", "padded"),
        ] {
            assert_eq!(normalize_identifier(input), want, "{input}");
        }
    }

    #[test]
    fn paths_join_with_a_double_underscore() {
        assert_eq!(join_path("", "whoCreated"), "who_created");
        assert_eq!(join_path("who_created", "email"), "who_created__email");
        assert_eq!(join_path("flows", "tags"), "flows__tags");
    }
}
