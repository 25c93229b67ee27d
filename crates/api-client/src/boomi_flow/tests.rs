//! Unit tests of the Boomi Flow configuration (variables, defaults, redaction) and of the paging
//! rules' pure parts (envelope reading, next links, base detection, the next step).

use std::collections::HashMap;

use serde_json::json;

use super::paging::{
    BodyError, Parsed, Progress, Shape, Step, Totals, is_base_zero, next_step, proves_base_one,
    read_body, resolve_next,
};
use super::*;

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k| map.get(k).cloned()
}

const KEY: &str = "0123456789abcdef0123456789abcdef";

#[test]
fn the_variables_and_their_defaults() {
    let c = BoomiFlowConfig::from_lookup(vars(&[(ENV_BOOMI_FLOW_API_KEY, KEY)])).unwrap();
    assert_eq!(c.base_url, "https://flow.boomi.com/api");
    assert_eq!(c.api_key.expose(), KEY);
    assert_eq!(c.tenant_id, None);
    assert_eq!(
        (c.page_size, c.concurrency, c.timeout, c.max_pages),
        (500, 4, Duration::from_secs(60), 100_000)
    );
    assert_eq!(c.retry.max_retries + 1, 5, "5 attempts, like dlt");

    let c = BoomiFlowConfig::from_lookup(vars(&[
        (ENV_BOOMI_FLOW_API_URL, " http://127.0.0.1:8080/api// "),
        (ENV_BOOMI_FLOW_API_KEY, &format!(" {KEY} ")),
        (
            ENV_BOOMI_FLOW_TENANT_ID,
            "6f1ba8a4-3f0c-4d58-9d47-3b1c0d1a2b3c",
        ),
    ]))
    .unwrap();
    assert_eq!(
        c.base_url, "http://127.0.0.1:8080/api",
        "trailing slashes go"
    );
    assert_eq!(c.api_key.expose(), KEY, "surrounding blanks go");
    assert_eq!(
        c.tenant_id.as_deref(),
        Some("6f1ba8a4-3f0c-4d58-9d47-3b1c0d1a2b3c")
    );

    let c = BoomiFlowConfig::from_lookup(vars(&[
        (ENV_BOOMI_FLOW_API_URL, ""),
        (ENV_BOOMI_FLOW_API_KEY, KEY),
        (ENV_BOOMI_FLOW_TENANT_ID, "  "),
    ]))
    .unwrap();
    assert_eq!(
        (c.base_url.as_str(), c.tenant_id),
        (DEFAULT_BOOMI_FLOW_API_URL, None),
        "empty values count as unset"
    );
}

#[test]
fn a_missing_key_says_what_to_set() {
    for lookup in [vars(&[]), vars(&[(ENV_BOOMI_FLOW_API_KEY, "  ")])] {
        let e = BoomiFlowConfig::from_lookup(lookup).unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, BoomiFlowError::Config { .. }), "{e:?}");
        assert!(text.contains("BOOMI_FLOW_API_KEY"), "{text}");
        assert!(text.contains("bdi configure --flow"), "{text}");
    }
    let e = BoomiFlowConfig::new(DEFAULT_BOOMI_FLOW_API_URL, "", None).unwrap_err();
    assert!(e.to_string().contains("BOOMI_FLOW_API_KEY"), "{e}");
}

#[test]
fn bad_urls_are_refused_with_the_variable_named() {
    for url in [
        "flow.boomi.com/api",
        "ftp://x",
        "https://x/api?a=1",
        "https://",
    ] {
        let e = BoomiFlowConfig::from_lookup(vars(&[
            (ENV_BOOMI_FLOW_API_URL, url),
            (ENV_BOOMI_FLOW_API_KEY, KEY),
        ]))
        .unwrap_err();
        assert!(
            matches!(&e, BoomiFlowError::Config { message: m } if m.starts_with("BOOMI_FLOW_API_URL: ")),
            "{url}: {e:?}"
        );
    }
    assert!(
        BoomiFlowConfig::new("eu", KEY, None).is_err(),
        "no region shorthands"
    );
}

#[test]
fn debug_never_shows_the_key() {
    for key in [KEY, "k9"] {
        let c = BoomiFlowConfig::new("http://127.0.0.1:9/api", key, Some("t")).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains(key), "{shown}");
        assert!(shown.contains("***"), "{shown}");
        let client = BoomiFlowClient::new(c).unwrap();
        let shown = format!("{client:?} {client:#?}");
        assert!(!shown.contains(key), "{shown}");
    }
}

