//! `bdi connections ...` against the mock.

use std::io::Write;

use bdi_domain::MockBackend;
use bdi_domain::models::Page;

use crate::support::*;

#[tokio::test]
async fn get_shows_the_fields_but_never_secrets() {
    let mut mock = MockBackend::new();
    mock.expect_get_connection()
        .returning(|_, _| Ok(connection(CONN_SRC, "orders db", "PostgreSQL")));
    insta::assert_snapshot!(bdi(&["connections", "get", CONN_SRC], mock).await, @r"
    exit_code: 0
    ----- stdout -----
    id:               64b0c1d2e3f405162738495a
    name:             orders db
    type:             PostgreSQL
    type id:          postgresql
    password exists:  true
    host:             db.example.com
    ----- stderr -----
    ");
}

#[tokio::test]
async fn create_from_a_yaml_file_and_delete() {
    let mut f = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    f.write_all(b"connection_name: orders db\nconnection_type: postgres\nhost: db.example.com\n")
        .unwrap();
    let mut mock = MockBackend::new();
    mock.expect_create_connection()
        .times(1)
        .returning(|_, body| {
            assert_eq!(body["connection_type"], "postgres");
            Ok(connection(CONN_SRC, "orders db", "postgres"))
        });
    let out = bdi(
        &[
            "connections",
            "create",
            "-f",
            f.path().to_str().unwrap(),
            "-o",
            "json",
        ],
        mock,
    )
    .await;
    assert!(
        out.starts_with("exit_code: 0\n")
            && out.contains("created connection 64b0c1d2e3f405162738495a"),
        "{out}"
    );

    let mut mock = MockBackend::new();
    mock.expect_delete_connection()
        .times(1)
        .returning(|_, _| Ok(()));
    insta::assert_snapshot!(bdi(&["connections", "delete", CONN_SRC, "-o", "json"], mock).await, @r#"
    exit_code: 0
    ----- stdout -----
    {
      "deleted": true,
      "connection_id": "64b0c1d2e3f405162738495a"
    }
    ----- stderr -----
    deleted connection 64b0c1d2e3f405162738495a
    "#);
}

#[tokio::test]
async fn list_sweeps_every_page() {
    let mut mock = MockBackend::new();
    mock.expect_list_connections().returning(|_, page| {
        let mut p = Page::single(vec![
            connection(CONN_SRC, "orders db", "PostgreSQL"),
            connection(CONN_TGT, "warehouse", "Snowflake"),
        ]);
        p.total_items = 2;
        p.page = page.page;
        Ok(p)
    });
    insta::assert_snapshot!(bdi(&["connections", "list"], mock).await, @r"
    exit_code: 0
    ----- stdout -----
    ID                        NAME       TYPE
    64b0c1d2e3f405162738495a  orders db  postgresql
    64b0c1d2e3f405162738495b  warehouse  snowflake
    ----- stderr -----
    ");
}

#[tokio::test]
async fn update_keeps_stored_secrets_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conn.json");
    std::fs::write(&path, r#"{"host": "db2.example.com"}"#).unwrap();
    let p = path.to_str().unwrap();
    let mut mock = MockBackend::new();
    mock.expect_get_connection()
        .returning(|_, _| Ok(connection(CONN_SRC, "orders db", "PostgreSQL")));
    mock.expect_update_connection().returning(|_, _, body| {
        assert_eq!(body["host"], "db2.example.com");
        Ok(connection(CONN_SRC, "orders db", "PostgreSQL"))
    });
    let mock = std::sync::Arc::new(mock);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = bdi_cli::run(
        ["bdi", "connections", "update", CONN_SRC, "-f", p],
        &mut out,
        &mut err,
        mock.clone(),
    )
    .await;
    let refused = render(status, &out, &err);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = bdi_cli::run(
        [
            "bdi",
            "connections",
            "update",
            CONN_SRC,
            "-f",
            p,
            "--allow-credential-reset",
        ],
        &mut out,
        &mut err,
        mock,
    )
    .await;
    let allowed = render(status, &out, &err);
    assert!(
        allowed.starts_with("exit_code: 0\n")
            && allowed.ends_with("updated connection 64b0c1d2e3f405162738495a"),
        "{allowed}"
    );
    insta::assert_snapshot!(refused, @r"
    exit_code: 2
    ----- stdout -----

    ----- stderr -----
    error: invalid stored_credentials: connection 64b0c1d2e3f405162738495a stores secrets (password) that the API never returns, so saving it without them would erase them: include the credentials again in the update, or allow the credential reset explicitly to clear them on purpose

    hint: put the credentials in the file again, or add --allow-credential-reset to clear them on purpose
    ");
}

#[tokio::test]
async fn an_incomplete_sweep_warns() {
    let mut mock = MockBackend::new();
    mock.expect_list_connections().returning(|_, page| {
        if page.page == 2 {
            return Err(bdi_domain::Error::Upstream {
                status: 500,
                body: "boom".into(),
            });
        }
        let mut p = Page::single(vec![connection(CONN_SRC, "orders db", "PostgreSQL")]);
        p.total_items = 2 * u64::from(page.items_per_page);
        p.next_page = Some("next".into());
        p.page = page.page;
        Ok(p)
    });
    let out = bdi(&["connections", "list", "-o", "json"], mock).await;
    assert!(out.starts_with("exit_code: 0\n"), "{out}");
    assert!(out.contains("warning: pages 2 could not be read"), "{out}");
}
