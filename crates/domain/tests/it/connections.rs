//! Connection sweeps, connection updates that protect stored secrets, and variables.

use bdi_domain::models::{Connection, Page};
use bdi_domain::{ConnectionId, Env, Error, MockBackend};
use serde_json::{Value, json};

use crate::support::*;

fn conn(i: u32) -> Connection {
    serde_json::from_value(
        json!({"cross_id": format!("{i:024x}"), "connection_name": format!("c{i}")}),
    )
    .expect("conn")
}

/// Page `p` of `total` connections, `per` per page.
fn page(p: u32, per: u32, total: u32) -> Page<Connection> {
    let first = (p - 1) * per;
    let items: Vec<Connection> = (first..total.min(first + per)).map(conn).collect();
    let mut page = Page::single(items);
    page.page = p;
    page.total_items = u64::from(total);
    page.next_page = (first + per < total).then(|| format!("?page={}", p + 1));
    page
}

fn names(sweep: &[Connection]) -> Vec<String> {
    sweep.iter().map(|c| c.connection_name.clone()).collect()
}

#[tokio::test(start_paused = true)]
async fn the_sweep_reads_every_page_in_order_and_reports_failed_pages() {
    let mut mock = MockBackend::new();
    mock.expect_list_connections().times(5).returning(|_, q| {
        assert_eq!(q.items_per_page, 2);
        match q.page {
            3 => Err(Error::Upstream {
                status: 500,
                body: "boom".into(),
            }),
            p => Ok(page(p, 2, 9)),
        }
    });
    let sweep = service(mock)
        .list_all_connections(&Env::Default, 2)
        .await
        .expect("swept");
    assert_eq!(sweep.pages, 5);
    assert_eq!(sweep.total_items, 9);
    assert_eq!(sweep.incomplete_pages, vec![3]);
    assert_eq!(
        names(&sweep.items),
        ["c0", "c1", "c2", "c3", "c6", "c7", "c8"]
    );
}

#[tokio::test(start_paused = true)]
async fn the_sweep_fails_on_authorization_errors() {
    let cases = [
        Error::Forbidden {
            message: "scope".into(),
        },
        Error::Unauthorized {
            message: "expired".into(),
        },
    ];
    for e in cases {
        let code = e.code();
        let mut mock = MockBackend::new();
        let err = std::sync::Mutex::new(Some(e));
        mock.expect_list_connections()
            .returning(move |_, q| match q.page {
                2 => Err(err.lock().expect("lock").take().expect("once")),
                p => Ok(page(p, 10, 30)),
            });
        let got = service(mock)
            .list_all_connections(&Env::Default, 10)
            .await
            .expect_err("fails");
        assert_eq!(got.code(), code);
    }
}

#[tokio::test(start_paused = true)]
async fn the_sweep_handles_one_page_a_missing_total_and_fails_at_the_page_cap() {
    // One page.
    let mut mock = MockBackend::new();
    mock.expect_list_connections()
        .times(1)
        .returning(|_, q| Ok(page(q.page, 100, 3)));
    let sweep = service(mock)
        .list_all_connections(&Env::Default, 100)
        .await
        .expect("swept");
    assert_eq!(
        (sweep.pages, sweep.total_items, sweep.items.len()),
        (1, 3, 3)
    );

    // No total: follow next_page.
    let mut mock = MockBackend::new();
    mock.expect_list_connections().times(3).returning(|_, q| {
        let mut p = page(q.page, 2, 5);
        p.total_items = 0;
        Ok(p)
    });
    let sweep = service(mock)
        .list_all_connections(&Env::Default, 2)
        .await
        .expect("swept");
    assert_eq!(
        (sweep.pages, sweep.total_items, sweep.items.len()),
        (3, 5, 5)
    );

    // A total beyond the cap of 100 pages is an error before any other page, not the first
    // 100 pages passed off as the whole list.
    let mut mock = MockBackend::new();
    mock.expect_list_connections()
        .times(1)
        .returning(|_, q| Ok(page(q.page, 1, 1000)));
    let err = service(mock)
        .list_all_connections(&Env::Default, 1)
        .await
        .expect_err("too long");
    assert!(matches!(err, Error::PagingCap { pages: 100 }), "{err:?}");

    // No total and no end: an error at the cap.
    let mut mock = MockBackend::new();
    mock.expect_list_connections().times(100).returning(|_, q| {
        let mut p = page(q.page, 1, u32::MAX);
        p.total_items = 0;
        Ok(p)
    });
    let err = service(mock)
        .list_all_connections(&Env::Default, 1)
        .await
        .expect_err("endless");
    assert!(matches!(err, Error::PagingCap { pages: 100 }), "{err:?}");
}

fn stored_connection() -> Connection {
    serde_json::from_value(json!({
        "cross_id": CONN, "_id": CONN, "account_id": "a", "environment_id": "e",
        "connection_name": "warehouse db", "connection_type": "MySQL", "connection_type_id": "mysql",
        "host": "db.internal", "port": 3306, "username": "etl",
        "password_exists": true, "account_key_exists": false
    }))
    .expect("connection")
}