#[test]
fn the_client_refuses_what_it_cannot_send() {
    let ok = BoomiFlowConfig::new("http://127.0.0.1:9", KEY, None).unwrap();
    let cases = [
        BoomiFlowConfig {
            api_key: Secret::new("bad\nkey"),
            ..ok.clone()
        },
        BoomiFlowConfig {
            tenant_id: Some("bad\ntenant".into()),
            ..ok.clone()
        },
        ok.clone().with_page_size(0),
        ok.clone().with_concurrency(0),
        BoomiFlowConfig {
            base_url: "nope".into(),
            ..ok.clone()
        },
    ];
    for c in cases {
        let e = BoomiFlowClient::new(c).unwrap_err();
        assert!(matches!(e, BoomiFlowError::Config { .. }), "{e:?}");
        assert!(!e.to_string().contains("bad\nkey"), "{e}");
    }
    let client = BoomiFlowClient::new(BoomiFlowConfig {
        base_url: "http://127.0.0.1:9/api/".into(),
        ..ok
    })
    .unwrap();
    assert_eq!(client.config().base_url, "http://127.0.0.1:9/api");
}

#[test]
fn urls_are_built_under_the_base() {
    let client =
        BoomiFlowClient::new(BoomiFlowConfig::new("http://127.0.0.1:9/api", KEY, None).unwrap())
            .unwrap();
    let q = vec![("filter".to_owned(), "developerName eq 'x'".to_owned())];
    for path in ["draw/1/flow", "/draw/1/flow"] {
        let url = client.url_for(path, &q).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/api/draw/1/flow?filter=developerName+eq+%27x%27"
        );
        assert_eq!(
            client.relative(&url),
            "draw/1/flow?filter=developerName+eq+%27x%27"
        );
    }
}

#[test]
fn scrubbing_removes_the_key_whatever_its_length() {
    for key in [KEY, "k9", "x"] {
        let client =
            BoomiFlowClient::new(BoomiFlowConfig::new("http://127.0.0.1:9", key, None).unwrap())
                .unwrap();
        let text = format!("bad key {key}!{key}");
        assert_eq!(client.scrub(&text), "bad key ***!***", "key {key}");
    }
}

/// `read_body` of a value's JSON text.
fn read(v: Value) -> Result<Parsed, BodyError> {
    read_body(&serde_json::to_vec(&v).unwrap())
}

/// Items as values.
fn values(items: &[Box<serde_json::value::RawValue>]) -> Vec<Value> {
    items
        .iter()
        .map(|i| serde_json::from_str(i.get()).unwrap())
        .collect()
}

