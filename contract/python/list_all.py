"""Lists every employee, customer and customer group chat of a running Shiheng
sandbox (or platform) through a Python client generated from
spec/shiheng-open.yaml, signing each request with shiheng_sign (stdlib
hashlib/json, written from the platform's signature rule, not from the Rust
code). Two generators' clients are supported:

    python list_all.py --generator openapi-python-client --client-dir DIR --base-url URL [--vectors PATH]
    python list_all.py --generator openapi-generator --client-dir DIR --base-url URL [--vectors PATH]

DIR holds the generated package: `shiheng_open_client` (openapi-python-client)
or `shiheng_og` (openapi-generator's `python` generator). The credentials come
from SHIHENG_APP_ID and SHIHENG_APP_SECRET (default: the sandbox's demo-app /
demo-secret). Prints a summary and a fingerprint line (counts and SHA-256 of
the ids and phones as text, in the same form as the Java and TypeScript
clients, so .ci/contract can compare them); exits 1 with one line on stderr
when anything is missing or inexact.
"""

import argparse
import hashlib
import os
import sys

import shiheng_sign

# Ids are 64-bit; Python's int holds them exactly. This one is above 2^53.
ABOVE_2_POW_53 = 9_007_199_254_740_993
# A client that reads phones as numbers turns this into 13577770002.
LEADING_ZERO_PHONE = "013577770002"
MAX_PAGES = 10_000


class Failure(Exception):
    pass


def settle(what, envelope):
    """The envelope's result, or a Failure quoting code, msg and traceId."""
    if envelope is None:
        raise Failure(f"{what}: no envelope")
    if envelope.code != "0":
        raise Failure(f"{what}: code {envelope.code} {envelope.msg!r} (traceId {envelope.trace_id})")
    return envelope.result


def present(value):
    """None for a field that is null or absent (openapi-python-client's Unset)."""
    return None if value is None or type(value).__name__ == "Unset" else value


class OpenApiPythonClient:
    """openapi-python-client: `sync_detailed(client=..., body=...)` per operation."""

    name = "openapi-python-client"

    def __init__(self, base_url):
        from shiheng_open_client import Client
        from shiheng_open_client.api.wecom import (
            list_wecom_customers,
            list_wecom_employees,
            list_wecom_group_chats,
        )
        from shiheng_open_client import models

        self.client = Client(base_url=base_url, raise_on_unexpected_status=True, timeout=30.0)
        self.calls = {
            "employees": (list_wecom_employees, models.ListWecomEmployeesRequest),
            "customers": (list_wecom_customers, models.ListWecomCustomersRequest),
            "groupChats": (list_wecom_group_chats, models.ListWecomGroupChatsRequest),
        }

    def call(self, operation, envelope):
        module, request = self.calls[operation]
        response = module.sync_detailed(client=self.client, body=request.from_dict(envelope))
        if response.status_code != 200:
            raise Failure(f"{operation}: HTTP {response.status_code}: {response.content[:200]!r}")
        return response.parsed

    @staticmethod
    def phone(item):
        # PhoneNumber is `str | int | None | Unset`: the string as sent or the int.
        phone = present(item.phone)
        return None if phone is None else str(phone)


class OpenApiGenerator:
    """openapi-generator's `python` generator (pydantic v2): one method per operation on WecomApi."""

    name = "openapi-generator python"

    def __init__(self, base_url):
        from shiheng_og import ApiClient, Configuration
        from shiheng_og.api.wecom_api import WecomApi
        from shiheng_og import models

        api = WecomApi(ApiClient(Configuration(host=base_url)))
        self.calls = {
            "employees": (api.list_wecom_employees, models.ListWecomEmployeesRequest),
            "customers": (api.list_wecom_customers, models.ListWecomCustomersRequest),
            "groupChats": (api.list_wecom_group_chats, models.ListWecomGroupChatsRequest),
        }

    def call(self, operation, envelope):
        method, request = self.calls[operation]
        return method(request.from_dict(envelope), _request_timeout=30.0)

    @staticmethod
    def phone(item):
        # PhoneNumber is an anyOf model: actual_instance is the str as sent or the int.
        phone = item.phone
        return None if phone is None or phone.actual_instance is None else str(phone.actual_instance)


