#!/usr/bin/env bash
# `make dev` until the server lands: a throwaway moto (the local AWS emulator from .venv) on a
# free loopback port, and `berth aws whoami` against it — plain keys, then an assumed role with an
# external ID — with the credential trace. Nothing leaves this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
berth=.build/debug/berth
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.venv/bin/moto_server -H 127.0.0.1 -p "$port" > /dev/null 2>&1 &
moto=$!
trap 'kill -9 $moto 2>/dev/null || true' EXIT
.venv/bin/python - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(150):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/data.json", timeout=1)
        break
    except OSError:
        time.sleep(0.1)
PY

export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=AKIADEVDEMO00000001 AWS_SECRET_ACCESS_KEY=dev-demo-secret
unset AWS_PROFILE AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI

echo "== A local AWS emulator (moto) is running at $AWS_ENDPOINT_URL — this is for trying Berth out. =="
echo
echo "\$ berth aws whoami --explain"
"$berth" aws whoami --explain
echo
echo "\$ berth aws whoami --assume-role-arn arn:aws:iam::123456789012:role/Deployer --external-id tenant-42 --explain"
"$berth" aws whoami --assume-role-arn arn:aws:iam::123456789012:role/Deployer --external-id tenant-42 --explain
