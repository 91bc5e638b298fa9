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
#   HISTORY=changes bench/import.sh # deal changes only, as a CRM's field history holds them
#
# Environment: WORK (work directory, default bench/out/import-N; the generated export is
# reused when it is there); HISTORY: `all` (default) or `changes`, which leaves the evidence
# events (gate decisions, scores, stakeholders) out of events.csv and numbers each deal's
# remaining events again from 1, so both importers read only the changes to the deals
# themselves (not timed).
set -euo pipefail
cd "$(dirname "$0")/.."

OPPORTUNITIES=${1:-1000000}
WORK=${WORK:-bench/out/import-$OPPORTUNITIES}
EXPORT=$WORK/export
case ${HISTORY:-all} in
    all) ;;
    changes) EXPORT=$WORK/export-changes ;;
    *) echo "HISTORY is all or changes, not '$HISTORY'" >&2; exit 2 ;;
esac
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
echo "history: ${HISTORY:-all}"
if [[ $EXPORT != "$WORK/export" && ! $EXPORT/events.csv -nt $WORK/export/events.csv ]]; then
    echo "leaving the evidence events out of events.csv (not timed)"
    mkdir -p "$EXPORT"
    for f in "$WORK"/export/*; do [[ $f == */events.csv ]] || ln -f "$f" "$EXPORT/"; done
    python3 - "$WORK/export/events.csv" "$EXPORT/events.csv.part" <<'PY'
import csv, sys
csv.field_size_limit(sys.maxsize)
with open(sys.argv[1], newline="", encoding="utf-8") as source, \
        open(sys.argv[2], "w", newline="", encoding="utf-8") as out:
    rows, writer = csv.reader(source), csv.writer(out, lineterminator="\n")
    header = next(rows)
    writer.writerow(header)
    deal, seq, kind = (header.index(c) for c in ("opportunity_id", "seq", "kind"))
    # pipewise export writes each deal's events together, in order.
    last, n = None, 0
    for row in rows:
        if row[kind] == "evidence_recorded":
            continue
        n = n + 1 if row[deal] == last else 1
        last, row[seq] = row[deal], str(n)
        writer.writerow(row)
PY
    mv "$EXPORT/events.csv.part" "$EXPORT/events.csv"
fi
rows() { echo $(( $(wc -l < "$1") - 1 )); }
FILES=(users accounts contacts opportunities events)
for f in "${FILES[@]}"; do printf '%-18s %10s rows\n' "$f.csv" "$(rows "$EXPORT/$f.csv")"; done

rm -f "$WORK"/target.db* "$WORK"/sqlite3.db
start=$(date +%s.%N)
target/release/pipewise import csv "$EXPORT" --workspace copy --by bench@example.com \
    --database-url "sqlite://$WORK/target.db" --issues "$WORK/issues.csv" >/dev/null
pipewise=$(echo "$(date +%s.%N) - $start" | bc)

start=$(date +%s.%N)
{
    echo ".mode csv"
    for f in "${FILES[@]}"; do echo ".import $EXPORT/$f.csv $f"; done
} | sqlite3 "$WORK/sqlite3.db"
sqlite=$(echo "$(date +%s.%N) - $start" | bc)

printf 'pipewise import csv   %8.1f s  (%s opportunities, %s events in the database)\n' "$pipewise" \
    "$(sqlite3 "$WORK/target.db" 'SELECT COUNT(*) FROM opportunities')" \
    "$(sqlite3 "$WORK/target.db" 'SELECT COUNT(*) FROM opportunity_events')"
printf 'sqlite3 .import       %8.1f s\n' "$sqlite"
printf 'ratio                 %8.2f×\n' "$(echo "$pipewise / $sqlite" | bc -l)"
