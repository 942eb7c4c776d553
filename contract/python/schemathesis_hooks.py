"""Schemathesis hooks for .ci/contract: sign the requests that schemathesis
generates, so that valid requests reach the sandbox's data and the success
responses (not just the signature errors) are checked against the spec.

A request is signed only when its envelope fields are already valid per the
spec (non-empty strings, a non-negative integer timestamp): those values are
replaced by other valid ones (the sandbox's appId, version "1.0", the
current time, a real sign), so a positive case stays positive and a negative case stays negative.
Loaded with SCHEMATHESIS_HOOKS=schemathesis_hooks (PYTHONPATH=contract/python).
"""

import os

import schemathesis

import shiheng_sign

APP_ID = os.environ.get("SHIHENG_APP_ID", "demo-app")
SECRET = os.environ.get("SHIHENG_APP_SECRET", "demo-secret")


def _valid_string(value):
    return isinstance(value, str) and value != ""


@schemathesis.hook
def before_call(context, case, kwargs):
    body = case.body
    if not isinstance(body, dict):
        return
    timestamp = body.get("timestamp")
    if not (
        _valid_string(body.get("appId"))
        and _valid_string(body.get("sign"))
        and _valid_string(body.get("version"))
        and isinstance(timestamp, int)
        and not isinstance(timestamp, bool)
        and 0 <= timestamp <= 2**63 - 1
    ):
        return
    signed = shiheng_sign.envelope(APP_ID, SECRET, body.get("paramContent"))
    if "paramContent" in body and body["paramContent"] is None:
        signed["paramContent"] = None
    body.update(signed)
