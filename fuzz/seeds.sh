#!/bin/sh
# Writes the seed corpora: fuzz/seeds/<target>/* (in git) are copied to
# fuzz/corpus/<target>/ (gitignored), which `cargo fuzz run <target>` reads.
# Seeds use printf escapes (\r\n), so they stay readable in git.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
for dir in "$here"/seeds/*/; do
    target=$(basename "$dir")
    out="$here/corpus/$target"
    mkdir -p "$out"
    for f in "$dir"*.txt; do
        [ -e "$f" ] || continue
        # shellcheck disable=SC2059
        printf "$(cat "$f")" > "$out/seed-$(basename "$f" .txt)"
    done
done
# The structured targets read raw bytes too; session transcripts and bodies help them.
for t in server_session data; do
    mkdir -p "$here/corpus/$t"
    cp "$here"/corpus/command/seed-* "$here/corpus/$t/" 2>/dev/null || true
done
mkdir -p "$here/corpus/client_session"
for t in reply_roundtrip client_session; do
    cp "$here"/corpus/reply/seed-* "$here/corpus/$t/" 2>/dev/null || true
done
cp "$here"/corpus/command/seed-* "$here/corpus/command_roundtrip/" 2>/dev/null || true
echo "seeds written to $here/corpus/"
