#!/usr/bin/env python3
"""Writes the shipped spec with N added operations, as JSON, for the scale
benchmark (benches/scale.sh).

Each added operation is a copy of the employee listing (even N) or the
customer listing (odd N) at its own path, with its own operationId, CLI
command and its own copies of every object schema it reaches (request
envelope, params, response envelope, page, item): real endpoints have
their own records, so the generator sees N times the records, not N
references to the same ones. Plain schemas (AppId, PhoneNumber, ...) and
the examples stay shared.

Usage: spec.py SPEC N OUT
"""

import copy
import json
import sys

import yaml

REF = "#/components/schemas/"
SOURCES = ["/wecom/employee/page", "/wecom/customer/list"]


def refs(node, found):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF):
            found.add(ref[len(REF):])
        for child in node.values():
            refs(child, found)
    elif isinstance(node, list):
        for child in node:
            refs(child, found)


def reached_objects(schemas, op):
    """The object schemas (with properties) the operation reaches."""
    seen, queue = set(), set()
    refs(op, queue)
    while queue:
        name = queue.pop()
        if name in seen:
            continue
        seen.add(name)
        refs(schemas.get(name, {}), queue)
    return sorted(n for n in seen if "properties" in schemas.get(n, {}))


def renamed(node, names):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(REF):
                name = value[len(REF):]
                out[key] = REF + names.get(name, name)
            else:
                out[key] = renamed(value, names)
        return out
    if isinstance(node, list):
        return [renamed(child, names) for child in node]
    return node


def main():
    spec_path, n, out_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(spec_path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    schemas = doc["components"]["schemas"]
    for i in range(1, n + 1):
        source = SOURCES[i % 2]
        op = doc["paths"][source]["post"]
        suffix = f"Scale{i}"
        names = {name: name + suffix for name in reached_objects(schemas, op)}
        for name, new in names.items():
            schemas[new] = renamed(copy.deepcopy(schemas[name]), names)
        new_op = renamed(copy.deepcopy(op), names)
        new_op["operationId"] = op["operationId"] + suffix
        new_op["x-cli-command"] = f"{op.get('x-cli-command', 'op')}-scale-{i}"
        # Their own tag, so that a build selecting `tag-wecom` (scale.sh
        # --features) compiles the shipped operations only.
        new_op["tags"] = ["scale"]
        # Examples are written for the shipped operations' records; the
        # copies' are identical in shape, so the shared ones still apply.
        doc["paths"][f"/scale/{i}{source}"] = {"post": new_op}
    if n:
        doc.setdefault("tags", []).append(
            {"name": "scale", "description": "Operations added by the scale benchmark."}
        )
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
