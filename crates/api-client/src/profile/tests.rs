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
            flow_api_url: Some("http://flow.local/api".into()),
            flow_api_key: Some("flow-key-0123456789abcdef".into()),
            flow_tenant_id: Some("tenant-from-file".into()),
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
            e.message(),
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
            .message()
            .starts_with("--api-url is empty")
    );
    let flags = Overrides {
        account_id: Some(String::new()),
        ..Overrides::default()
    };
    assert!(
        resolve(&flags, None, &v)
            .unwrap_err()
            .message()
            .starts_with("--account-id is empty")
    );
}

#[test]
fn a_named_profile_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_profiles(dir.path());
    let v = vars(&[("BDI_CONFIG", path.to_str().unwrap())]);
    let e = resolve(&Overrides::default(), Some("prod"), &v).unwrap_err();
    assert!(
        e.message().starts_with("profile `prod` not found in "),
        "{e}"
    );
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

#[test]
fn flow_values_take_the_same_precedence() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_profiles(dir.path());
    let p = path.to_str().unwrap();

    let r = resolve(&Overrides::default(), None, &vars(&[("BDI_CONFIG", p)])).unwrap();
    assert_eq!(
        r.get(BOOMI_FLOW_API_URL).as_deref(),
        Some("http://flow.local/api")
    );
    assert_eq!(
        r.get(BOOMI_FLOW_API_KEY).as_deref(),
        Some("flow-key-0123456789abcdef")
    );
    assert_eq!(
        r.get(BOOMI_FLOW_TENANT_ID).as_deref(),
        Some("tenant-from-file")
    );
    let shown = format!("{r:?}");
    assert!(
        !shown.contains("flow-key-0123"),
        "Debug masks the key: {shown}"
    );
    assert!(shown.contains("****cdef"), "{shown}");

    let v = vars(&[
        ("BDI_CONFIG", p),
        (BOOMI_FLOW_API_URL, "http://env.local/api"),
        (BOOMI_FLOW_API_KEY, "env-key"),
        (BOOMI_FLOW_TENANT_ID, ""),
    ]);
    let r = resolve(&Overrides::default(), None, &v).unwrap();
    assert_eq!(
        r.get(BOOMI_FLOW_API_URL).as_deref(),
        Some("http://env.local/api")
    );
    assert_eq!(r.get(BOOMI_FLOW_API_KEY).as_deref(), Some("env-key"));
    assert_eq!(
        r.get(BOOMI_FLOW_TENANT_ID).as_deref(),
        Some("tenant-from-file"),
        "an empty variable counts as unset"
    );

    let flags = BoomiFlowOverrides {
        api_url: Some("http://flag.local/api".into()),
        tenant_id: Some("tenant-from-flag".into()),
    };
    let r = resolve_with_boomi_flow(&Overrides::default(), &flags, None, &v).unwrap();
    assert_eq!(
        r.get(BOOMI_FLOW_API_URL).as_deref(),
        Some("http://flag.local/api")
    );
    assert_eq!(
        r.get(BOOMI_FLOW_TENANT_ID).as_deref(),
        Some("tenant-from-flag")
    );
    assert_eq!(r.get(BOOMI_FLOW_API_KEY).as_deref(), Some("env-key"));

    let config = crate::BoomiFlowConfig::from_lookup(|name| r.get(name)).unwrap();
    assert_eq!(config.base_url, "http://flag.local/api");
    assert_eq!(config.tenant_id.as_deref(), Some("tenant-from-flag"));

    let r = resolve(
        &Overrides::default(),
        Some("ci"),
        &vars(&[("BDI_CONFIG", p)]),
    )
    .unwrap();
    assert_eq!(
        r.get(BOOMI_FLOW_API_KEY),
        None,
        "a profile without Boomi Flow values gives none"
    );
}

#[test]
fn flow_values_round_trip_and_older_files_still_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_profiles(dir.path());
    let file = ConfigFile::load(&path).unwrap();
    let p = &file.profiles["default"];
    assert_eq!(p.flow_tenant_id.as_deref(), Some("tenant-from-file"));
    let shown = format!("{p:?}");
    assert!(!shown.contains("flow-key-0123"), "{shown}");
    assert!(
        !std::fs::read_to_string(&path)
            .unwrap()
            .contains("flow_api_url = \"\""),
        "absent values are not written"
    );

    let old = dir.path().join("old.toml");
    std::fs::write(&old, "[profiles.default]\napi_url = \"eu\"\n").unwrap();
    let file = ConfigFile::load(&old).unwrap();
    assert_eq!(file.profiles["default"].flow_api_key, None);
    let text = toml::to_string(&file).unwrap();
    assert!(!text.contains("flow_"), "{text}");
}
