#!/usr/bin/env python3
"""The crate's hand-written public API as text, one item per line, from
rustdoc's JSON (`cargo rustdoc -- -Zunstable-options --output-format json`,
which stable rustdoc produces under RUSTC_BOOTSTRAP=1).

Usage: public_api.py target/doc/shiheng.json > api.txt

Listed: every public module, struct (with its public fields), enum (with
its variants), trait (with its methods), function, constant, re-export, the
inherent methods of public types with their signatures, and the traits
each public type implements (auto traits and blanket impls left out). The
generated modules (`generated`, `operations`) are left out: their code is
kept as snapshots (tests/snapshots). `.ci/public-api` diffs this against
the committed api/public-api.txt, so a change to the public API is a
reviewable diff, and an accidental one fails CI.
"""

import json
import sys

SKIPPED_MODULES = {"generated", "operations"}
AUTO_TRAITS = {
    "Send", "Sync", "Unpin", "UnwindSafe", "RefUnwindSafe", "Freeze", "StructuralPartialEq",
}


def main() -> None:
    doc = json.load(open(sys.argv[1], encoding="utf-8"))
    index = doc["index"]
    root = index[str(doc["root"])]
    out: list[str] = []
    walk_module(index, root, "shiheng", out)
    print("\n".join(sorted(set(out))))


def walk_module(index, module, path, out):
    for item_id in module["inner"]["module"]["items"]:
        item = index.get(str(item_id))
        if item is None or item.get("visibility") != "public":
            continue
        if is_hidden(item):
            continue
        name = item.get("name")
        inner = item["inner"]
        kind = next(iter(inner))
        here = f"{path}::{name}" if name else path
        if kind == "module":
            if name in SKIPPED_MODULES:
                out.append(f"mod {here} (generated; see tests/snapshots)")
                continue
            out.append(f"mod {here}")
            walk_module(index, item, here, out)
        elif kind == "use":
            use = inner["use"]
            glob = "::*" if use.get("is_glob") else ""
            alias = "" if use.get("is_glob") or use["name"] == use["source"].split("::")[-1] else f" as {use['name']}"
            out.append(f"use {path}::{{{use['source']}{glob}{alias}}}")
        elif kind == "struct":
            out.append(f"struct {here}{generics(inner['struct'].get('generics'))}{non_exhaustive(item)}")
            struct_kind = inner["struct"]["kind"]
            fields = []
            if isinstance(struct_kind, dict) and "plain" in struct_kind:
                fields = struct_kind["plain"]["fields"]
            elif isinstance(struct_kind, dict) and "tuple" in struct_kind:
                fields = [f for f in struct_kind["tuple"] if f is not None]
            for field_id in fields:
                field = index.get(str(field_id))
                if field and field.get("visibility") == "public" and not is_hidden(field):
                    out.append(f"field {here}.{field['name']}: {ty(field['inner']['struct_field'])}")
            impls(index, inner["struct"].get("impls", []), here, out)
        elif kind == "enum":
            out.append(f"enum {here}{generics(inner['enum'].get('generics'))}{non_exhaustive(item)}")
            for variant_id in inner["enum"]["variants"]:
                variant = index.get(str(variant_id))
                if variant and not is_hidden(variant):
                    out.append(f"variant {here}::{variant['name']}{variant_fields(index, variant)}")
            impls(index, inner["enum"].get("impls", []), here, out)
        elif kind == "trait":
            out.append(f"trait {here}{generics(inner['trait'].get('generics'))}")
            for member_id in inner["trait"]["items"]:
                member = index.get(str(member_id))
                if member is None or is_hidden(member):
                    continue
                member_kind = next(iter(member["inner"]))
                if member_kind == "function":
                    out.append(f"trait fn {here}::{signature(member)}")
                elif member_kind == "assoc_const":
                    out.append(f"trait const {here}::{member['name']}: {ty(member['inner']['assoc_const']['type'])}")
                elif member_kind == "assoc_type":
                    out.append(f"trait type {here}::{member['name']}")
        elif kind == "function":
            out.append(f"fn {path}::{signature(item)}")
        elif kind == "constant":
            out.append(f"const {here}: {ty(inner['constant']['type'])}")
        elif kind == "static":
            out.append(f"static {here}: {ty(inner['static']['type'])}")
        elif kind == "type_alias":
            out.append(f"type {here} = {ty(inner['type_alias']['type'])}")
        elif kind == "macro":
            out.append(f"macro {here}!")
        else:
            out.append(f"{kind} {here}")


def impls(index, impl_ids, owner, out):
    for impl_id in impl_ids:
        impl = index.get(str(impl_id))
        if impl is None:
            continue
        data = impl["inner"]["impl"]
        if data.get("is_synthetic") or data.get("blanket_impl") is not None:
            continue
        trait = data.get("trait")
        if trait is not None:
            name = trait["path"].split("::")[-1]
            if name not in AUTO_TRAITS:
                out.append(f"impl {ty({'resolved_path': trait})} for {owner}")
            continue
        for member_id in data["items"]:
            member = index.get(str(member_id))
            if member is None or member.get("visibility") != "public" or is_hidden(member):
                continue
            member_kind = next(iter(member["inner"]))
            if member_kind == "function":
                out.append(f"fn {owner}::{signature(member)}")
            elif member_kind == "assoc_const":
                out.append(f"const {owner}::{member['name']}: {ty(member['inner']['assoc_const']['type'])}")


def is_hidden(item) -> bool:
    attrs = item.get("attrs") or []
    return any("hidden" in (a if isinstance(a, str) else json.dumps(a)) for a in attrs)


