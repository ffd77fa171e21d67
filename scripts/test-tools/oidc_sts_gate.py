#!/usr/bin/env python3
"""An STS front for tests: AssumeRoleWithWebIdentity is verified the way AWS does it, everything
else goes to moto unchanged. moto hands out credentials for any web identity token; this gate
first checks the token against what IAM (moto's) holds:

1. the OIDC provider named by the token's iss (without scheme) exists in the role's account, and
   the token's aud is one of its client IDs;
2. the signature verifies against the JWKS that the issuer's discovery document points to
   (fetched over HTTP, with joserfc), and exp/nbf/iat are valid now;
3. the role's trust policy has an Allow statement for sts:AssumeRoleWithWebIdentity whose
   Federated principal is that provider and whose StringEquals/StringLike conditions on
   <host>:aud and <host>:sub all hold.

Refusals use AWS's codes and messages (InvalidIdentityToken, AccessDenied, ExpiredTokenException).
Usage: oidc_sts_gate.py --port PORT --moto http://127.0.0.1:MOTO_PORT
"""
import argparse
import base64
import fnmatch
import json
import sys
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

MOTO = None


class Refusal(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def iam():
    return boto3.client(
        "iam", endpoint_url=MOTO, region_name="us-east-1", aws_access_key_id="gate", aws_secret_access_key="gate"
    )


def unverified_part(token, index):
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def check(params):
    token = params.get("WebIdentityToken", "")
    role_arn = params.get("RoleArn", "")
    try:
        claims = unverified_part(token, 1)
    except Exception:
        raise Refusal("InvalidIdentityToken", "Token is not a valid JWT.")
    issuer = claims.get("iss", "")
    host = issuer.split("://", 1)[-1].rstrip("/")
    account = role_arn.split(":")[4]
    provider_arn = f"arn:aws:iam::{account}:oidc-provider/{host}"
    try:
        provider = iam().get_open_id_connect_provider(OpenIDConnectProviderArn=provider_arn)
    except Exception:
        raise Refusal("InvalidIdentityToken", f"No OpenIDConnect provider found in your account for {issuer}")
    if claims.get("aud") not in provider.get("ClientIDList", []):
        raise Refusal("InvalidIdentityToken", "Incorrect token audience")
    try:
        with urllib.request.urlopen(issuer + "/.well-known/openid-configuration", timeout=5) as response:
            discovery = json.loads(response.read())
        with urllib.request.urlopen(discovery["jwks_uri"], timeout=5) as response:
            keys = KeySet.import_key_set(json.loads(response.read()))
        decoded = jwt.decode(token, keys, algorithms=discovery["id_token_signing_alg_values_supported"])
    except Exception as error:
        raise Refusal(
            "InvalidIdentityToken",
            "Couldn't retrieve verification key from your identity provider, please reference "
            f"AssumeRoleWithWebIdentity documentation for requirements ({error})",
        )
    try:
        JWTClaimsRegistry(exp={"essential": True}, iss={"essential": True, "value": issuer}).validate(decoded.claims)
    except JoseError as error:
        raise Refusal("ExpiredTokenException", f"Token expired or not yet valid: {error.description}")
    role_name = role_arn.split("/")[-1]
    try:
        policy = iam().get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    except Exception:
        raise Refusal("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403)
    if isinstance(policy, str):
        policy = json.loads(urllib.parse.unquote(policy))
    values = {f"{host}:aud": decoded.claims.get("aud"), f"{host}:sub": decoded.claims.get("sub")}
    for statement in policy.get("Statement", []):
        if allows(statement, provider_arn, values):
            return
    raise Refusal("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403)


def as_list(value):
    return value if isinstance(value, list) else [value]


def allows(statement, provider_arn, values):
    if statement.get("Effect") != "Allow":
        return False
    if "sts:AssumeRoleWithWebIdentity" not in as_list(statement.get("Action", [])):
        return False
    if provider_arn not in as_list(statement.get("Principal", {}).get("Federated", [])):
        return False
    for operator, conditions in statement.get("Condition", {}).items():
        for key, expected in conditions.items():
            actual = values.get(key)
            if actual is None:
                return False
            if operator == "StringEquals":
                if actual not in as_list(expected):
                    return False
            elif operator == "StringLike":
                if not any(fnmatch.fnmatchcase(actual, pattern) for pattern in as_list(expected)):
                    return False
            else:
                return False
    return True


class Gate(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        params = dict(urllib.parse.parse_qsl(body.decode()))
        if params.get("Action") == "AssumeRoleWithWebIdentity":
            try:
                check(params)
            except Refusal as refusal:
                self.reply(refusal.status, error_xml(refusal.code, refusal.message), "text/xml")
                return
        self.forward(body)

    def do_GET(self):
        self.forward(None)

    def forward(self, body):
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        request = urllib.request.Request(MOTO + self.path, data=body, headers=headers, method=self.command)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                self.reply(response.status, response.read(), response.headers.get("Content-Type", "text/xml"))
        except urllib.error.HTTPError as error:
            self.reply(error.code, error.read(), error.headers.get("Content-Type", "text/xml"))

    def reply(self, status, payload, content_type):
        if isinstance(payload, str):
            payload = payload.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):
        pass


def error_xml(code, message):
    kind = "Sender"
    return (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>{kind}</Type><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>gate-{int(time.time() * 1000)}</RequestId></ErrorResponse>"
    )


def escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def main():
    global MOTO
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--moto", required=True)
    args = parser.parse_args()
    MOTO = args.moto.rstrip("/")
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Gate)
    print(f"gate listening on {args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
