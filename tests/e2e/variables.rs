//! Environment variables: an upsert merges (keys not sent stay), and names the API would refuse
//! are refused before any request.

use bdi_domain::{Backend, Error};

use crate::support::{env, start};

const VARIABLES: &str = "/variables";

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn an_upsert_merges_and_keeps_the_keys_not_sent() {
    let h = start().await;
    let before = h
        .backend
        .list_variables(&env())
        .await
        .expect("the demo variables read");
    assert!(!before.is_empty(), "the demo environment has variables");
    let (kept_key, kept_value) = before
        .iter()
        .next()
        .map(|(k, v)| (k.clone(), v.clone()))
        .expect("one variable");

    let sent = h
        .service
        .upsert_variables(&env(), pairs(&[("E2E_NEW", "1"), ("e2e_other", "two")]))
        .await
        .expect("the upsert is accepted");
    assert_eq!(sent, 2);
    h.service
        .upsert_variables(&env(), pairs(&[("E2E_NEW", "updated")]))
        .await
        .expect("an existing key is updated");

    let after = h.backend.list_variables(&env()).await.expect("reads");
    assert_eq!(after["E2E_NEW"], "updated");
    assert_eq!(after["e2e_other"], "two");
    assert_eq!(after[&kept_key], kept_value);
    assert_eq!(after.len(), before.len() + 2);
}

#[tokio::test]
async fn names_with_dots_or_dollars_are_refused_before_any_request() {
    let h = start().await;
    let control = h.control();

    let err = h
        .service
        .upsert_variables(
            &env(),
            pairs(&[
                ("ok_name", "1"),
                ("a.b", "2"),
                ("$home", "3"),
                ("ok_name", "4"),
            ]),
        )
        .await
        .expect_err("three bad names");

    match &err {
        Error::InvalidInput { field, message } => {
            assert_eq!(field, "variables");
            assert!(message.contains("`a.b` contains `.` or `$`"), "{message}");
            assert!(message.contains("`$home` contains `.` or `$`"), "{message}");
            assert!(
                message.contains("`ok_name` is given more than once"),
                "{message}"
            );
            assert!(message.ends_with("nothing was changed"), "{message}");
        }
        other => panic!("expected invalid input, got {other:?}"),
    }
    assert_eq!(control.request_count("PUT", VARIABLES), 0);
    let after = h.backend.list_variables(&env()).await.expect("reads");
    assert!(!after.contains_key("ok_name"), "nothing was sent");
}
