#!/usr/bin/env bash
# The scale benchmark (issue #22): how the `shiheng` crate's build grows
# with the spec. For N added operations (copies of the employee and
# customer listings, each with its own records: benches/scale/spec.py) it
# builds the library against that spec and reports, per profile:
# - the whole rebuild of the `shiheng` library (CARGO_INCREMENTAL=0,
#   dependencies and the build script already built and run): wall time and
#   CPU time (user+system; steadier than wall time on a shared machine);
# - the peak memory (max RSS) of that rustc process, not cargo's;
# - the generated Rust in OUT_DIR, and its bytes per added operation.
#
# Usage: benches/scale.sh [--smoke] [--ns "0 100 300"] [--profiles "debug release incremental"]
#                         [--features "tls-ring,tag-wecom"]
#   --features: build with these features and no default ones; the added
#            operations are tagged `scale`, so `tag-wecom` measures a
#            service that selects the shipped operations of a large spec.
#   --smoke: N = 0 and 5, debug only (CI: proves the benchmark and a
#            grown spec build, in about the time of two library builds).
#   profile `incremental`: a debug build with incremental compilation (a
#            developer's default), measured after an edit of the spec (one
#            operation's summary changed) with the cache of the build before
#            it: what `cargo build` costs after a spec edit.
# The builds use target/scale (CARGO_TARGET_DIR) so that the benchmark's
# specs never invalidate the ordinary target directory.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
ns="0 100 300"
profiles="debug release"
features=""
while [ $# -gt 0 ]; do
    case "$1" in
    --smoke) ns="0 5"; profiles="debug" ;;
    --ns) ns="$2"; shift ;;
    --profiles) profiles="$2"; shift ;;
    --features) features="$2"; shift ;;
    -h | --help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "scale.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
command -v /usr/bin/time >/dev/null || { echo "scale.sh: needs /usr/bin/time (GNU time)" >&2; exit 2; }
python3 -c 'import yaml' 2>/dev/null || { echo "scale.sh: needs python3 with PyYAML" >&2; exit 2; }

export CARGO_INCREMENTAL=0
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/scale}"
export RUSTC_WORKSPACE_WRAPPER="$root/benches/scale/rustc-wrapper.sh"
work="$CARGO_TARGET_DIR/specs"
mkdir -p "$work"
export SCALE_TIMING_FILE="$work/timing"
base_ops=$(python3 -c 'import sys,yaml; d=yaml.safe_load(open(sys.argv[1])); print(sum(1 for p in d["paths"].values() for m in p if m in ("get","put","post","delete","patch")))' "$root/spec/shiheng-open.yaml")

rows=()
for profile in $profiles; do
    flag=()
    [ "$profile" = release ] && flag=(--release)
    incremental=0
    [ "$profile" = incremental ] && incremental=1
    [ -n "$features" ] && flag+=(--no-default-features --features "$features")
    gen0=""
    for n in $ns; do
        spec="$work/spec-$n.json"
        python3 "$root/benches/scale/spec.py" "$root/spec/shiheng-open.yaml" "$n" "$spec"
        export SHIHENG_SPEC="$spec"
        # Builds the dependencies and runs the build script (not measured),
        # then rebuilds the library alone, measured by the wrapper.
        (cd "$root" && CARGO_INCREMENTAL=$incremental cargo build -q -p shiheng --lib "${flag[@]}")
        if [ "$incremental" = 1 ]; then
            edited="$work/spec-$n-edited.json"
            python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); op=next(iter(next(iter(d["paths"].values())).values())); op["summary"]=op.get("summary","")+" (edited)"; json.dump(d,open(sys.argv[2],"w"))' "$spec" "$edited"
            export SHIHENG_SPEC="$edited"
        else
            touch "$root/src/lib.rs"
        fi
        rm -f "$SCALE_TIMING_FILE"
        # The build script's OUT_DIR, from cargo's messages: the newest file
        # would not do, since an unchanged output keeps its timestamp.
        out=$(cd "$root" && CARGO_INCREMENTAL=$incremental cargo build -q -p shiheng --lib "${flag[@]}" --message-format=json |
            python3 -c 'import json,re,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "build-script-executed" and re.search(r"/build/shiheng-[0-9a-f]+/out$", m["out_dir"]):
        print(m["out_dir"])')
        read -r wall user sys rss <"$SCALE_TIMING_FILE"
        gen=$(cat "$out"/*.rs | wc -c)
        json=$(wc -c <"$out/spec.json")
        [ -z "$gen0" ] && { gen0=$gen; n0=$n; }
        per="-"
        [ "$n" != "$n0" ] && per=$(((gen - gen0) / (n - n0)))
        cpu=$(echo "$user + $sys" | bc)
        rows+=("| $((base_ops + n)) | $profile | $wall | $cpu | $((rss / 1024)) | $((gen / 1024)) | $per | $((json / 1024)) |")
        echo "scale: $((base_ops + n)) operations, $profile: ${wall} s wall, ${cpu} s CPU, $((rss / 1024)) MB, $((gen / 1024)) KB generated" >&2
    done
done
echo
echo "| operations | profile | rebuild, wall (s) | rebuild, CPU (s) | rustc peak RSS (MB) | generated Rust (KB) | bytes per added operation | spec.json (KB) |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
