"""Lists every employee of a running Shiheng sandbox (or platform) through a
Python client that openapi-python-client generated from spec/shiheng-open.yaml,
signing each request with shiheng_sign (stdlib hashlib/json, written from the
platform's signature rule, not from the Rust code).

    python list_employees.py --client-dir DIR --base-url URL [--vectors PATH]

DIR holds the generated package `shiheng_open_client`. The credentials come
from SHIHENG_APP_ID and SHIHENG_APP_SECRET (default: the sandbox's demo-app /
demo-secret). Exits 0 and prints a summary when every page was listed and the
count matches the platform's `total`; 1 with one line on stderr otherwise.
"""

import argparse
import os
import sys

import shiheng_sign

# Ids are 64-bit; Python's int holds them exactly. This one is above 2^53.
ABOVE_2_POW_53 = 9_007_199_254_740_993
PAGE_SIZE = 50
MAX_PAGES = 10_000


def fail(message):
    print(f"list_employees: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client-dir", required=True, help="directory holding shiheng_open_client")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--vectors", help="tests/fixtures/sign-vectors.json: check the signer first")
    args = parser.parse_args()
    app_id = os.environ.get("SHIHENG_APP_ID", "demo-app")
    secret = os.environ.get("SHIHENG_APP_SECRET", "demo-secret")

    if args.vectors:
        checked = shiheng_sign.check_vectors(args.vectors)
        print(f"signer: {checked} sign vectors match")

    sys.path.insert(0, args.client_dir)
    from shiheng_open_client import Client
    from shiheng_open_client.api.wecom import list_wecom_employees
    from shiheng_open_client.models import ListWecomEmployeesRequest, ListWecomEmployeesResponse
    from shiheng_open_client.types import Unset

    client = Client(base_url=args.base_url, raise_on_unexpected_status=True, timeout=30.0)
    employees, seen, total, page = [], set(), None, 1
    while page <= MAX_PAGES:
        params = {"pageNum": page, "pageSize": PAGE_SIZE}
        body = ListWecomEmployeesRequest.from_dict(shiheng_sign.envelope(app_id, secret, params))
        response = list_wecom_employees.sync_detailed(client=client, body=body)
        envelope = response.parsed
        if not isinstance(envelope, ListWecomEmployeesResponse):
            fail(f"page {page}: HTTP {response.status_code}: {response.content[:200]!r}")
        if envelope.code != "0":
            fail(f"page {page}: code {envelope.code} {envelope.msg!r} (traceId {envelope.trace_id})")
        result = envelope.result
        if result is None or isinstance(result, Unset):
            fail(f"page {page}: no result")
        items = [] if isinstance(result.result, Unset) or result.result is None else result.result
        if not isinstance(result.total, Unset) and result.total is not None:
            total = result.total
        for employee in items:
            if employee.id not in seen:
                seen.add(employee.id)
                employees.append(employee)
        pages = result.pages if isinstance(result.pages, int) else 0
        if not items or page >= pages:
            break
        page += 1
    else:
        fail(f"more than {MAX_PAGES} pages")

    if total is None or len(employees) != total:
        fail(f"listed {len(employees)} employees, the platform reports {total}")
    statuses = sorted({e.status for e in employees if isinstance(e.status, int)})
    largest = max((e.id for e in employees if isinstance(e.id, int)), default=None)
    print(f"python client: {len(employees)} employees in {page} pages (total {total}), statuses {statuses}")
    if largest is not None and largest >= ABOVE_2_POW_53:
        print(f"largest id {largest}: above 2^53, exact")


if __name__ == "__main__":
    main()