#[tokio::test(start_paused = true)]
async fn an_update_without_credentials_would_erase_them_and_is_refused() {
    let mut mock = MockBackend::new();
    mock.expect_get_connection()
        .times(1)
        .returning(|_, _| Ok(stored_connection()));
    mock.expect_update_connection().never();
    let err = service(mock)
        .update_connection(
            &Env::Default,
            &conn_id(),
            &json!({"host": "db2.internal"}),
            false,
        )
        .await
        .expect_err("refused");
    let Error::InvalidInput { message, .. } = err else {
        panic!("{err:?}")
    };
    assert!(message.contains("stores secrets (password)"), "{message}");
    assert!(
        message.contains("include the credentials again"),
        "{message}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_update_with_credentials_or_an_explicit_reset_is_merged_and_saved() {
    let cases = [
        (json!({"host": "db2.internal", "password": "s3cret"}), false),
        (json!({"ssh": {"ssh_private_key": "-----BEGIN"}}), false),
        (json!({"host": "db2.internal"}), true),
    ];
    for (patch, reset) in cases {
        let mut mock = MockBackend::new();
        mock.expect_get_connection()
            .times(1)
            .returning(|_, _| Ok(stored_connection()));
        let expected = patch.clone();
        mock.expect_update_connection()
            .withf(move |_, id, body| {
                let b = Value::Object(body.clone());
                id.as_str() == CONN
                    && b.get("cross_id").is_none()
                    && b.get("_id").is_none()
                    && b.get("account_id").is_none()
                    && b.get("password_exists").is_none()
                    && b["connection_type"] == "mysql"
                    && b["username"] == "etl"
                    && expected
                        .as_object()
                        .expect("object")
                        .iter()
                        .all(|(k, v)| &b[k] == v)
            })
            .times(1)
            .returning(|_, _, _| Ok(stored_connection()));
        service(mock)
            .update_connection(&Env::Default, &conn_id(), &patch, reset)
            .await
            .unwrap_or_else(|e| panic!("{patch}: {e}"));
    }
}

#[tokio::test(start_paused = true)]
async fn a_connection_without_secrets_updates_freely_and_bad_patches_are_refused() {
    let mut mock = MockBackend::new();
    mock.expect_get_connection().times(1).returning(|_, _| {
        Ok(serde_json::from_value(
            json!({"cross_id": CONN, "connection_name": "c", "password_exists": false}),
        )
        .expect("c"))
    });
    mock.expect_update_connection()
        .times(1)
        .returning(|_, _, _| Ok(stored_connection()));
    let id = ConnectionId::parse(CONN).expect("id");
    service(mock)
        .update_connection(&Env::Default, &id, &json!({"connection_name": "d"}), false)
        .await
        .expect("updated");

    let err = service(MockBackend::new())
        .update_connection(&Env::Default, &id, &json!([1]), false)
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::InvalidInput { .. }));
}

#[tokio::test(start_paused = true)]
async fn variables_are_validated_before_any_request() {
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    };
    let bad: &[(&[(&str, &str)], &str)] = &[
        (&[], "at least one"),
        (&[("", "x")], "item 1 has an empty name"),
        (&[("a.b", "x")], "`a.b` contains `.` or `$`"),
        (&[("$a", "x")], "`$a` contains"),
        (
            &[("A", "1"), ("B", "2"), ("A", "3")],
            "`A` is given more than once",
        ),
    ];
    for (vars, needle) in bad {
        let mut mock = MockBackend::new();
        mock.expect_upsert_variables().never();
        let err = service(mock)
            .upsert_variables(&Env::Default, pairs(vars))
            .await
            .expect_err("refused");
        assert!(err.to_string().contains(needle), "{vars:?}: {err}");
    }
    let mut mock = MockBackend::new();
    mock.expect_upsert_variables()
        .withf(|_, vars| vars.len() == 2 && vars["days_ago"] == "3" && vars["zone"] == "eu")
        .times(1)
        .returning(|_, _| Ok(()));
    let n = service(mock)
        .upsert_variables(&Env::Default, pairs(&[("days_ago", "3"), (" zone ", "eu")]))
        .await
        .expect("upserted");
    assert_eq!(n, 2);
}

#[tokio::test]
async fn every_environment_is_listed_across_pages() {
    let env = |i: u32| -> bdi_domain::models::Environment {
        serde_json::from_value(
            json!({"cross_id": format!("{i:024x}"), "environment_name": format!("e{i}")}),
        )
        .expect("environment")
    };
    let mut mock = MockBackend::new();
    mock.expect_list_environments()
        .times(2)
        .returning(move |q, deleted| {
            assert!(deleted, "include_deleted is passed on");
            let first = (q.page - 1) * 100;
            let items: Vec<_> = (first..150.min(first + 100)).map(env).collect();
            let mut page = Page::single(items);
            page.page = q.page;
            page.total_items = 150;
            page.next_page = (q.page == 1).then(|| "?page=2".to_owned());
            Ok(page)
        });
    let all = service(mock)
        .list_all_environments(true)
        .await
        .expect("swept");
    assert_eq!(all.len(), 150);
    assert_eq!(all[149].environment_name, "e149");
}

#[tokio::test]
async fn environments_that_never_end_are_an_error_at_the_cap() {
    let mut mock = MockBackend::new();
    mock.expect_list_environments()
        .times(100)
        .returning(|q, _| {
            let item: bdi_domain::models::Environment = serde_json::from_value(
                json!({"cross_id": format!("{:024x}", q.page), "environment_name": "e"}),
            )
            .expect("environment");
            let mut page = Page::single(vec![item]);
            page.page = q.page;
            page.total_items = 0;
            page.next_page = Some("?page=next".to_owned());
            Ok(page)
        });
    let err = service(mock)
        .list_all_environments(false)
        .await
        .expect_err("endless");
    assert!(matches!(err, Error::PagingCap { pages: 100 }), "{err:?}");
    assert_eq!(err.next_step(), Some(bdi_domain::NextStep::Report));
}
