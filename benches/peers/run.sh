#!/bin/sh
# Runs the peer comparison (smtp-sansio vs smtp-proto vs smtp-codec, and the DATA
# receivers vs memcpy) in one criterion run, prints the ratios against the targets and
# redraws chart.svg. Short criterion settings; one job, niced, for a shared machine.
set -eu
cd "$(dirname "$0")"
nice cargo bench -j1 --bench peers -- --noplot "$@"
nice cargo run -j1 --release --quiet --bin ratios
python3 chart.py