#[test]
fn bodies_are_read_by_shape() {
    let p = read(json!([1, 2])).unwrap();
    assert_eq!((p.shape, p.items.len()), (Shape::Bare, 2));
    let p = read(json!({"id": "x"})).unwrap();
    assert_eq!(
        (p.shape, values(&p.items)),
        (Shape::Single, vec![json!({"id": "x"})])
    );
    let p = read(Value::Null).unwrap();
    assert_eq!((p.shape, p.items.len()), (Shape::Bare, 0));

    let p = read(json!({
        "_meta": {"totalPages": 3, "TOTALCOUNT": "120"},
        "_links": {"self": "a", "next": " admin/1/users?page=2 "},
        "items": [1, 2],
    }))
    .unwrap();
    assert_eq!(p.shape, Shape::Envelope);
    assert_eq!(values(&p.items), vec![json!(1), json!(2)]);
    assert_eq!(p.next.as_deref(), Some("admin/1/users?page=2"));
    assert_eq!(
        p.totals,
        Totals {
            pages: Some(3),
            items: Some(120)
        }
    );

    let p = read(json!({"Meta": {"Total": 7.0}, "Links": {"Next": {"href": "/x"}}, "Items": [1]}))
        .unwrap();
    assert_eq!(
        (p.items.len(), p.next.as_deref(), p.totals.items),
        (1, Some("/x"), Some(7))
    );
    let p = read(
        json!({"links": [{"rel": "self", "href": "a"}, {"rel": "next", "href": "b"}], "items": []}),
    )
    .unwrap();
    assert_eq!(p.next.as_deref(), Some("b"));
    let p = read(json!({"_meta": {"pages": [1, 2], "total": -1}, "_links": {"next": ""}})).unwrap();
    assert_eq!(
        (p.shape, p.items.len(), p.next, p.totals),
        (Shape::Envelope, 0, None, Totals::default()),
        "no items, no usable link or total"
    );

    let p = read(json!({"id": 1, "links": ["a"], "meta": {"total": 9}})).unwrap();
    assert_eq!(
        (p.shape, p.items.len()),
        (Shape::Single, 1),
        "`links` and `meta` alone do not make an envelope"
    );
    assert!(read(json!({"items": {"a": 1}})).is_err());
    assert!(read(json!("text")).is_err());
    assert!(matches!(
        read_body(b"<html>busy</html>"),
        Err(BodyError::NotJson(_))
    ));
    let p = read_body(b"\xEF\xBB\xBF \n").unwrap();
    assert_eq!(
        (p.shape, p.items.len()),
        (Shape::Bare, 0),
        "a BOM and blanks"
    );
    let p = read_body(br#"{"items": [{"a": "\u00e9"}, 2], "_meta": {}}"#).unwrap();
    assert_eq!(
        p.items[0].get(),
        r#"{"a": "\u00e9"}"#,
        "an item's text as served"
    );
}

#[test]
fn next_links_resolve_under_the_base_and_never_leave_its_origin() {
    let base = Url::parse("https://flow.boomi.com/api").unwrap();
    let current =
        Url::parse("https://flow.boomi.com/api/admin/1/users?page=1&pageSize=500").unwrap();
    let check = |link: &str, want: &str| {
        assert_eq!(
            resolve_next(&base, &current, link).unwrap().as_str(),
            want,
            "link {link}"
        );
    };
    let want = "https://flow.boomi.com/api/admin/1/users?page=2";
    check("https://flow.boomi.com/api/admin/1/users?page=2", want);
    check("HTTPS://Flow.Boomi.com:443/api/admin/1/users?page=2", want);
    check("admin/1/users?page=2", want);
    check("/admin/1/users?page=2", want);
    check("/api/admin/1/users?page=2", want);
    check("//flow.boomi.com/api/admin/1/users?page=2", want);
    check(
        "?page=2&pageSize=500",
        "https://flow.boomi.com/api/admin/1/users?page=2&pageSize=500",
    );
    check("/apiary/x", "https://flow.boomi.com/api/apiary/x");

    for link in [
        "https://evil.example/api/admin/1/users?page=2",
        "http://flow.boomi.com/api/admin/1/users?page=2",
        "https://flow.boomi.com:8443/api/admin/1/users?page=2",
        "//evil.example/x",
    ] {
        let e = resolve_next(&base, &current, link).unwrap_err();
        assert!(
            e.contains("refusing to send the API key there"),
            "{link}: {e}"
        );
    }

    let root = Url::parse("http://127.0.0.1:8080").unwrap();
    assert_eq!(
        resolve_next(&root, &root, "/admin/1/users?page=2")
            .unwrap()
            .as_str(),
        "http://127.0.0.1:8080/admin/1/users?page=2"
    );
}

#[test]
fn base_detection() {
    let raw = |ids: &[u64]| -> Vec<Box<serde_json::value::RawValue>> {
        ids.iter()
            .map(|i| serde_json::value::to_raw_value(&json!({"id": i})).unwrap())
            .collect()
    };
    let a = || raw(&[1, 2]);
    let b = || raw(&[3, 4]);
    assert!(is_base_zero(&a(), &b()), "page 0 is a page of its own");
    assert!(is_base_zero(&a(), &[]), "page 1 empty, page 0 not: base 0");
    assert!(!is_base_zero(&b(), &b()), "page 0 served as page 1");
    let all: Vec<_> = a().into_iter().chain(b()).collect();
    assert!(
        !is_base_zero(&all, &b()),
        "page 0 served as the whole listing"
    );
    assert!(!is_base_zero(&[], &b()), "an empty page 0");

    let t = |pages, items| Totals { pages, items };
    assert!(proves_base_one(&a(), t(None, Some(2))));
    assert!(proves_base_one(&a(), t(Some(1), None)));
    assert!(!proves_base_one(&a(), t(Some(2), Some(4))));
    assert!(!proves_base_one(&a(), t(None, None)));
    assert!(!proves_base_one(&[], t(None, Some(0))));
}

fn progress(base: u32, count: u64, largest: usize) -> Progress {
    Progress {
        base,
        count,
        largest,
        followed_links: false,
        asked: 500,
        pages: u32::try_from(count.div_ceil(largest.max(1) as u64)).unwrap(),
    }
}

/// A page number, its item count, its next link, its totals, the progress, and the step wanted.
type Case = (u32, usize, Option<&'static str>, Totals, Progress, Step);

#[test]
fn the_next_step() {
    let none = Totals::default();
    let pages = |n| Totals {
        pages: Some(n),
        items: None,
    };
    let items = |n| Totals {
        pages: None,
        items: Some(n),
    };
    let cases: Vec<Case> = vec![
        // Rule 2: a next link wins over everything.
        (
            1,
            5,
            Some("n"),
            pages(9),
            progress(1, 5, 5),
            Step::Link("n".into()),
        ),
        (
            1,
            0,
            Some("n"),
            none,
            progress(1, 0, 0),
            Step::Link("n".into()),
        ),
        // Rule 3: a page count, 1- or 0-based.
        (
            1,
            100,
            None,
            pages(11),
            progress(1, 100, 100),
            Step::Range { first: 2, last: 11 },
        ),
        (
            1,
            100,
            None,
            pages(11),
            progress(0, 200, 100),
            Step::Range { first: 2, last: 10 },
        ),
        (11, 50, None, pages(11), progress(1, 1050, 100), Step::End),
        (1, 100, None, pages(1), progress(1, 100, 100), Step::End),
        // Rule 3: an item count, with the page size the server returned (100, not 500).
        (
            1,
            100,
            None,
            items(1050),
            progress(1, 100, 100),
            Step::Range { first: 2, last: 11 },
        ),
        (
            1,
            100,
            None,
            items(1000),
            progress(1, 100, 100),
            Step::Range { first: 2, last: 10 },
        ),
        (1, 100, None, items(100), progress(1, 100, 100), Step::End),
        // A total is not trusted to end the walk: reached on a full page (as many items as
        // asked, or as the largest page past the first), one more page is asked.
        (
            1,
            500,
            None,
            items(500),
            progress(1, 500, 500),
            Step::Page(2),
        ),
        (
            3,
            100,
            None,
            items(300),
            progress(1, 300, 100),
            Step::Page(4),
        ),
        (3, 100, None, pages(3), progress(1, 300, 100), Step::Page(4)),
        (4, 40, None, items(300), progress(1, 300, 100), Step::End),
        (
            1,
            300,
            None,
            items(1050),
            progress(0, 600, 300),
            Step::Range { first: 2, last: 3 },
        ),
        // Past the derived last page, an unreached item total goes on page by page.
        (
            11,
            90,
            None,
            Totals {
                pages: Some(11),
                items: Some(1100),
            },
            progress(1, 1040, 100),
            Step::Page(12),
        ),
        (12, 0, None, items(1100), progress(1, 1040, 100), Step::End),
        // Rule 4: no link, no total.
        (1, 100, None, none, progress(1, 100, 100), Step::Page(2)),
        (1, 30, None, none, progress(1, 30, 30), Step::Page(2)),
        (2, 100, None, none, progress(1, 200, 100), Step::Page(3)),
        (3, 99, None, none, progress(1, 299, 100), Step::End),
        (2, 0, None, none, progress(1, 30, 30), Step::End),
        (1, 0, None, none, progress(1, 0, 0), Step::End),
    ];
    for (page, len, next, totals, p, want) in cases {
        assert_eq!(
            next_step(page, len, next, totals, &p),
            want,
            "page {page}, {len} items, next {next:?}, {totals:?}, {p:?}"
        );
    }
    let after_links = Progress {
        followed_links: true,
        ..progress(1, 10, 10)
    };
    assert_eq!(
        next_step(0, 10, None, items(100), &after_links),
        Step::End,
        "after next links, a page without one is the last"
    );
}

#[tokio::test]
async fn a_redirect_to_another_origin_never_carries_the_key_or_the_tenant() {
    use crate::test_server::{Canned, serve};
    let (elsewhere, reached) = serve(vec![Canned::json(200, r#"{"items":[]}"#)]).await;
    for status in [301, 302, 307, 308] {
        let (base, recorded) = serve(vec![
            Canned::new(status, "").header("location", &format!("{elsewhere}/api/steal")),
        ])
        .await;
        let client = BoomiFlowClient::new(
            BoomiFlowConfig::new(&format!("{base}/api"), KEY, Some("tenant-1")).unwrap(),
        )
        .unwrap();
        let e = client
            .get_json("draw/1/flow", &[])
            .await
            .expect_err("not followed");
        let text = e.to_string();
        assert!(
            matches!(e, BoomiFlowError::Redirected { .. }),
            "{status}: {e:?}"
        );
        assert!(
            text.contains("another origin")
                && text.contains(&elsewhere)
                && text.contains(ENV_BOOMI_FLOW_API_URL),
            "{status}: {text}"
        );
        assert!(!text.contains(KEY), "{text}");
        assert_eq!(recorded.lock().unwrap().len(), 1, "no retry");
    }
    assert!(
        reached.lock().unwrap().is_empty(),
        "the other host got no request, so neither the key nor the tenant"
    );

    // Within the origin, a redirect is followed.
    let (base, recorded) = serve(vec![
        Canned::new(302, "").header("location", "/api/moved"),
        Canned::json(200, r#"{"items":[]}"#),
    ])
    .await;
    let client =
        BoomiFlowClient::new(BoomiFlowConfig::new(&format!("{base}/api"), KEY, None).unwrap())
            .unwrap();
    client.get_json("draw/1/flow", &[]).await.unwrap();
    assert!(recorded.lock().unwrap()[1].starts_with("GET /api/moved"));
}
