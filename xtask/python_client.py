"""Black-box check of bdi-mcp with the official Python MCP SDK (mcp==2.3.0), over stdio and
Streamable HTTP, in the legacy, auto and 2026-07-28 modes: tools are listed, a waiting run
reports progress and succeeds with structured content, and a malformed id is a tool error.

Then `--confirm destructive` (issue #25) against a standalone bdi-sandbox whose request log
is read over its control API: the SDK's elicitation callback accepts, declines or cancels a
delete, or the client declares no elicitation capability; only an accepted delete reaches the
upstream. Over Streamable HTTP, a 2026-07-28 client is asked within its calls (MRTR) and a
legacy client is refused with the reason.

Run by `cargo xtask ci` (see xtask/src/main.rs); usage: python_client.py BDI_MCP BDI_SANDBOX
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import tempfile
import urllib.request

import mcp_types

from mcp import Client
from mcp.client.stdio import StdioServerParameters

ORDERS_FLOW = "65c1d2e3f4a5b6c7d8e9f001"


async def exercise(target, mode: str, label: str) -> None:
    seen = []

    async def on_progress(progress, total, message):
        seen.append((progress, message))

    async with Client(target, mode=mode) as c:
        tools = await c.list_tools()
        names = {t.name for t in tools.tools}
        assert len(names) == 28 and "run_data_flow" in names and "query_history" in names, names
        r = await c.call_tool("run_data_flow", {"data_flow_id": ORDERS_FLOW, "wait": True}, progress_callback=on_progress)
        assert not r.is_error, r
        assert r.structured_content["status"] == "succeeded", r.structured_content
        assert r.structured_content["finished"] is True
        assert seen, "no progress notification"
        bad = await c.call_tool("get_data_flow", {"data_flow_id": "nope"})
        assert bad.is_error and "invalid data_flow_id" in bad.content[0].text, bad
        ran = len(seen)
        synced = await c.call_tool("sync_history", {"since": "7d"}, progress_callback=on_progress)
        assert not synced.is_error and synced.structured_content["done"] is True, synced
        assert len(seen) > ran, "no progress notification from the sync"
        answer = await c.call_tool("query_history", {"sql": "select count(*) as n from runs where status = 'succeeded'"})
        assert not answer.is_error and answer.structured_content["rows"][0][0] > 0, answer
    print(f"ok: {label} mode={mode}: 28 tools, run succeeded with {ran} progress notifications, bad id refused, history synced and queried")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SANDBOX_TOKEN = "bdi-sandbox-token"
SANDBOX_ACCOUNT = "5f1e2d3c4b5a69788796a5b4"
SANDBOX_ENV = "6a7b8c9d0e1f2a3b4c5d6e7f"
MYSQL = "64b0c0a1e4b0a1c2d3e4f501"
SNOWFLAKE = "64b0c0a1e4b0a1c2d3e4f503"


def wait_for_port(port: int) -> None:
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def upstream_deletes(sandbox_port: int) -> int:
    """How many DELETE requests the sandbox has served (its request log, control API)."""
    req = urllib.request.Request(
        f"http://127.0.0.1:{sandbox_port}/_sandbox/requests?method=DELETE",
        headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)["count"]


def person(answer: str, asked: list):
    async def callback(context, params):
        asked.append(params.message)
        return mcp_types.ElicitResult(action=answer)

    return callback


async def confirm_case(target, mode: str, answer, sandbox_port: int, label: str, refused_over_http: bool) -> None:
    asked: list = []
    kwargs = {} if answer is None else {"elicitation_callback": person(answer, asked)}
    async with Client(target, mode=mode, **kwargs) as c:
        made = await c.call_tool("create_data_flow", {
            "name": f"confirm {label} {mode} {answer}", "source_name": "mysql", "source_connection_id": MYSQL,
            "target_name": "snowflake", "target_connection_id": SNOWFLAKE,
        })
        assert not made.is_error, made
        flow = made.structured_content["cross_id"]
        before = upstream_deletes(sandbox_port)
        r = await c.call_tool("delete_data_flow", {"data_flow_id": flow})
        after = upstream_deletes(sandbox_port)
        text = r.content[0].text if r.content else ""
        if refused_over_http:
            assert r.is_error and "keeps no session" in text and "nothing was sent" in text, text
            assert not asked and after == before, (asked, before, after)
        elif answer is None:
            assert r.is_error and "elicitation capability" in text and "--confirm destructive" in text, text
            assert after == before, (before, after)
        elif answer == "accept":
            assert not r.is_error and r.structured_content["deleted"] is True, r
            assert after == before + 1, (before, after)
            assert len(asked) == 1 and flow in asked[0] and SANDBOX_ENV in asked[0], asked
        else:
            word = "declined" if answer == "decline" else "cancelled"
            assert r.is_error and word in text and "nothing was sent" in text, text
            assert after == before, (before, after)
            assert len(asked) == 1, asked
    outcome = "refused (stateless HTTP)" if refused_over_http else f"answer={answer}"
    print(f"ok: confirm {label} mode={mode} {outcome}: upstream DELETEs {before} -> {after}")


async def confirm_checks(binary: str, sandbox_binary: str) -> None:
    sandbox_port = free_port()
    sandbox = subprocess.Popen([sandbox_binary, "--addr", f"127.0.0.1:{sandbox_port}"], stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        wait_for_port(sandbox_port)
        env = {
            **os.environ, "BDI_LOG": "warn",
            "DATA_INTEGRATION_API_URL": f"http://127.0.0.1:{sandbox_port}",
            "DATA_INTEGRATION_API_TOKEN": SANDBOX_TOKEN,
            "DATA_INTEGRATION_ACCOUNT_ID": SANDBOX_ACCOUNT,
            "DATA_INTEGRATION_ENVIRONMENT_ID": SANDBOX_ENV,
            "BDI_DATA_DIR": tempfile.mkdtemp(prefix="bdi-mcp-confirm-"),
        }
        args = ["--confirm", "destructive"]
        answers = ["accept", "decline", "cancel", None]
        for mode in ["legacy", "auto", "2026-07-28"]:
            for answer in answers:
                await confirm_case(StdioServerParameters(command=binary, args=args, env=env), mode, answer, sandbox_port, "stdio", False)
        port = free_port()
        server = subprocess.Popen([binary, *args, "--http", f"127.0.0.1:{port}"], env=env, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port)
            for mode in ["legacy", "2026-07-28"]:
                for answer in answers:
                    refused = mode == "legacy"
                    await confirm_case(f"http://127.0.0.1:{port}/mcp", mode, answer, sandbox_port, "http", refused)
        finally:
            server.terminate()
            server.wait(timeout=10)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


async def dynamic_case(binary: str, mode: str) -> None:
    """--toolsets dynamic: the read-only core and enable_toolset; enabling a toolset sends
    notifications/tools/list_changed (legacy sessions) and its tools appear and work."""
    changed = []

    async def on_message(message) -> None:
        if getattr(message, "method", None) == "notifications/tools/list_changed":
            changed.append(message)

    params = StdioServerParameters(command=binary, args=["--sandbox", "--toolsets", "dynamic"], env={**os.environ, "BDI_LOG": "warn"})
    async with Client(params, mode=mode, message_handler=on_message) as c:
        names = {t.name for t in (await c.list_tools()).tools}
        assert "enable_toolset" in names and "list_variables" in names and "upsert_variables" not in names, names
        listed = await c.call_tool("enable_toolset", {})
        assert not listed.is_error and any(t["name"] == "variables" for t in listed.structured_content["toolsets"]), listed
        enabled = await c.call_tool("enable_toolset", {"toolset": "variables"})
        assert not enabled.is_error and enabled.structured_content["added"] == ["upsert_variables"], enabled
        after = {t.name for t in (await c.list_tools()).tools}
        assert "upsert_variables" in after and len(after) == len(names) + 1, after
        r = await c.call_tool("upsert_variables", {"variables": [{"name": "DYNAMIC", "value": "1"}]})
        assert not r.is_error and r.structured_content["count"] == 1, r
        if mode == "legacy":
            for _ in range(50):
                if changed:
                    break
                await asyncio.sleep(0.02)
            assert changed, "no notifications/tools/list_changed"
    print(f"ok: dynamic toolsets stdio mode={mode}: {len(names)} tools at first, variables enabled, upsert_variables works, list_changed {'received' if changed else 'not expected'}")


async def main(binary: str, sandbox_binary: str) -> None:
    args = ["--sandbox", "--poll-interval-ms", "5"]
    for mode in ["legacy", "auto", "2026-07-28"]:
        quiet = {**os.environ, "BDI_LOG": "warn"}
        await exercise(StdioServerParameters(command=binary, args=args, env=quiet), mode, "stdio")
    # One server per mode: the platform allows 2 runs a minute per data flow.
    for mode in ["legacy", "auto", "2026-07-28"]:
        port = free_port()
        server = subprocess.Popen([binary, *args, "--http", f"127.0.0.1:{port}"], stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 20
            while time.time() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            await exercise(f"http://127.0.0.1:{port}/mcp", mode, "http")
        finally:
            server.terminate()
            server.wait(timeout=10)
    await confirm_checks(binary, sandbox_binary)
    for mode in ["legacy", "2026-07-28"]:
        await dynamic_case(binary, mode)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