def non_exhaustive(item) -> str:
    attrs = item.get("attrs") or []
    return " #[non_exhaustive]" if any("non_exhaustive" in (a if isinstance(a, str) else json.dumps(a)) for a in attrs) else ""


def variant_fields(index, variant) -> str:
    kind = variant["inner"]["variant"]["kind"]
    if kind == "plain":
        return ""
    if "tuple" in kind:
        types = []
        for field_id in kind["tuple"]:
            field = index.get(str(field_id)) if field_id is not None else None
            types.append(ty(field["inner"]["struct_field"]) if field else "_")
        return "(" + ", ".join(types) + ")"
    if "struct" in kind:
        names = []
        for field_id in kind["struct"]["fields"]:
            field = index.get(str(field_id))
            if field:
                names.append(f"{field['name']}: {ty(field['inner']['struct_field'])}")
        return " { " + ", ".join(names) + " }"
    return ""


def signature(item) -> str:
    function = item["inner"]["function"]
    sig = function["sig"]
    params = ", ".join(self_param(t) if name == "self" else f"{name}: {ty(t)}" for name, t in sig["inputs"])
    output = f" -> {ty(sig['output'])}" if sig.get("output") else ""
    header = function.get("header") or {}
    prefix = ("async " if header.get("is_async") else "") + ("const " if header.get("is_const") else "")
    return f"{prefix}{item['name']}{generics(function.get('generics'))}({params}){output}"


def self_param(t) -> str:
    if t == {"generic": "Self"}:
        return "self"
    if "borrowed_ref" in t and t["borrowed_ref"]["type"] == {"generic": "Self"}:
        return "&mut self" if t["borrowed_ref"].get("is_mutable") else "&self"
    return f"self: {ty(t)}"


def generics(g) -> str:
    if not g:
        return ""
    params = []
    for p in g.get("params", []):
        kind = p["kind"]
        if "lifetime" in kind:
            params.append(p["name"])
        elif "type" in kind:
            if kind["type"].get("is_synthetic"):
                continue
            bounds = " + ".join(bound(b) for b in kind["type"].get("bounds", []))
            params.append(p["name"] + (f": {bounds}" if bounds else ""))
        elif "const" in kind:
            params.append(f"const {p['name']}: {ty(kind['const']['type'])}")
    return f"<{', '.join(params)}>" if params else ""


def bound(b) -> str:
    if "trait_bound" in b:
        return ty({"resolved_path": b["trait_bound"]["trait"]})
    if "outlives" in b:
        return b["outlives"]
    if "use" in b:
        return "use<..>"
    return "?"


def args(a) -> str:
    if not a:
        return ""
    if "angle_bracketed" in a:
        parts = []
        for arg in a["angle_bracketed"].get("args", []):
            if "type" in arg:
                parts.append(ty(arg["type"]))
            elif "lifetime" in arg:
                parts.append(arg["lifetime"])
            elif "const" in arg:
                parts.append(str(arg["const"].get("expr", "_")))
            else:
                parts.append("_")
        for c in a["angle_bracketed"].get("constraints", []):
            binding = c.get("binding", {})
            if "equality" in binding and "type" in binding["equality"]:
                parts.append(f"{c['name']} = {ty(binding['equality']['type'])}")
            else:
                parts.append(c["name"])
        return f"<{', '.join(parts)}>" if parts else ""
    if "parenthesized" in a:
        inputs = ", ".join(ty(t) for t in a["parenthesized"]["inputs"])
        output = a["parenthesized"].get("output")
        return f"({inputs})" + (f" -> {ty(output)}" if output else "")
    return ""


def ty(t) -> str:
    if t is None:
        return "()"
    if "resolved_path" in t:
        p = t["resolved_path"]
        return p["path"].split("::")[-1] + args(p.get("args"))
    if "primitive" in t:
        return t["primitive"]
    if "generic" in t:
        return t["generic"]
    if "borrowed_ref" in t:
        r = t["borrowed_ref"]
        lifetime = f"{r['lifetime']} " if r.get("lifetime") else ""
        mutable = "mut " if r.get("is_mutable") else ""
        return f"&{lifetime}{mutable}{ty(r['type'])}"
    if "raw_pointer" in t:
        r = t["raw_pointer"]
        return f"*{'mut' if r.get('is_mutable') else 'const'} {ty(r['type'])}"
    if "tuple" in t:
        return "(" + ", ".join(ty(x) for x in t["tuple"]) + ")"
    if "slice" in t:
        return f"[{ty(t['slice'])}]"
    if "array" in t:
        return f"[{ty(t['array']['type'])}; {t['array']['len']}]"
    if "impl_trait" in t:
        return "impl " + " + ".join(bound(b) for b in t["impl_trait"])
    if "dyn_trait" in t:
        traits = " + ".join(ty({"resolved_path": x["trait"]}) for x in t["dyn_trait"]["traits"])
        return f"dyn {traits}"
    if "qualified_path" in t:
        q = t["qualified_path"]
        trait = q.get("trait")
        owner = ty(q["self_type"])
        trait_name = ty({"resolved_path": trait}) if trait and trait.get("path") else ""
        return f"<{owner} as {trait_name}>::{q['name']}" if trait_name else f"{owner}::{q['name']}"
    if "function_pointer" in t:
        sig = t["function_pointer"]["sig"]
        inputs = ", ".join(ty(x) for _, x in sig["inputs"])
        output = f" -> {ty(sig['output'])}" if sig.get("output") else ""
        return f"fn({inputs}){output}"
    return "_"


if __name__ == "__main__":
    main()
