//! The data-flow lifecycle: create -> PUT -> activate -> run -> logs -> disable -> delete, and the
//! activation traps (204 when already active, RVR-ACTIVATE-500 without a PUT, unreachable connections).

use bdi_sandbox::demo;
use reqwest::StatusCode;

use crate::support::{Harness, flow_body};

#[tokio::test]
async fn full_lifecycle_create_put_activate_run_logs_disable_delete() {
    let h = Harness::start().await;
    let body = flow_body("Lifecycle flow", &["orders", "customers"]);
    let created = h.post(&h.e("/rivers"), &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let river = created.json();
    let id = river["cross_id"].as_str().expect("cross_id").to_owned();
    assert_eq!(id.len(), 24);
    assert_eq!(river["metadata"]["river_status"], "disabled");
    assert_eq!(river["environment_name"], "Production");
    assert_eq!(
        river["properties"]["schemas"][0]["tables"][0]["details"]["target_table"], "orders",
        "server enrichment"
    );

    let put = h.put(&h.e(&format!("/rivers/{id}")), &body).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);

    let act = h
        .post_empty(&h.e(&format!("/rivers/{id}/activate_river")))
        .await;
    assert_eq!(act.status, StatusCode::ACCEPTED);
    let op = act.json();
    assert_eq!(op["status"], "W");
    let op_id = op["operation_id"].as_str().expect("operation_id");
    let first = h.get(&h.e(&format!("/operations/{op_id}"))).await.json();
    assert_eq!(first["status"], "R");
    let second = h.get(&h.e(&format!("/operations/{op_id}"))).await.json();
    assert_eq!(second["status"], "D");
    assert_eq!(second["result"], "true");
    assert!(second["error_message"].is_null());
    let got = h.get(&h.e(&format!("/rivers/{id}"))).await.json();
    assert_eq!(got["metadata"]["river_status"], "active");

    let again = h
        .post_empty(&h.e(&format!("/rivers/{id}/activate_river")))
        .await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    assert!(again.text.is_empty());

    let run = h
        .post_empty(&h.e(&format!("/rivers/{id}/run?run_sub_rivers=false")))
        .await;
    assert_eq!(run.status, StatusCode::ACCEPTED, "{}", run.text);
    let run = run.json();
    assert_eq!(run["river_cross_id"], id.as_str());
    let runs = run["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 2, "one run per selected table");
    assert_eq!(runs[0]["status"], "pending");
    let run_id = runs[0]["run_id"].as_str().expect("run_id");
    assert_eq!(run_id.len(), 32);

    let polled = h
        .get(&h.e(&format!("/rivers/{id}/runs/{run_id}")))
        .await
        .json();
    assert_eq!(polled["status"], "running");
    assert!(polled["end_date_utc"].is_null());
    assert!(polled["end_date_in_milliseconds"].is_null());
    let done = h.poll_run(&id, run_id).await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["target_name"], "orders");
    assert_eq!(done["run_group_id"], run["run_group_id"]);
    assert!(
        done["end_date_in_milliseconds"].as_i64().expect("ended")
            >= done["start_date_in_milliseconds"]
                .as_i64()
                .expect("started")
    );

    let logs = h
        .get(&h.e(&format!("/rivers/{id}/runs/{run_id}/logs")))
        .await;
    assert_eq!(logs.status, StatusCode::OK);
    assert!(
        logs.headers["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain")
    );
    assert!(logs.text.starts_with("timestamp,level,message\n"));
    assert!(
        logs.text
            .contains(",INFO,Run finished with status succeeded")
    );

    let delete_active = h.delete(&h.e(&format!("/rivers/{id}"))).await;
    assert_eq!(delete_active.status, StatusCode::BAD_REQUEST);
    assert!(
        delete_active
            .detail()
            .contains("disable the data flow before deleting it")
    );

    let disable = h
        .post_empty(&h.e(&format!("/rivers/{id}/disable_river")))
        .await;
    assert_eq!(disable.status, StatusCode::ACCEPTED);
    let op = h
        .poll_op(disable.json()["operation_id"].as_str().expect("id"))
        .await;
    assert_eq!(op["status"], "D");
    let disable_again = h
        .post_empty(&h.e(&format!("/rivers/{id}/disable_river")))
        .await;
    assert_eq!(disable_again.status, StatusCode::NO_CONTENT);

    let deleted = h.delete(&h.e(&format!("/rivers/{id}"))).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.text, "null");
    assert_eq!(
        h.get(&h.e(&format!("/rivers/{id}"))).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn activating_a_flow_never_put_after_creation_ends_in_rvr_activate_500() {
    let h = Harness::start().await;
    let id = h.create_flow(&flow_body("Fresh", &["orders"]), false).await;
    let act = h
        .post_empty(&h.e(&format!("/rivers/{id}/activate_river")))
        .await;
    assert_eq!(
        act.status,
        StatusCode::ACCEPTED,
        "the failure is in the operation, not HTTP"
    );
    let op = h
        .poll_op(act.json()["operation_id"].as_str().expect("id"))
        .await;
    assert_eq!(op["status"], "E");
    assert!(
        op["error_message"]
            .as_str()
            .expect("message")
            .contains("RVR-ACTIVATE-500")
    );
    assert_eq!(
        h.get(&h.e(&format!("/rivers/{id}"))).await.json()["metadata"]["river_status"],
        "disabled"
    );
    // One PUT fixes it.
    let put = h
        .put(
            &h.e(&format!("/rivers/{id}")),
            &flow_body("Fresh", &["orders"]),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK);
    h.activate(&id).await;
}

#[tokio::test]
async fn activation_fails_when_a_connection_is_unreachable() {
    let h = Harness::start().await;
    h.control.set_steps(0);
    let act = h
        .post_empty(&h.e(&format!(
            "/rivers/{}/activate_river",
            demo::UNREACHABLE_FLOW_ID
        )))
        .await;
    assert_eq!(act.status, StatusCode::ACCEPTED);
    let op = act.json();
    assert_eq!(
        op["status"], "E",
        "zero steps: terminal in the create response"
    );
    assert!(
        op["error_message"]
            .as_str()
            .expect("message")
            .contains("unreachable")
    );
}

#[tokio::test]
async fn logic_flows_are_always_active_and_cannot_be_disabled() {
    let h = Harness::start().await;
    let id = demo::LOGIC_FLOW_ID;
    let r = h
        .post_empty(&h.e(&format!("/rivers/{id}/disable_river")))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.detail(),
        "disable_river is not supported for logic river types"
    );
    assert_eq!(
        h.post_empty(&h.e(&format!("/rivers/{id}/activate_river")))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let run = h.post_empty(&h.e(&format!("/rivers/{id}/run"))).await;
    assert_eq!(run.status, StatusCode::ACCEPTED);
    assert_eq!(run.json()["runs"].as_array().expect("runs").len(), 1);
    assert_eq!(
        h.delete(&h.e(&format!("/rivers/{id}"))).await.status,
        StatusCode::OK,
        "logic flows delete directly"
    );
}

#[tokio::test]
async fn the_seeded_new_flow_can_be_activated_and_the_op_can_be_polled_at_zero_steps() {
    let h = Harness::start().await;
    h.control.set_steps(0);
    let r = h
        .post(
            &h.e(&format!("/rivers/{}/activate_river", demo::NEW_FLOW_ID)),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(r.json()["status"], "D");
    let got = h
        .get(&h.e(&format!("/rivers/{}", demo::NEW_FLOW_ID)))
        .await
        .json();
    assert_eq!(got["metadata"]["river_status"], "active");
    let unknown = h.get(&h.e("/operations/ffffffffffffffffffffffff")).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let malformed = h.get(&h.e("/operations/not-an-id")).await;
    assert_eq!(
        malformed.first_error()["loc"],
        serde_json::json!(["path", "operation_id"])
    );
}
