"""Black-box check of bdi-mcp with the official Python MCP SDK (mcp==2.3.0), over stdio and
Streamable HTTP, in the legacy, auto and 2026-07-28 modes: tools are listed, a waiting run
reports progress and succeeds with structured content, and a malformed id is a tool error.

Run by `cargo xtask ci` (see xtask/src/main.rs); usage: python_client.py BDI_MCP_BINARY
"""

import asyncio
import os
import socket
import subprocess
import sys
import time

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


async def main(binary: str) -> None:
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


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