def list_employees(client, app_id, secret):
    employees, seen, total = [], set(), None
    for page in range(1, MAX_PAGES + 1):
        envelope = shiheng_sign.envelope(app_id, secret, {"pageNum": page, "pageSize": 50})
        result = settle(f"listWecomEmployees page {page}", client.call("employees", envelope))
        if present(result) is None:
            raise Failure(f"listWecomEmployees page {page}: no result")
        total = present(result.total)
        items = present(result.result) or []
        for employee in items:
            if employee.id not in seen:
                seen.add(employee.id)
                employees.append(employee)
        pages = present(result.pages)
        if not items or pages is None or page >= pages:
            break
    else:
        raise Failure(f"more than {MAX_PAGES} pages of employees")
    if total is None or len(employees) != total:
        raise Failure(f"listed {len(employees)} employees, the platform reports {total}")
    return employees


def list_by_cursor(client, operation, name, app_id, secret):
    """Every item; ids must rise past the cursor, or items would be skipped or repeated."""
    items, cursor = [], 0
    for _ in range(MAX_PAGES):
        envelope = shiheng_sign.envelope(app_id, secret, {"startId": cursor, "pageSize": 100})
        result = present(settle(f"{name} startId {cursor}", client.call(operation, envelope)))
        for item in (present(result.result) if result is not None else None) or []:
            if not isinstance(item.id, int) or item.id <= cursor:
                raise Failure(f"{name}: id {item.id} does not follow the cursor {cursor}")
            cursor = item.id
            items.append(item)
        next_start = present(result.next_start_id) if result is not None else None
        if next_start is None:
            return items
        cursor = next_start
    raise Failure(f"{name}: more than {MAX_PAGES} pages")


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", required=True, choices=["openapi-python-client", "openapi-generator"])
    parser.add_argument("--client-dir", required=True, help="directory holding the generated package")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--vectors", help="tests/fixtures/sign-vectors.json: check the signer first")
    args = parser.parse_args()
    app_id = os.environ.get("SHIHENG_APP_ID") or "demo-app"
    secret = os.environ.get("SHIHENG_APP_SECRET") or "demo-secret"

    if args.vectors:
        checked = shiheng_sign.check_vectors(args.vectors)
        print(f"signer: {checked} sign vectors match (string to sign, sign, uppercase sign)")

    sys.path.insert(0, args.client_dir)
    flavour = OpenApiPythonClient if args.generator == "openapi-python-client" else OpenApiGenerator
    client = flavour(args.base_url)
    employees = list_employees(client, app_id, secret)
    customers = list_by_cursor(client, "customers", "listWecomCustomers", app_id, secret)
    chats = list_by_cursor(client, "groupChats", "listWecomGroupChats", app_id, secret)

    ids = [[item.id for item in table] for table in (employees, customers, chats)]
    if any(ABOVE_2_POW_53 not in table for table in ids):
        raise Failure(f"id {ABOVE_2_POW_53} is missing: 64-bit ids were not kept exact")
    phones = [[client.phone(item) for item in table] for table in (employees, customers)]
    if any(LEADING_ZERO_PHONE not in table for table in phones):
        raise Failure(f"phone {LEADING_ZERO_PHONE} did not survive as text")
    statuses = sorted({e.status for e in employees if isinstance(e.status, int)})
    print(
        f"python client ({flavour.name}): {len(employees)} employees (statuses {statuses}), "
        f"{len(customers)} customers, {len(chats)} group chats; id {ABOVE_2_POW_53} exact in each; "
        f"phone {LEADING_ZERO_PHONE} kept as text"
    )

    def join(values):
        return ",".join("null" if v is None else str(v) for v in values)

    id_text = f"employees {join(ids[0])}\ncustomers {join(ids[1])}\ngroupChats {join(ids[2])}"
    phone_text = f"employees {join(phones[0])}\ncustomers {join(phones[1])}"
    print(
        f"fingerprint: employees={len(employees)} customers={len(customers)} groupChats={len(chats)} "
        f"ids={sha256(id_text)} phones={sha256(phone_text)}"
    )


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"python client: {e}", file=sys.stderr)
        sys.exit(1)
