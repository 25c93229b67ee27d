//! Unit tests of the configuration precedence and the config file.

use std::collections::HashMap;

use super::*;

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k| map.get(k).cloned()
}

fn write_profiles(dir: &Path) -> PathBuf {
    let path = dir.join("config.toml");
    let mut file = ConfigFile::default();
    file.profiles.insert(
        "default".into(),
        Profile {
            api_url: Some("eu".into()),
            account_id: Some("a".repeat(24)),
            environment_id: Some("e".repeat(24)),
            token: Some("file-token-0123456789".into()),
        },
    );
    file.profiles.insert(
        "ci".into(),
        Profile {
            api_url: Some("au".into()),
            ..Profile::default()
        },
    );
    file.save(&path).unwrap();
    path
}

#[test]
fn flags_beat_variables_beat_the_profile() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_profiles(dir.path());
    let p = path.to_str().unwrap();
    let v = vars(&[("BDI_CONFIG", p), (API_URL, "il"), (ACCOUNT_ID, "")]);
    let flags = Overrides {
        environment_id: Some("f".repeat(24)),
        ..Overrides::default()
    };
    let r = resolve(&flags, None, &v).unwrap();
    assert_eq!(r.get(API_URL).as_deref(), Some("il"));
    assert_eq!(
        r.get(ACCOUNT_ID),
        Some("a".repeat(24)),
        "an empty variable counts as unset"
    );
    assert_eq!(r.get(ENVIRONMENT_ID), Some("f".repeat(24)));
    assert_eq!(r.get(API_TOKEN).as_deref(), Some("file-token-0123456789"));
    assert!(
        !format!("{r:?}").contains("file-token"),
        "Debug masks the token"
    );

    let r = resolve(&Overrides::default(), Some("ci"), &v).unwrap();
    assert_eq!(r.get(API_URL).as_deref(), Some("il"));
    assert_eq!(r.get(API_TOKEN), None);
    let r = resolve(
        &Overrides::default(),
        None,
        &vars(&[("BDI_CONFIG", p), ("BDI_PROFILE", "ci")]),
    )
    .unwrap();
    assert_eq!(r.get(API_URL).as_deref(), Some("au"));
}

#[test]
fn an_empty_flag_is_refused_not_taken_for_unset() {
    let v = vars(&[(ENVIRONMENT_ID, &"e".repeat(24))]);
    for flags in [
        Overrides {
            environment_id: Some(String::new()),
            ..Overrides::default()
        },
        Overrides {
            environment_id: Some("  ".into()),
            ..Overrides::default()
        },
    ] {
        let e = resolve(&flags, None, &v).unwrap_err();
        assert_eq!(
            e,
            "--environment-id is empty: leave the flag out to use the variable or the profile"
        );
    }
    let flags = Overrides {
        api_url: Some(String::new()),
        ..Overrides::default()
    };
    assert!(
        resolve(&flags, None, &v)
            .unwrap_err()
            .starts_with("--api-url is empty")
    );
    let flags = Overrides {
        account_id: Some(String::new()),
        ..Overrides::default()
    };
    assert!(
        resolve(&flags, None, &v)
            .unwrap_err()
            .starts_with("--account-id is empty")
    );
}

#[test]
fn a_named_profile_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_profiles(dir.path());
    let v = vars(&[("BDI_CONFIG", path.to_str().unwrap())]);
    let e = resolve(&Overrides::default(), Some("prod"), &v).unwrap_err();
    assert!(e.starts_with("profile `prod` not found in "), "{e}");
    let none = vars(&[(
        "BDI_CONFIG",
        dir.path().join("missing.toml").to_str().unwrap(),
    )]);
    assert!(
        resolve(&Overrides::default(), None, &none)
            .unwrap()
            .get(API_URL)
            .is_none()
    );
}

#[cfg(unix)]
#[test]
fn the_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bdi").join("config.toml");
    ConfigFile::default().save(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dir_mode = std::fs::metadata(path.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
}

#[test]
fn paths_and_masks() {
    assert_eq!(
        config_path(&vars(&[("HOME", "/h")])),
        Some(PathBuf::from("/h/.config/bdi/config.toml"))
    );
    assert_eq!(
        config_path(&vars(&[("HOME", "/h"), ("XDG_CONFIG_HOME", "/x")])),
        Some(PathBuf::from("/x/bdi/config.toml"))
    );
    assert_eq!(
        config_path(&vars(&[("HOME", "/h"), ("BDI_CONFIG", "/c.toml")])),
        Some(PathBuf::from("/c.toml"))
    );
    assert_eq!(config_path(&vars(&[])), None);
    assert_eq!(mask("short"), "****");
    assert_eq!(mask("abcdefghijklmnop"), "****mnop");
}
