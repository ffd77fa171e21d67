#!/usr/bin/env python3
"""Generate SigV4 reference signatures with botocore.

Every case is signed by botocore's own SigV4Auth (header signing) or SigV4QueryAuth (presigned
URL) at a fixed time; Berth's signer must produce exactly the same result. Run with the test
virtual environment's Python (`make vectors`), then commit the output:

    Tests/AWSSigV4Tests/Vectors/sigv4.json
"""
import datetime
import hashlib
import json
import os
import sys
from urllib.parse import quote

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

FIXED = datetime.datetime(2026, 11, 22, 9, 30, 5)
botocore.auth.get_current_datetime = lambda *args, **kwargs: FIXED

KEYS = {"accessKeyID": "AKIDEXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
TEMPORARY = dict(KEYS, accessKeyID="ASIAEXAMPLETEMPORARY", sessionToken="IQoJb3JpZ2luX2VjEXAMPLE//TOKEN+with/slashes==")


def body_of(spec):
    if spec is None:
        return b""
    if isinstance(spec, str):
        return spec.encode("utf-8")
    return (spec["repeat"] * spec["count"]).encode("utf-8")


CASES = [
    dict(name="sts get caller identity form body", method="POST", host="sts.us-east-1.amazonaws.com",
         service="sts", region="us-east-1",
         headers=[["Content-Type", "application/x-www-form-urlencoded; charset=utf-8"]],
         body="Action=GetCallerIdentity&Version=2011-06-15"),
    dict(name="ecs json 1.1 call", method="POST", host="ecs.eu-west-1.amazonaws.com", service="ecs",
         region="eu-west-1",
         headers=[["Content-Type", "application/x-amz-json-1.1"],
                  ["X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DescribeClusters"]],
         body='{"clusters":["prod"],"include":["TAGS"]}'),
    dict(name="empty body get", method="GET", host="example.amazonaws.com", service="service",
         region="us-east-1"),
    dict(name="temporary credentials add the security token", method="POST",
         host="ecs.us-west-2.amazonaws.com", service="ecs", region="us-west-2", credentials="temporary",
         headers=[["Content-Type", "application/x-amz-json-1.1"],
                  ["X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListClusters"]],
         body="{}"),
    dict(name="query with reserved characters", method="GET", host="example.amazonaws.com",
         service="service", region="us-east-1",
         query=[["Param", "value with spaces"], ["Plus", "a+b=c&d"], ["slash/key", "x/y?z#f"],
                ["tilde~", "-_.~"], ["empty", ""], ["unicode", "Zürich ☃"], ["percent", "100%"],
                ["star", "*"]]),
    dict(name="query keys sorted and repeated keys sorted by value", method="GET",
         host="example.amazonaws.com", service="service", region="us-east-1",
         query=[["b", "2"], ["a", "z"], ["a", "b"], ["A", "upper"], ["a", "a"], ["_", "under"]]),
    dict(name="header values folded", method="POST", host="example.amazonaws.com", service="service",
         region="us-east-1",
         headers=[["My-Header1", "    value1"], ["My-Header2", "value2   with   spaces  "],
                  ["My-Header3", "a\n   b\tc"], ["Content-Type", "text/plain"]],
         body="hello"),
    dict(name="repeated header names joined with commas", method="GET", host="example.amazonaws.com",
         service="service", region="us-east-1",
         headers=[["X-Repeated", "first"], ["X-Other", "o"], ["x-repeated", "second"]]),
    dict(name="unsignable headers left out", method="GET", host="example.amazonaws.com",
         service="service", region="us-east-1",
         headers=[["User-Agent", "berth/0.1"], ["Expect", "100-continue"], ["X-Amzn-Trace-Id", "Root=1"],
                  ["Connection", "keep-alive"], ["X-Kept", "yes"]]),
    dict(name="path with spaces", method="GET", host="example.amazonaws.com", service="service",
         region="us-east-1", path="/my folder/file name.txt"),
    dict(name="path with unicode", method="GET", host="example.amazonaws.com", service="service",
         region="us-east-1", path="/ünïcödé/日本/☃"),
    dict(name="path with dot segments and double slashes", method="GET", host="example.amazonaws.com",
         service="service", region="us-east-1", path="/a/./b/../c//d/"),
    dict(name="path with reserved characters", method="GET", host="example.amazonaws.com",
         service="service", region="us-east-1", path="/a+b/c=d/e:f/@g/$h"),
    dict(name="large body", method="PUT", host="example.amazonaws.com", service="service",
         region="ap-southeast-2", headers=[["Content-Type", "application/octet-stream"]],
         body={"repeat": "0123456789abcdef", "count": 65536}),
    dict(name="non default port in host", method="POST", host="127.0.0.1", port=5000, scheme="http",
         service="ecs", region="us-east-1",
         headers=[["Content-Type", "application/x-amz-json-1.1"],
                  ["X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListClusters"]],
         body="{}"),
    dict(name="explicit content sha256 header is the payload hash", method="PUT",
         host="bucket.s3.amazonaws.com", service="s3", region="us-east-1",
         headers=[["X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"]], body="ignored"),
    dict(name="china partition", method="POST", host="ecs.cn-north-1.amazonaws.com.cn", service="ecs",
         region="cn-north-1", headers=[["Content-Type", "application/x-amz-json-1.1"]], body="{}"),
    dict(name="govcloud partition", method="POST", host="sts.us-gov-west-1.amazonaws.com", service="sts",
         region="us-gov-west-1", credentials="temporary",
         headers=[["Content-Type", "application/x-www-form-urlencoded; charset=utf-8"]],
         body="Action=GetCallerIdentity&Version=2011-06-15"),
    dict(name="presigned get caller identity", presign=True, expires=900, method="GET",
         host="sts.us-east-1.amazonaws.com", service="sts", region="us-east-1",
         query=[["Action", "GetCallerIdentity"], ["Version", "2011-06-15"]]),
    dict(name="presigned with temporary credentials", presign=True, expires=3600, method="GET",
         host="example.amazonaws.com", service="service", region="eu-central-1", credentials="temporary",
         path="/some path/ü", query=[["key", "value with space"], ["other", "a/b"]]),
    dict(name="presigned signs extra headers", presign=True, expires=60, method="GET",
         host="example.amazonaws.com", service="service", region="us-east-1",
         headers=[["X-Amz-Meta-Thing", "  spaced   value "]]),
]


def recording(auth):
    """Keep the canonical request botocore builds while signing, for readable test failures."""
    original = auth.canonical_request
    seen = []

    def record(request):
        text = original(request)
        seen.append(text)
        return text

    auth.canonical_request = record
    return seen


def sign(case):
    credentials = TEMPORARY if case.get("credentials") == "temporary" else KEYS
    scheme = case.get("scheme", "https")
    netloc = case["host"] + (f":{case['port']}" if "port" in case else "")
    wire_path = quote(case.get("path", "/"), safe="/~")
    url = f"{scheme}://{netloc}{wire_path}"
    body = body_of(case.get("body"))
    params = [tuple(pair) for pair in case.get("query", [])]
    request = AWSRequest(method=case["method"], url=url, data=body, params=params if not case.get("presign") else dict(params))
    for name, value in case.get("headers", []):
        request.headers[name] = value  # email-style headers: a repeated name is added, not replaced
    boto_credentials = Credentials(credentials["accessKeyID"], credentials["secretAccessKey"],
                                   credentials.get("sessionToken"))
    vector = {
        "name": case["name"], "method": case["method"], "scheme": scheme, "host": case["host"],
        "port": case.get("port"), "path": wire_path, "query": case.get("query", []),
        "headers": case.get("headers", []), "body": case.get("body"),
        "payloadHash": hashlib.sha256(body).hexdigest(), "region": case["region"],
        "service": case["service"], "credentials": credentials,
        "date": FIXED.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if case.get("presign"):
        auth = botocore.auth.SigV4QueryAuth(boto_credentials, case["service"], case["region"],
                                            expires=case["expires"])
        seen = recording(auth)
        auth.add_auth(request)
        vector["expires"] = case["expires"]
        vector["expected"] = {"presignedQuery": request.url.split("?", 1)[1], "canonicalRequest": seen[0]}
    else:
        auth = botocore.auth.SigV4Auth(boto_credentials, case["service"], case["region"])
        seen = recording(auth)
        auth.add_auth(request)
        added = {name: request.headers[name] for name in ("X-Amz-Date", "X-Amz-Security-Token", "Authorization")
                 if name in request.headers}
        vector["expected"] = {"headers": added, "canonicalRequest": seen[0]}
    return vector


def main():
    out = os.path.join(os.path.dirname(__file__), "..", "Tests", "AWSSigV4Tests", "Vectors", "sigv4.json")
    vectors = {"generator": f"botocore {botocore.__version__}", "vectors": [sign(case) for case in CASES]}
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(vectors, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    print(f"wrote {len(vectors['vectors'])} vectors to {os.path.normpath(out)}", file=sys.stderr)


if __name__ == "__main__":
    main()
