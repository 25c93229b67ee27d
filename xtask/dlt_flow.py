"""The seed's dlt pipeline, corrected and completed: dlt's rest_api source over the Boomi Flow API.

This is the pipeline a user of seed 003 would write once its defects are fixed (the key header,
the tenant header, the contract's paths, ids from the parent resource, the `items` selector of
paged envelopes, secrets dropped). `bdi load flow` must give the same tables, columns, types and
row counts; `cargo xtask dlt-parity` compares them, `cargo xtask bench-load` times both.

Usage: python dlt_flow.py BASE_URL KEY TENANT PIPELINES_DIR DESTINATION RESOURCES [FORMAT [DATASET]]
DESTINATION is a DuckDB file, or a postgres:// URL (dlt's postgres destination, psycopg2).
FORMAT is dlt's loader_file_format: insert_values (dlt's default), jsonl, parquet or csv.
"""

import json
import sys
import time

import dlt
from dlt.sources.rest_api import rest_api_source

SECRETS = ("authorizationHeader", "apiKey")


def drop_secrets(item):
    for key in SECRETS:
        item.pop(key, None)
    return item


def source(base_url, key, tenant, names):
    paged = {"type": "json_link", "next_url_path": "_links.next"}
    by_flow = {"flow": {"type": "resolve", "resource": "flows", "field": "id.id"}}
    resources = {
        "flows": {"endpoint": {"path": "draw/1/flow", "data_selector": "$"}},
        "flow": {
            "endpoint": {"path": "draw/1/flow/{flow}", "params": by_flow, "data_selector": "$"}
        },
        "flow_active": {"endpoint": {"path": "draw/1/flow/active", "data_selector": "$"}},
        "graph_flow": {
            "endpoint": {
                "path": "draw/1/graph/flow/{flow}",
                "params": by_flow,
                "data_selector": "$",
            }
        },
        "runtimes": {"endpoint": {"path": "admin/1/tenant/runtimes", "data_selector": "$"}},
        "users": {
            "endpoint": {
                "path": "admin/1/users",
                "data_selector": "items",
                "paginator": paged,
                "params": {"pageSize": 500},
            }
        },
        "api_keys": {
            "processing_steps": [{"map": drop_secrets}],
            "endpoint": {"path": "admin/1/users/me/keys", "data_selector": "$"},
        },
        "states": {
            "write_disposition": "merge",
            "primary_key": "id",
            "processing_steps": [{"map": drop_secrets}],
            "endpoint": {
                "path": "admin/1/states",
                "data_selector": "items",
                "paginator": paged,
                "params": {"pageSize": 500},
                "incremental": {
                    "start_param": "from",
                    "cursor_path": "dateModified",
                    "initial_value": "1970-01-01T00:00:00Z",
                },
            },
        },
        "audit_search": {
            "write_disposition": "append",
            "primary_key": "id",
            "endpoint": {
                "path": "audit/1/search",
                "data_selector": "items",
                "paginator": paged,
                "params": {"pageSize": 1000, "orderBy": "occurredAt", "orderDirection": "ASC"},
                "incremental": {
                    "start_param": "from",
                    "cursor_path": "occurredAt",
                    "initial_value": "1970-01-01T00:00:00Z",
                },
            },
        },
        "translations": {"endpoint": {"path": "translate/1/flow", "data_selector": "$"}},
    }
    wanted = [n for n in names if n in resources]
    # A resolved resource needs its parent in the source; it is loaded too, as with bdi.
    if ("flow" in wanted or "graph_flow" in wanted) and "flows" not in wanted:
        wanted.insert(0, "flows")
    config = {
        "client": {
            "base_url": base_url.rstrip("/") + "/",
            "headers": {"x-boomi-flow-api-key": key, "manywhotenant": tenant},
            "paginator": "single_page",
        },
        "resource_defaults": {"write_disposition": "replace"},
        "resources": [dict(name=n, **resources[n]) for n in wanted],
    }
    return rest_api_source(config, name="boomi_flow")


def main():
    base_url, key, tenant, pipelines_dir, target, names = sys.argv[1:7]
    file_format = sys.argv[7] if len(sys.argv) > 7 and sys.argv[7] else None
    dataset = sys.argv[8] if len(sys.argv) > 8 else "boomi_flow_data"
    if target.startswith("postgres"):
        destination = dlt.destinations.postgres(credentials=target)
    else:
        destination = dlt.destinations.duckdb(target)
    pipeline = dlt.pipeline(
        pipeline_name="boomi_flow_pipeline",
        pipelines_dir=pipelines_dir,
        destination=destination,
        dataset_name=dataset,
    )
    started = time.perf_counter()
    info = pipeline.run(
        source(base_url, key, tenant, names.split(",")),
        loader_file_format=file_format,
    )
    seconds = time.perf_counter() - started
    print(info, file=sys.stderr)
    print(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    main()
