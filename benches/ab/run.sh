#!/usr/bin/env bash
# Times the DATA decoder of this checkout against the one of REV, in one process, the two
# taking turns every round: `benches/ab/run.sh REV [ROUNDS] [SHAPE...]`; or the command
# parser over the command corpus: `benches/ab/run.sh REV commands [ROUNDS]`. Prints the
# medians of the per-round time ratios (new / old; below 1, the checkout is faster),
# which the host's phases cancel out of, unlike figures from runs of two binaries.
set -euo pipefail
rev=${1:?usage: run.sh REV [ROUNDS] [SHAPE...]}
shift
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
old="$root/target/ab-old"
rm -rf "$old"
mkdir -p "$old"
git -C "$root" archive "$rev" | tar -x -C "$old"
sed -i '0,/^version = ".*"/s//version = "0.0.1"/' "$old/Cargo.toml"
cd "$here"
cargo build --release -q
grep -m1 'model name' /proc/cpuinfo || true
exec target/release/smtp-sansio-ab "$@"
