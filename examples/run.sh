#!/usr/bin/env bash
# `make run`: the pet service backend, then `archway serve --dev` with its
# embedded etcd, its own Envoy and the example APIs applied; prints the URLs
# to try. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=.tools/bin
mkdir -p "$bin"
go build -o "$bin/archway" ./cmd/archway
go build -o "$bin/archwayctl" ./cmd/archwayctl
go build -o "$bin/pets-backend" ./examples/backend

"$bin/pets-backend" &
backend=$!
trap 'kill "$backend" 2>/dev/null || true' EXIT

"$bin/archway" serve --dev --data-dir .data \
	--apply examples/petstore.yaml --apply examples/mocks.yaml "$@" &
serve=$!

for _ in $(seq 1 120); do
	"$bin/archwayctl" get apis >/dev/null 2>&1 && break
	kill -0 "$serve" 2>/dev/null || exit 1
	sleep 0.5
done

api_id() { "$bin/archwayctl" get apis "$1" -o json | sed -n 's/^ *"id": *"\([a-z0-9]*\)".*/\1/p' | head -n 1; }
pets=$(api_id petstore)
mocks=$(api_id mocks)

# A demo API key on a usage plan for the pet store's dev stage: 2 requests a
# second, bursts of 5, 100 a day. Its value is fixed so that it survives
# restarts; real keys get generated values, shown once.
demo_key=demo-key-0123456789abcdefghij
if ! "$bin/archwayctl" keys get demo >/dev/null 2>&1; then
	"$bin/archwayctl" keys create demo --value "$demo_key" >/dev/null
	"$bin/archwayctl" plans create demo --rate 2 --burst 5 \
		--quota-limit 100 --quota-period DAY --stage petstore:dev >/dev/null
	"$bin/archwayctl" plans add-key demo demo >/dev/null
fi
cat <<URLS

Archway is up: admin API on 127.0.0.1:9090, Envoy on 127.0.0.1:8080.
Try:
  curl http://127.0.0.1:8080/$pets/dev/pets
  curl http://127.0.0.1:8080/$pets/dev/pets/1
  curl -i -X POST http://127.0.0.1:8080/$pets/dev/pets    # 403: needs an API key (the API's own gateway response)
  curl -X POST -H 'x-api-key: $demo_key' -d '{"name":"rex","type":"dog"}' http://127.0.0.1:8080/$pets/dev/pets -i
  $bin/archwayctl usage demo
  curl http://127.0.0.1:8080/$pets/dev/health
  curl http://$pets.execute-api.localhost:8080/dev/anything?at=all
  curl -X POST http://127.0.0.1:8080/$mocks/test/orders
  curl -i http://127.0.0.1:8080/$mocks/test/nowhere     # 403, as REST APIs answer
  curl -i http://127.0.0.1:8080/$mocks/test/weather     # a MOCK rendered from VTL templates; add ?city=paris
  $bin/archwayctl test-invoke mocks 'GET /weather' --path '/weather?city=paris'
  $bin/archwayctl gateway-responses list petstore       # INVALID_API_KEY is the API's own
  $bin/archwayctl get routes --api petstore
  $bin/archwayctl deploy petstore --stage prod          # then try .../$pets/prod/pets

URLS
wait "$serve"
