#!/usr/bin/env python3
"""Signs requests with botocore's S3 Signature Version 4, as the reference for S3Tests.

Reads a JSON list of requests on stdin: method, path and query (not encoded), host, headers,
body (hex), whether the payload is signed, the time (seconds since 1970), credentials and region.
Prints a JSON list with the headers botocore adds to each (lower-cased names).
"""
import datetime
import json
import sys
import urllib.parse

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials


def sign(case):
    fixed = datetime.datetime.fromtimestamp(case["time"], datetime.timezone.utc).replace(tzinfo=None)
    botocore.auth.get_current_datetime = lambda: fixed
    path = urllib.parse.quote(case["path"], safe="/-_.~")
    query = "&".join(
        urllib.parse.quote(name, safe="-_.~") + "=" + urllib.parse.quote(value, safe="-_.~")
        for name, value in case["query"]
    )
    url = "http://" + case["host"] + path + ("?" + query if query else "")
    body = bytes.fromhex(case["body"])
    request = AWSRequest(method=case["method"], url=url, data=body, headers=dict(case["headers"]))
    if not case["signedPayload"]:
        request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    credentials = Credentials(case["accessKeyID"], case["secretAccessKey"], case.get("sessionToken"))
    botocore.auth.S3SigV4Auth(credentials, "s3", case["region"]).add_auth(request)
    added = {}
    for name in ("Authorization", "X-Amz-Date", "X-Amz-Content-SHA256", "X-Amz-Security-Token"):
        if name in request.headers:
            added[name.lower()] = request.headers[name]
    return added


print(json.dumps([sign(case) for case in json.load(sys.stdin)]))
