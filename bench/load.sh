#!/usr/bin/env bash
# Benchmark: generate a demo workspace of N opportunities (default 1,000,000) and load it into a
# fresh SQLite file (or the PostgreSQL database given as the second argument), with the release
# build. Prints the wall time, peak memory, row counts and database size.
#
#   bench/load.sh                      # 1,000,000 opportunities into SQLite
#   bench/load.sh 100000               # another size
#   bench/load.sh 100000 postgres://postgres@127.0.0.1/pipewise_bench
set -euo pipefail
cd "$(dirname "$0")/.."

OPPORTUNITIES=${1:-1000000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
DATABASE_URL=${2:-sqlite://$WORK/bench.db}

cargo build --release --quiet -p pipewise
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "command: pipewise generate --opportunities $OPPORTUNITIES --seed 7 --as-of 2026-11-23 --database-url ${DATABASE_URL%%\?*}"
/usr/bin/time -f "wall %e s, peak memory %M KiB" \
    target/release/pipewise generate --opportunities "$OPPORTUNITIES" --seed 7 --as-of 2026-11-23 \
    --database-url "$DATABASE_URL" --replace
if [[ $DATABASE_URL == sqlite://* ]]; then
    file=${DATABASE_URL#sqlite://}
    for table in accounts contacts opportunities opportunity_events leads activities; do
        printf '%-20s %12s rows\n' "$table" "$(sqlite3 "$file" "SELECT COUNT(*) FROM $table")"
    done
    du -h "$file" | awk '{print "database file " $1}'
fi
