//! Unit tests of the keys file: parsing, validation, lookup and `keys new`.

use super::*;

const ENV: &str = "65f0c0ffee0000000000beef";

fn file_with(key: &str, name: &str) -> String {
    format!(
        "[[keys]]\nname = \"{name}\"\nsha256 = \"{}\"\nscopes = [\"river:write\", \"data flow:list\"]\nenvironments = [\"{ENV}\"]\n",
        digest_hex(key)
    )
}

#[test]
fn a_key_is_found_by_its_digest_and_keeps_its_grants() {
    let store = KeyStore::from_toml(&file_with("secret-1", "etl")).unwrap();
    assert_eq!(store.len(), 1);
    let key = store.authenticate("secret-1").expect("the key matches");
    assert_eq!(key.name(), "etl");
    assert!(key.has_scope(Scope::DataFlowWrite));
    assert!(key.has_scope(Scope::DataFlowList));
    assert!(!key.has_scope(Scope::DataFlowExecute));
    assert!(key.allows_environment(&EnvironmentId::parse(ENV).unwrap()));
    assert!(!key.allows_environment(&EnvironmentId::parse("65f0c0ffee0000000000aaaa").unwrap()));
    assert!(store.authenticate("secret-2").is_none());
    assert!(store.authenticate("").is_none());
}

#[test]
fn debug_output_shows_no_digest() {
    let store = KeyStore::from_toml(&file_with("secret-1", "etl")).unwrap();
    let shown = format!("{store:?}");
    assert!(!shown.contains(&digest_hex("secret-1")), "{shown}");
    assert!(shown.contains("etl"), "{shown}");
}

#[test]
fn invalid_files_are_refused_with_the_reason() {
    let cases = [
        (
            "[[keys]]\nname = \"a\"\nsha256 = \"abc\"\nscopes = []\n",
            "64 hexadecimal",
        ),
        (
            &format!(
                "[[keys]]\nname = \"a\"\nsha256 = \"{}\"\nscopes = [\"fly:list\"]\n",
                digest_hex("k")
            ),
            "unknown scope `fly:list`",
        ),
        (
            &format!("{}\n{}", file_with("k1", "same"), file_with("k2", "same")),
            "two keys are named `same`",
        ),
        (
            &format!("{}\n{}", file_with("k1", "a"), file_with("k1", "b")),
            "repeats another key's digest",
        ),
        (
            &format!(
                "[[keys]]\nname = \"a\"\nsha256 = \"{}\"\nscopes = []\nenvironments = [\"x\"]\n",
                digest_hex("k")
            ),
            "not a valid environment id",
        ),
        ("[[keys]]\nname = \"a\"\nkey = \"in-clear\"\n", "not valid"),
    ];
    for (text, want) in cases {
        let err = format!("{:#}", KeyStore::from_toml(text).unwrap_err());
        assert!(err.contains(want), "{err} should contain {want}");
    }
}

#[test]
fn generated_keys_are_random_and_prefixed() {
    let (a, b) = (generate_key(), generate_key());
    assert_ne!(a, b);
    assert!(a.starts_with(KEY_PREFIX));
    assert_eq!(a.len(), KEY_PREFIX.len() + 64);
}

#[test]
fn add_key_appends_a_digest_and_never_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.toml");
    let first = add_key(
        &path,
        &NewKey {
            name: "etl".into(),
            scopes: vec![Scope::DataFlowList],
            environments: vec![],
        },
    )
    .unwrap();
    let second = add_key(
        &path,
        &NewKey {
            name: "ops".into(),
            scopes: vec![Scope::DataFlowExecute, Scope::ActivityList],
            environments: vec![EnvironmentId::parse(ENV).unwrap()],
        },
    )
    .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(&first) && !text.contains(&second), "{text}");
    let store = KeyStore::load(&path).unwrap();
    assert_eq!(store.len(), 2);
    assert_eq!(store.authenticate(&first).unwrap().name(), "etl");
    let ops = store.authenticate(&second).unwrap();
    assert!(ops.has_scope(Scope::ActivityList));
    assert!(ops.environments().is_some());

    let dup = add_key(
        &path,
        &NewKey {
            name: "etl".into(),
            scopes: vec![Scope::DataFlowList],
            environments: vec![],
        },
    )
    .unwrap_err();
    assert!(
        format!("{dup:#}").contains("two keys are named `etl`"),
        "{dup:#}"
    );
    assert_eq!(
        KeyStore::load(&path).unwrap().len(),
        2,
        "a refused key is not written"
    );
}
