#!/bin/sh
# RUSTC_WORKSPACE_WRAPPER of the scale benchmark (benches/scale.sh): runs
# the compilation of the `shiheng` library under /usr/bin/time, writing
# "elapsed user system maxrss_kb" to $SCALE_TIMING_FILE; every other
# compilation runs as it would without the wrapper.
rustc="$1"
shift
case " $* " in
*" --crate-name shiheng "*"--crate-type lib"*)
    exec /usr/bin/time -f "%e %U %S %M" -o "$SCALE_TIMING_FILE" "$rustc" "$@"
    ;;
esac
exec "$rustc" "$@"
