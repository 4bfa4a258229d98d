#!/bin/sh
# Fuzz smoke run for CI (called from .ci/run).
#
# Builds every fuzz target. With a nightly toolchain and cargo-fuzz installed, also runs
# each target for FUZZ_SECONDS (default 60) on its seed corpus with the SMTP dictionary
# and prints one summary line per target. Exits non-zero if a build fails or any
# target crashes (the crash input is left in fuzz/artifacts/<target>/).
# Without nightly/cargo-fuzz the targets are only compiled (stable, no sanitizer).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
secs=${FUZZ_SECONDS:-60}
targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' "$here/Cargo.toml" | grep -v '^smtp-sansio-fuzz$')

if rustup toolchain list 2>/dev/null | grep -q '^nightly' && cargo +nightly fuzz --version >/dev/null 2>&1; then
    cd "$root" || exit 2
    if ! cargo +nightly fuzz build >/tmp/fuzz-ci-build.log 2>&1; then
        tail -30 /tmp/fuzz-ci-build.log
        echo "fuzz: BUILD FAILED"
        exit 1
    fi
    "$here/seeds.sh" >/dev/null
    status=0
    for t in $targets; do
        log=/tmp/fuzz-ci-$t.log
        mkdir -p "$here/corpus/$t"
        cargo +nightly fuzz run "$t" "$here/corpus/$t" -- \
            -max_total_time="$secs" -rss_limit_mb=2048 -dict="$here/dict/smtp.dict" \
            -print_final_stats=1 >"$log" 2>&1
        rc=$?
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -n 's/.*\(cov: [0-9]*\) \(ft: [0-9]*\).*/\1 \2/p')
        if [ "$rc" -eq 0 ]; then
            echo "fuzz $t: ok, ${execs:-?} execs in ${secs}s, ${cov:-no coverage line}"
        else
            art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
            echo "fuzz $t: CRASH (exit $rc), input ${art:-?}, log $log"
            grep -m1 -A2 'panicked' "$log" | sed 's/^/    /'
            status=1
        fi
    done
    exit $status
else
    if cargo build --manifest-path "$here/Cargo.toml" --bins >/tmp/fuzz-ci-build.log 2>&1; then
        for t in $targets; do
            echo "fuzz $t: built (not run: needs nightly and cargo-fuzz)"
        done
    else
        tail -30 /tmp/fuzz-ci-build.log
        echo "fuzz: BUILD FAILED"
        exit 1
    fi
fi
