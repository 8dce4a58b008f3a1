#!/usr/bin/env bash
# Installs the benchmark's load tools into .tools/bin (git-ignored), built
# from the Go module proxy at the versions pinned in tools/bench/go.mod:
#
#   ghz               github.com/bojand/ghz/cmd/ghz, the gRPC load generator
#   envoy-ratelimit   github.com/envoyproxy/ratelimit/src/service_cmd, the
#                     reference rate-limit service Archway is compared with
#
# Both are `tool` lines of one module, so their dependencies are resolved
# together (grpc v1.74, protobuf v1.36 for both); neither module has replace
# directives, so nothing needs copying. Usage: bench/ratelimit/tools.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${TOOLS_BIN:-$root/.tools/bin}
mkdir -p "$bin"
cd "$root/tools/bench"
# Bound the build: a cold module cache downloads ~200 modules.
ghz_version=$(go list -m -f '{{.Version}}' github.com/bojand/ghz)
timeout 900 go build -ldflags "-X main.version=$ghz_version" -o "$bin/ghz" github.com/bojand/ghz/cmd/ghz
timeout 900 go build -o "$bin/envoy-ratelimit" github.com/envoyproxy/ratelimit/src/service_cmd
echo "installed $bin/ghz and $bin/envoy-ratelimit"
