#!/usr/bin/env bash
# bench/ratelimit/run.sh: load-tests the decisions Envoy asks Archway for,
# next to envoyproxy/ratelimit, with ghz on this machine's loopback, and
# prints a markdown table.
#
# Targets, each measured alone and in turn:
#   no-op  archway               -       ShouldRateLimit in a domain Archway does not
#                                          serve: answered at once, gRPC's floor
#   rls    archway               memory  envoy.service.ratelimit.v3 ShouldRateLimit,
#   rls    archway               redis     domain "archway", one descriptor
#                                          {archway_route: "<api>/prod/<route>"} of a
#                                          stage throttled at 1e6/s, burst 1e6
#   rls    envoyproxy/ratelimit  redis   the same descriptor in domain "bench",
#                                          limit 1e9/second: every answer is OK
#   authz  archway               memory  envoy.service.auth.v3 Check of a route that
#   authz  archway               redis     requires an API key, with a valid key on a
#                                          usage plan (throttle 1e6/s, daily quota 1e12)
# Modes: saturation (-c CONCURRENCY for DURATION seconds) and a fixed rate
# (--rps RPS, same workers and duration).
#
# Columns: decisions/s is OK answers over the run's length; p50 and p99 are
# ghz's; CPU µs/decision is the utime+stime the server process spent during
# the run (/proc/PID/stat) over the OK answers, and the Redis column the same
# for redis-server; errors counts failed calls, not counting those ghz
# cancels or cuts off by closing its connection when the run's time is up. Before measuring a target the
# harness proves it meters: a 1 request/s throttle (Archway) or a 1/minute
# limit (envoyproxy/ratelimit) on a second route must refuse a second call,
# and the authorization service must refuse a wrong key.
#
# ghz shares the machine's cores with the servers, so at saturation the
# numbers measure the pair; CPU per decision is the fairer comparison.
#
# Needs: bench/ratelimit/tools.sh run once (ghz and envoy-ratelimit in
# .tools/bin), redis-server and redis-cli, jq, go.
# Settings (environment): DURATION (seconds, default 20), CONCURRENCY (50),
# RPS (4500), TARGETS (default "archway-memory archway-redis
# envoyproxy-ratelimit", any of them in that order), KEEP=1 keeps the work
# directory with every log and ghz report.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/bench/ratelimit
tools=${TOOLS_BIN:-$root/.tools/bin}
duration=${DURATION:-20}
concurrency=${CONCURRENCY:-50}
rps=${RPS:-4500}
targets=" ${TARGETS:-archway-memory archway-redis envoyproxy-ratelimit} "
hz=$(getconf CLK_TCK)
key_value=bench-key-0123456789abcdefghijklmnopqrstuv
work=$(mktemp -d "${TMPDIR:-/tmp}/archway-ratelimit-bench.XXXXXX")
bin=$work/bin
pids=()
rows=()

log() { printf '%s\n' "$*" >&2; }

# die reports what failed with the tail of every log, since the work
# directory goes when the script exits.
die() {
	log "run.sh: $*"
	local f
	for f in "$work"/*.log; do
		[[ -e $f ]] && { log "--- ${f##*/}"; tail -n 20 "$f" >&2; }
	done
	exit 1
}

# alive PID: the process exists and is not a zombie waiting to be reaped.
alive() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	[[ ${s:0:1} != Z ]]
}

# stop PID: SIGTERM, up to 10 s to exit, then SIGKILL; always reaps.
stop() {
	local pid=$1 i
	if alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			alive "$pid" || break
			sleep 0.1
		done
		alive "$pid" && kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null || true
}

