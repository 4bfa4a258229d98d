#!/bin/sh
# Runs the peer comparison (smtp-sansio vs smtp-proto vs smtp-codec, and the DATA
# receivers vs memcpy) in one criterion run, prints the ratios against the targets and
# redraws chart.svg, then measures the same ratios interleaved (see src/bin/interleave.rs),
# which is what BENCHMARKS.md reports. Short criterion settings; one job, niced.
set -eu
cd "$(dirname "$0")"
nice cargo bench -j1 --bench peers -- --noplot "$@"
nice cargo run -j1 --release --quiet --bin ratios
python3 chart.py
# The ratios of record: contenders alternated in short rounds, medians reported.
nice cargo run -j1 --release --quiet --bin interleave
