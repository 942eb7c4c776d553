"""The Shiheng Open Platform's default request signature, written from
shared/platform/signature.md (the spec's info.description says the same) with
the standard library only: an implementation independent of the Rust crate.

    sign = md5(sorted "name=value" pairs joined by "&" + secret), lowercase hex

where paramContent is canonical JSON (keys sorted at every depth, compact,
non-ASCII as itself, integers as their digits at any size: Python's int is
exact, and json reads -0 as the int 0, written 0).
"""

import hashlib
import json
import time


def canonical_json(value):
    """Compact JSON, object keys sorted at every depth, non-ASCII kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def string_to_sign(app_id, timestamp, version, param_content=None):
    """The text before the secret: parameters sorted by name, as name=value joined by &."""
    params = {"appId": app_id, "timestamp": str(timestamp), "version": version}
    if param_content is not None:
        params["paramContent"] = canonical_json(param_content)
    return "&".join(f"{name}={params[name]}" for name in sorted(params))


def sign(app_id, secret, timestamp, version, param_content=None):
    """The `sign` field: lowercase hex MD5 of the string to sign + the secret."""
    text = string_to_sign(app_id, timestamp, version, param_content) + secret
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def envelope(app_id, secret, param_content=None, version="1.0", timestamp=None):
    """A signed request envelope, ready to POST as JSON."""
    if timestamp is None:
        timestamp = int(time.time() * 1000)
    body = {"appId": app_id, "version": version, "timestamp": timestamp}
    if param_content is not None:
        body["paramContent"] = param_content
    body["sign"] = sign(app_id, secret, timestamp, version, param_content)
    return body


def check_vectors(path):
    """Asserts every case of sign-vectors.json; returns how many were checked."""
    with open(path, encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    for case in cases:
        params = case.get("paramContent")
        if "paramContentText" in case:
            # The exact text sent (integers beyond 64 bits, -0): parsed as a receiver would.
            params = json.loads(case["paramContentText"])
        args = (case["appId"], case["timestamp"], case["version"], params)
        got = string_to_sign(*args)
        if got != case["stringToSign"]:
            raise AssertionError(f"{case['name']}: string to sign {got!r} != {case['stringToSign']!r}")
        got = sign(case["appId"], case["appSecret"], *args[1:])
        if got != case["sign"]:
            raise AssertionError(f"{case['name']}: sign {got} != {case['sign']}")
    return len(cases)
