#!/usr/bin/env python3
"""Lines of LLVM IR per function (generic instantiations grouped), the
measure of what the compiler's code generation spends its time on: what
`cargo llvm-lines` reports, without installing it. See
docs/generated-code.md ("Finding what dominates").

Usage: llvm-lines.py FILE.ll [COUNT]
"""
import re, sys, collections
lines = collections.Counter(); copies = collections.Counter()
def demangle(s):
    if not s.startswith('_ZN'): return s
    i=3; parts=[]
    while i < len(s) and s[i] != 'E':
        j=i
        while s[j].isdigit(): j+=1
        if j==i: break
        n=int(s[i:j]); parts.append(s[j:j+n]); i=j+n
    if parts and re.fullmatch(r'h[0-9a-f]{16}', parts[-1]): parts=parts[:-1]
    name='::'.join(parts)
    for a,b in [('$LT$','<'),('$GT$','>'),('$u20$',' '),('$C$',','),('$RF$','&'),('..','::'),('$u7b$','{'),('$u7d$','}'),('$BP$','*')]:
        name=name.replace(a,b)
    return name
cur=None; cnt=0
with open(sys.argv[1], errors='replace') as f:
    for line in f:
        if cur is None:
            if line.startswith('define '):
                m=re.search(r'@"?([^"(]+)"?\(', line)
                cur=demangle(m.group(1)) if m else '?'; cnt=0
        else:
            cnt+=1
            if line.startswith('}'):
                lines[cur]+=cnt; copies[cur]+=1; cur=None
tot=sum(lines.values())
print('total', tot, 'functions', sum(copies.values()))
for name,n in lines.most_common(int(sys.argv[2]) if len(sys.argv) > 2 else 60):
    print(f'{n:9d} {100*n/tot:5.1f}% {copies[name]:6d}  {name[:150]}')
