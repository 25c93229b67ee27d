//! Safe read-modify-write: the upstream has no PATCH and no ETags, so each patch is a GET, a
//! merge and a full PUT. Twenty concurrent patches of one flow through one `Service` must all
//! survive, which only holds because the service serialises them per data flow.

use std::time::Duration;

use bdi_sandbox::demo::NEW_FLOW_ID;
use serde_json::json;

use crate::support::{env, flow, flow_path, start, stored};

const WRITERS: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_patches_of_one_flow_all_survive() {
    let h = start().await;
    let control = h.control();
    // Each request takes a moment, so unserialised writers would interleave and lose updates.
    control.set_latency(Duration::from_millis(2));

    let tasks: Vec<_> = (0..WRITERS)
        .map(|i| {
            let svc = h.service.clone();
            tokio::spawn(async move {
                let patch = json!({"settings": {format!("e2e_key_{i:02}"): i}});
                svc.patch_data_flow(&env(), &flow(NEW_FLOW_ID), &patch)
                    .await
            })
        })
        .collect();
    for (i, result) in futures::future::join_all(tasks)
        .await
        .into_iter()
        .enumerate()
    {
        result
            .expect("the writer does not panic")
            .unwrap_or_else(|e| panic!("writer {i} failed: {e}"));
    }

    let settings = stored(&h.service, NEW_FLOW_ID).await.settings;
    for i in 0..WRITERS {
        assert_eq!(
            settings[format!("e2e_key_{i:02}")],
            json!(i),
            "writer {i}'s key is missing: {settings}"
        );
    }
    // The untouched settings survive too.
    assert_eq!(
        settings["notification"]["failure"]["email"],
        "data-team@example.com"
    );
    assert_eq!(
        control.request_count("PUT", &flow_path(NEW_FLOW_ID)),
        WRITERS
    );
}
