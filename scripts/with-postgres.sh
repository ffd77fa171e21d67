#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server on a free loopback port, for the store tests:
#   scripts/with-postgres.sh swift test …
# The command sees BERTH_TEST_POSTGRES_URL; the server and its files are removed afterwards.
# PostgreSQL comes from Debian's packages, installed with apt-get when it is missing.
set -euo pipefail

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
bin=$(find_bin)
if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
  echo "Installing PostgreSQL from Debian's packages for the store tests…"
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql > /dev/null
  bin=$(find_bin)
fi

dir=$(mktemp -d /tmp/berth-pg.XXXXXX)
as_owner=()
if [[ $(id -u) -eq 0 ]]; then
  # PostgreSQL refuses to run as root.
  chown postgres "$dir"
  as_owner=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cleanup() {
  "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" stop -m immediate > /dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U berth --auth=trust -E UTF8 > "$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log"; exit 1; }
"${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start > /dev/null \
  || { cat "$dir/server.log"; exit 1; }
"${as_owner[@]}" "$bin/psql" -h 127.0.0.1 -p "$port" -U berth -d postgres -qc "CREATE DATABASE berth_test" > /dev/null

export BERTH_TEST_POSTGRES_URL="postgres://berth@127.0.0.1:$port/berth_test?sslmode=disable"
"$@"