# cleanup stops every process started, the latest first, so that servers
# are no longer busy with ghz's calls when asked to shut down.
cleanup() {
	local i
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop "${pids[i]}"; done
	if [[ ${KEEP:-0} == 1 ]]; then log "work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME CMD...: runs CMD in the background with its output in
# NAME.log, and sets started to its pid.
start() {
	local name=$1
	shift
	"$@" >"$work/$name.log" 2>&1 &
	started=$!
	pids+=("$started")
}

# wait_until PID SECONDS CMD...: polls CMD until it succeeds; fails if PID
# exits first or SECONDS pass.
wait_until() {
	local pid=$1 deadline=$((SECONDS + $2))
	shift 2
	until "$@" >/dev/null 2>&1; do
		alive "$pid" || die "process $pid exited while waiting for: $*"
		((SECONDS < deadline)) || die "timed out waiting for: $*"
		sleep 0.25
	done
}

# cpu_ticks PID: the process's utime+stime, in clock ticks (fields 14, 15 of
# /proc/PID/stat, counted after the parenthesised command name).
cpu_ticks() {
	local s f
	s=$(<"/proc/$1/stat")
	s=${s##*) }
	read -ra f <<<"$s"
	echo $((f[11] + f[12]))
}

check_prereqs() {
	local t
	for t in "$tools/ghz" "$tools/envoy-ratelimit"; do
		[[ -x $t ]] || die "$t missing: run bench/ratelimit/tools.sh"
	done
	for t in redis-server redis-cli jq go; do
		command -v "$t" >/dev/null || die "$t not found on PATH"
	done
	[[ $duration =~ ^[0-9]+$ && $concurrency =~ ^[0-9]+$ && $rps =~ ^[0-9]+$ ]] ||
		die "DURATION, CONCURRENCY and RPS must be whole numbers"
	for t in $targets; do
		[[ $t == @(archway-memory|archway-redis|envoyproxy-ratelimit) ]] || die "unknown target $t in TARGETS"
	done
}

build() {
	mkdir -p "$bin"
	(cd "$root" && timeout 600 go build -o "$bin/" ./cmd/archway ./cmd/archwayctl ./bench/ratelimit/benchkit) ||
		die "go build failed"
	"$bin/benchkit" protoset -o "$work/bench.protoset"
}

# allocate_ports sets the loopback ports every server listens on.
allocate_ports() {
	local p
	mapfile -t p < <("$bin/benchkit" ports 10)
	redis_port=${p[0]} admin_port=${p[1]} xds_port=${p[2]} etcd_client=${p[3]} etcd_peer=${p[4]}
	gateway_port=${p[5]} rl_grpc=${p[6]} rl_http=${p[7]} rl_debug=${p[8]}
	ctl=("$bin/archwayctl" --addr "127.0.0.1:$admin_port" --timeout 5s)
}

start_redis() {
	start redis redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
		--dir "$work" --daemonize no
	redis_pid=$started
	wait_until "$redis_pid" 30 timeout 2 redis-cli -p "$redis_port" ping
}

# start_archway NAME [FLAGS...]: `archway serve` without Envoy, on the
# work directory's embedded etcd, so a second start keeps the first's API,
# key and plan.
start_archway() {
	local name=$1
	shift
	start "$name" "$bin/archway" serve --envoy off --log-level warn --data-dir "$work/data" \
		--admin-addr "127.0.0.1:$admin_port" --xds-addr "127.0.0.1:$xds_port" \
		--gateway-addr "127.0.0.1:$gateway_port" \
		--etcd-listen-client "http://127.0.0.1:$etcd_client" --etcd-listen-peer "http://127.0.0.1:$etcd_peer" "$@"
	server_pid=$started
	wait_until "$server_pid" 60 "${ctl[@]}" get apis
}

# setup_api applies the fixture API and puts an API key on a usage plan for
# its stage, then reads the IDs the descriptors and CheckRequests carry.
setup_api() {
	"${ctl[@]}" apply -f "$here/api.yaml" >&2 || die "apply failed"
	"${ctl[@]}" keys create bench-key --value "$key_value" >/dev/null || die "keys create failed"
	"${ctl[@]}" plans create bench-plan --rate 1000000 --burst 1000000 \
		--quota-limit 1000000000000 --quota-period DAY --stage ratelimit-bench:prod >/dev/null ||
		die "plans create failed"
	"${ctl[@]}" plans add-key bench-plan bench-key >&2 || die "plans add-key failed"
	local routes
	api_id=$("${ctl[@]}" get apis ratelimit-bench -o json | jq -r .id)
	routes=$("${ctl[@]}" get routes --api ratelimit-bench -o json)
	limited=$(jq -r '.[] | select(.path == "/limited") | .id' <<<"$routes")
	near=$(jq -r '.[] | select(.path == "/near") | .id' <<<"$routes")
	keyed=$(jq -r '.[] | select(.path == "/keyed") | .id' <<<"$routes")
	[[ -n $api_id && -n $limited && -n $near && -n $keyed ]] || die "could not read the API's ids"
}

# rls_meters ADDR DOMAIN: the limited route is admitted and the near route's
# second call in a row is refused, so descriptors reach live limits.
rls_meters() {
	local probe=("$bin/benchkit" rls -addr "$1" -domain "$2" -timeout 2s)
	[[ $("${probe[@]}" -entry "archway_route=$api_id/prod/$limited") == OK ]] &&
		[[ $("${probe[@]}" -n 2 -entry "archway_route=$api_id/prod/$near" | tail -n 1) == OVER_LIMIT ]]
}

# authz_meters ADDR: the key is admitted on the keyed route, a wrong key is
# refused with 403.
authz_meters() {
	local probe=("$bin/benchkit" authz -addr "$1" -api "$api_id" -stage prod -route "$keyed" -timeout 2s)
	[[ $("${probe[@]}" -key "$key_value") == OK ]] &&
		[[ $("${probe[@]}" -key "wrong-$key_value") == "DENIED 403" ]]
}

# ghz_run NAME ADDR CALL DATA MODE: one ghz run, its JSON report in NAME.json.
# ghz runs in the background so that a signal's trap need not wait for it.
ghz_run() {
	local name=$1 addr=$2 call=$3 data=$4 mode=$5 rate=()
	[[ $mode == "rps $rps" ]] && rate=(--rps "$rps")
	start "$name.ghz" timeout $((duration + 60)) "$tools/ghz" --insecure --protoset "$work/bench.protoset" \
		--call "$call" -d "$data" -c "$concurrency" -z "${duration}s" --timeout 5s "${rate[@]}" \
		-O json -o "$work/$name.json" "$addr"
	wait "$started" || [[ -s $work/$name.json ]] || die "ghz $name failed"
}

# measure TARGET STORE MODE ADDR CALL DATA: appends one table row to rows.
measure() {
	local target=$1 store=$2 mode=$3 addr=$4 call=$5 data=$6 row
	local name=${target//[\/ ]/_}-$store-${mode//[ =]/_}
	local cpu0 redis0 cpu1 redis1
	log "measuring $target ($store) $mode"
	cpu0=$(cpu_ticks "$server_pid") redis0=$(cpu_ticks "$redis_pid")
	ghz_run "$name" "$addr" "$call" "$data" "$mode"
	alive "$server_pid" || die "$target exited during the run"
	alive "$redis_pid" || die "redis-server exited during the run"
	cpu1=$(cpu_ticks "$server_pid") redis1=$(cpu_ticks "$redis_pid")
	row=$(jq -r --arg t "$target" --arg s "$store" --arg m "$mode" \
		--arg closing 'client connection is closing|transport is closing' --argjson cpu $((cpu1 - cpu0)) --argjson rcpu $((redis1 - redis0)) --argjson hz "$hz" '
		(.statusCodeDistribution // {}) as $sc | ($sc.OK // 0) as $ok
		| ([.errorDistribution // {} | to_entries[] | select(.key | test($closing) | not) | .value]
			| add // 0) as $err
		| (.latencyDistribution // []) as $ld
		| [$ld[] | select(.percentage == 50) | .latency][0] as $p50
		| [$ld[] | select(.percentage == 99) | .latency][0] as $p99
		| def us(per): if $ok > 0 then (per * 1e6 / $hz / $ok * 10 | round / 10) else "-" end;
		  def ms(ns): if ns then (ns / 1e4 | round / 100) else "-" end;
		"| \($t) | \($s) | \($m) | \($ok * 1e9 / .total | round) | \(ms($p50)) ms | \(ms($p99)) ms"
		+ " | \(us($cpu)) | \(if $s == "memory" then "-" else us($rcpu) end) | \($err) |"
	' "$work/$name.json") || die "cannot read ghz report $name.json"
	rows+=("$row")
}

# bench_target TARGET STORE ADDR CALL DATA: saturation, then a fixed rate.
bench_target() {
	local mode
	for mode in "saturation c=$concurrency" "rps $rps"; do
		measure "$1" "$2" "$mode" "$3" "$4" "$5"
	done
}

# bench_archway STORE [FLAGS...]: Archway's RLS and ext_authz on one store.
bench_archway() {
	local store=$1 addr=127.0.0.1:$xds_port
	shift
	start_archway "archway-$store" "$@"
	[[ -n ${api_id:-} ]] || setup_api
	wait_until "$server_pid" 30 rls_meters "$addr" archway
	wait_until "$server_pid" 30 authz_meters "$addr"
	if [[ $store == memory ]]; then
		# The floor: a call in a domain Archway does not serve is answered
		# OK at once, without a config lookup or a store: what remains is
		# gRPC's own cost per call, which every row below pays.
		bench_target "no-op call" - "$addr" envoy.service.ratelimit.v3.RateLimitService.ShouldRateLimit \
			"$("$bin/benchkit" rls -json -domain none -entry "x=y")"
	fi
	bench_target "archway RLS" "$store" "$addr" envoy.service.ratelimit.v3.RateLimitService.ShouldRateLimit \
		"$("$bin/benchkit" rls -json -entry "archway_route=$api_id/prod/$limited")"
	bench_target "archway ext_authz" "$store" "$addr" envoy.service.auth.v3.Authorization.Check \
		"$("$bin/benchkit" authz -json -api "$api_id" -stage prod -route "$keyed" -key "$key_value")"
	stop "$server_pid"
}

# write_ratelimit_config writes envoyproxy/ratelimit's runtime directory:
# domain "bench" with the same descriptors as Archway's routes.
write_ratelimit_config() {
	mkdir -p "$work/runtime/ratelimit/config"
	cat >"$work/runtime/ratelimit/config/bench.yaml" <<-EOF
		domain: bench
		descriptors:
		  - key: archway_route
		    value: $api_id/prod/$limited
		    rate_limit: {unit: second, requests_per_unit: 1000000000}
		  - key: archway_route
		    value: $api_id/prod/$near
		    rate_limit: {unit: minute, requests_per_unit: 1}
	EOF
}

# bench_envoy_ratelimit: envoyproxy/ratelimit on the same Redis, with the
# descriptor values of Archway's routes (fixed ones if Archway was not run).
# USE_STATSD=false alone would make it fall back to a logging stats sink
# that writes every response-time sample as a JSON line, per-decision I/O
# Archway does not do; DISABLE_STATS=true gives it gostats' null sink.
bench_envoy_ratelimit() {
	: "${api_id:=bench}" "${limited:=limited}" "${near:=near}"
	write_ratelimit_config
	start envoy-ratelimit env REDIS_SOCKET_TYPE=tcp REDIS_URL="127.0.0.1:$redis_port" \
		RUNTIME_ROOT="$work/runtime" RUNTIME_SUBDIRECTORY=ratelimit RUNTIME_WATCH_ROOT=false \
		USE_STATSD=false DISABLE_STATS=true LOG_LEVEL=warn HOST=127.0.0.1 PORT="$rl_http" \
		DEBUG_HOST=127.0.0.1 DEBUG_PORT="$rl_debug" GRPC_HOST=127.0.0.1 GRPC_PORT="$rl_grpc" \
		"$tools/envoy-ratelimit"
	server_pid=$started
	wait_until "$server_pid" 30 rls_meters "127.0.0.1:$rl_grpc" bench
	bench_target "envoyproxy/ratelimit RLS" redis "127.0.0.1:$rl_grpc" \
		envoy.service.ratelimit.v3.RateLimitService.ShouldRateLimit \
		"$("$bin/benchkit" rls -json -domain bench -entry "archway_route=$api_id/prod/$limited")"
	stop "$server_pid"
}

print_table() {
	local row
	printf '\n%s, %s cores (%s), load average %s; ghz %s, %ss per run\n\n' \
		"$(date -u +%FT%TZ)" "$(nproc)" "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)" \
		"$(cut -d' ' -f1-3 /proc/loadavg)" "$("$tools/ghz" --version 2>&1)" "$duration"
	echo '| target | store | mode | decisions/s | p50 | p99 | CPU µs/decision | Redis CPU µs/decision | errors |'
	echo '|---|---|---|---:|---:|---:|---:|---:|---:|'
	# The floor, ShouldRateLimit rows, then Check rows, each in the order run.
	for row in "${rows[@]}"; do [[ $row == *'no-op call |'* ]] && echo "$row"; done
	for row in "${rows[@]}"; do [[ $row == *' RLS |'* ]] && echo "$row"; done
	for row in "${rows[@]}"; do [[ $row == *' ext_authz |'* ]] && echo "$row"; done
	return 0
}

main() {
	check_prereqs
	build
	allocate_ports
	start_redis
	[[ $targets == *" archway-memory "* ]] && bench_archway memory
	[[ $targets == *" archway-redis "* ]] && bench_archway redis --redis-addr "127.0.0.1:$redis_port"
	[[ $targets == *" envoyproxy-ratelimit "* ]] && bench_envoy_ratelimit
	print_table
}

main "$@"
