#!/usr/bin/env python3
"""Counts Rust code lines: not blank, not comments, not inside #[cfg(test)]
items (unit-test modules). Used to measure the hand-written SDK:

    python3 .ci/sloc.py src            # the SDK
    V=1 python3 .ci/sloc.py src        # per file
    python3 .ci/sloc.py crates/shiheng-cli/src
"""
import sys, os, re
def count(path):
    lines = open(path, encoding='utf-8').read().split('\n')
    n = 0; i = 0; in_block = 0
    skip_depth = None; depth = 0; pending_test = False
    for line in lines:
        s = line.strip()
        if in_block:
            if '*/' in s: in_block = 0
            continue
        if s.startswith('/*'):
            if '*/' not in s: in_block = 1
            continue
        if skip_depth is not None:
            depth += line.count('{') - line.count('}')
            if depth <= skip_depth: skip_depth = None
            continue
        if s.startswith('#[cfg(test)]'):
            pending_test = True; continue
        if pending_test:
            if s.startswith('#['): continue
            pending_test = False
            opened = line.count('{') - line.count('}')
            if opened > 0:
                skip_depth = depth; depth += opened
            continue
        if not s or s.startswith('//'): continue
        depth += line.count('{') - line.count('}')
        n += 1
    return n
total = 0
for root in sys.argv[1:]:
    files = [root] if os.path.isfile(root) else [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith('.rs')]
    for f in sorted(files):
        c = count(f); total += c
        if os.environ.get('V'): print(f"{c:6d} {f}")
print(total)
