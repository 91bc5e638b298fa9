#!/usr/bin/env bash
# Benchmark: import an export of N opportunities (default 1,000,000) and their event log into
# a fresh embedded database with `pipewise import csv` (release build), against sqlite3's own
# `.import` of the same CSV rows into plain tables. Prints both wall times and the ratio.
#
# The export is made first (not timed): a demo workspace generated into a SQLite file and
# written out by `pipewise export`. pipewise parses every row, checks ids, references and that
# each deal's log replays, and writes records, events and source ids with their indexes;
# sqlite3 only copies text into tables without keys.
#
#   bench/import.sh                 # 1,000,000 opportunities
#   bench/import.sh 100000          # another size
#
# Environment: WORK (work directory, default bench/out/import-N; the generated export is
# reused when it is there).
set -euo pipefail
cd "$(dirname "$0")/.."

OPPORTUNITIES=${1:-1000000}
WORK=${WORK:-bench/out/import-$OPPORTUNITIES}
mkdir -p "$WORK"
command -v sqlite3 >/dev/null || { sudo -n apt-get install -y -qq sqlite3 || apt-get install -y -qq sqlite3; }

echo "command: $0 $*"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
cargo build --release --quiet -p pipewise

if [[ ! -f $WORK/export/events.csv ]]; then
    echo "generating and exporting $OPPORTUNITIES opportunities (not timed)"
    rm -f "$WORK/source.db"
    target/release/pipewise generate --opportunities "$OPPORTUNITIES" --seed 7 --as-of 2026-11-23 \
        --database-url "sqlite://$WORK/source.db" --replace >/dev/null
    target/release/pipewise export "$WORK/export" --database-url "sqlite://$WORK/source.db" >/dev/null
fi
rows() { echo $(( $(wc -l < "$1") - 1 )); }
FILES=(users accounts contacts opportunities events)
for f in "${FILES[@]}"; do printf '%-18s %10s rows\n' "$f.csv" "$(rows "$WORK/export/$f.csv")"; done

rm -f "$WORK"/target.db* "$WORK"/sqlite3.db
start=$(date +%s.%N)
target/release/pipewise import csv "$WORK/export" --workspace copy --by bench@example.com \
    --database-url "sqlite://$WORK/target.db" --issues "$WORK/issues.csv" >/dev/null
pipewise=$(echo "$(date +%s.%N) - $start" | bc)

start=$(date +%s.%N)
{
    echo ".mode csv"
    for f in "${FILES[@]}"; do echo ".import $WORK/export/$f.csv $f"; done
} | sqlite3 "$WORK/sqlite3.db"
sqlite=$(echo "$(date +%s.%N) - $start" | bc)

printf 'pipewise import csv   %8.1f s  (%s opportunities, %s events in the database)\n' "$pipewise" \
    "$(sqlite3 "$WORK/target.db" 'SELECT COUNT(*) FROM opportunities')" \
    "$(sqlite3 "$WORK/target.db" 'SELECT COUNT(*) FROM opportunity_events')"
printf 'sqlite3 .import       %8.1f s\n' "$sqlite"
printf 'ratio                 %8.2f×\n' "$(echo "$pipewise / $sqlite" | bc -l)"
