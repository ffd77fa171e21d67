#!/usr/bin/env python3
"""Verifies a token Berth issued with an independent JWT implementation (joserfc), the way a
relying party such as AWS STS does: discovery document from the issuer, JWKS from its jwks_uri,
signature with the key named by the header's kid, then iss, aud, sub and the time claims.

Reads the token on stdin. Prints {"header": ..., "claims": ...} and exits 0 when the token is
valid; prints the reason and exits 1 when it is not.
"""
import argparse
import json
import sys
import urllib.request

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry


def fetch_json(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read()), dict(response.headers)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--issuer", required=True, help="The expected iss; discovery is fetched below it.")
    parser.add_argument("--audience", required=True)
    parser.add_argument("--subject", required=True)
    parser.add_argument("--now", type=int, help="Unix time to validate exp/nbf/iat against (default: now).")
    args = parser.parse_args()
    token = sys.stdin.read().strip()

    discovery, _ = fetch_json(args.issuer + "/.well-known/openid-configuration")
    if discovery.get("issuer") != args.issuer:
        fail(f"discovery issuer {discovery.get('issuer')!r} is not {args.issuer!r}")
    jwks, _ = fetch_json(discovery["jwks_uri"])
    keys = KeySet.import_key_set(jwks)
    algorithms = discovery.get("id_token_signing_alg_values_supported", [])
    try:
        decoded = jwt.decode(token, keys, algorithms=algorithms)
    except JoseError as error:
        fail(f"signature: {error.error}: {error.description}")
    kid = decoded.header.get("kid")
    if kid not in [key.get("kid") for key in jwks["keys"]]:
        fail(f"the header's kid {kid!r} is not in the JWKS")
    registry = JWTClaimsRegistry(
        now=args.now,
        iss={"essential": True, "value": args.issuer},
        aud={"essential": True, "value": args.audience},
        sub={"essential": True, "value": args.subject},
        exp={"essential": True},
        nbf={"essential": True},
        iat={"essential": True},
        jti={"essential": True},
    )
    try:
        registry.validate(decoded.claims)
    except JoseError as error:
        fail(f"claims: {error.error}: {error.description}")
    print(json.dumps({"header": decoded.header, "claims": decoded.claims}))


def fail(reason):
    print(reason)
    sys.exit(1)


if __name__ == "__main__":
    main()
