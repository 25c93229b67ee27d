//! Unit tests of configuration: base URL resolution, regions, token prefixes, lookups, redaction.

use std::collections::HashMap;

use super::*;

const ACCOUNT: &str = "5f5b1c2d3e4f5a6b7c8d9e0f";
const ENVIRONMENT: &str = "6a6b6c6d6e6f707172737475";
const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.sig";

fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

#[test]
fn base_url_resolution() {
    let cases: &[(&str, Option<&str>)] = &[
        ("us", Some("https://api.rivery.io")),
        ("EU", Some("https://api.eu-west-1.rivery.io")),
        (" il ", Some("https://api.il-central-1.rivery.io")),
        ("Au", Some("https://api.ap-southeast-2.rivery.io")),
        ("https://api.rivery.io", Some("https://api.rivery.io")),
        ("https://api.rivery.io/", Some("https://api.rivery.io")),
        ("https://api.rivery.io///", Some("https://api.rivery.io")),
        ("http://127.0.0.1:8080/", Some("http://127.0.0.1:8080")),
        (
            "https://proxy.example.com/bdi/",
            Some("https://proxy.example.com/bdi"),
        ),
        (
            "HTTPS://api.integration.rivery.in",
            Some("HTTPS://api.integration.rivery.in"),
        ),
        ("api.rivery.io", None),
        ("ftp://api.rivery.io", None),
        ("", None),
        ("http://", None),
        ("https://api.rivery.io/?x=1", None),
        ("mars", None),
    ];
    for (input, want) in cases {
        let got = resolve_base_url(input);
        match want {
            Some(w) => assert_eq!(got.as_deref().ok(), Some(*w), "input {input:?}: {got:?}"),
            None => assert!(
                matches!(got, Err(Error::Config(_))),
                "input {input:?} should be refused, got {got:?}"
            ),
        }
    }
}

#[test]
fn regions_parse_and_print() {
    for region in Region::ALL {
        assert_eq!(region.as_str().parse::<Region>().ok(), Some(region));
        assert_eq!(
            region.as_str().to_uppercase().parse::<Region>().ok(),
            Some(region)
        );
        assert!(region.base_url().starts_with("https://api."));
        assert!(!region.base_url().ends_with('/'));
    }
    assert_eq!(Region::default(), Region::Us);
    let err = "eu-west-1".parse::<Region>().expect_err("not a shorthand");
    assert!(err.to_string().contains("us, eu, il or au"), "{err}");
}

#[test]
fn token_prefix_is_optional() {
    let cases = [
        ("abc.def", "abc.def"),
        ("Bearer abc.def", "abc.def"),
        ("bearer abc.def", "abc.def"),
        ("  BEARER   abc.def  ", "abc.def"),
        ("Bearerabc", "Bearerabc"),
        ("Bearer ", ""),
        ("", ""),
    ];
    for (raw, want) in cases {
        assert_eq!(normalize_token(raw), want, "raw {raw:?}");
    }
}

#[test]
fn from_lookup_reads_the_provider_variables() {
    let cfg = ClientConfig::from_lookup(lookup(&[
        (ENV_API_URL, "eu"),
        (ENV_API_TOKEN, &format!("Bearer {TOKEN}")),
        (ENV_ACCOUNT_ID, ACCOUNT),
        (ENV_ENVIRONMENT_ID, ENVIRONMENT),
    ]))
    .expect("complete configuration");
    assert_eq!(cfg.base_url, "https://api.eu-west-1.rivery.io");
    assert_eq!(cfg.token.expose(), TOKEN);
    assert_eq!(cfg.account_id.as_str(), ACCOUNT);
    assert_eq!(
        cfg.default_environment.as_ref().map(EnvironmentId::as_str),
        Some(ENVIRONMENT)
    );
    assert_eq!(cfg.timeout, Duration::from_secs(60));
    assert_eq!(cfg.retry, RetryPolicy::default());
    assert_eq!(cfg.user_agent, format!("bdi/{}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn from_lookup_defaults_to_us_and_no_environment() {
    let cfg = ClientConfig::from_lookup(lookup(&[
        (ENV_API_URL, "  "),
        (ENV_API_TOKEN, TOKEN),
        (ENV_ACCOUNT_ID, ACCOUNT),
    ]))
    .expect("url and environment are optional");
    assert_eq!(cfg.base_url, "https://api.rivery.io");
    assert!(cfg.default_environment.is_none());
}

#[test]
fn from_lookup_reports_what_is_missing_or_wrong() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[(ENV_ACCOUNT_ID, ACCOUNT)], ENV_API_TOKEN),
        (
            &[(ENV_API_TOKEN, "Bearer  "), (ENV_ACCOUNT_ID, ACCOUNT)],
            ENV_API_TOKEN,
        ),
        (&[(ENV_API_TOKEN, TOKEN)], ENV_ACCOUNT_ID),
        (
            &[(ENV_API_TOKEN, TOKEN), (ENV_ACCOUNT_ID, "42")],
            ENV_ACCOUNT_ID,
        ),
        (
            &[
                (ENV_API_TOKEN, TOKEN),
                (ENV_ACCOUNT_ID, ACCOUNT),
                (ENV_ENVIRONMENT_ID, "prod"),
            ],
            ENV_ENVIRONMENT_ID,
        ),
        (
            &[
                (ENV_API_TOKEN, TOKEN),
                (ENV_ACCOUNT_ID, ACCOUNT),
                (ENV_API_URL, "api.rivery.io"),
            ],
            ENV_API_URL,
        ),
    ];
    for (pairs, variable) in cases {
        let err = ClientConfig::from_lookup(lookup(pairs)).expect_err("incomplete configuration");
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(variable), "{text} should name {variable}");
        assert!(!text.contains(TOKEN), "{text} leaks the token");
    }
}

#[test]
fn new_validates_and_strips_the_prefix() {
    let account = AccountId::parse(ACCOUNT).expect("valid id");
    let cfg = ClientConfig::new(
        "https://api.rivery.io/",
        &format!("Bearer {TOKEN}"),
        account.clone(),
    )
    .expect("valid");
    assert_eq!(cfg.base_url, "https://api.rivery.io");
    assert_eq!(cfg.token.expose(), TOKEN);
    assert!(matches!(
        ClientConfig::new("us", "  ", account),
        Err(Error::Config(_))
    ));
}

#[test]
fn the_token_never_shows_in_debug_or_display() {
    let cfg =
        ClientConfig::from_lookup(lookup(&[(ENV_API_TOKEN, TOKEN), (ENV_ACCOUNT_ID, ACCOUNT)]))
            .expect("valid");
    let debug = format!("{cfg:?}");
    let pretty = format!("{cfg:#?}");
    assert!(
        !debug.contains(TOKEN) && !pretty.contains(TOKEN),
        "{pretty}"
    );
    assert!(debug.contains("***"), "{debug}");
    assert_eq!(format!("{}", cfg.token), "***");
    assert_eq!(format!("{:?}", cfg.token), "***");
}
