#!/usr/bin/env bash
# Benchmark: the pipeline-analytics report suite in pipewise (in-memory projection, release
# build) and in DuckDB SQL over the same data, with a check that both give identical numbers.
#
# The suite, at the end of the as-of day 2026-11-23, for the 8 fiscal quarters ending with the
# last complete one: conversion matrix of the default process, time in stage, outcomes by
# quarter × segment × owner, waterfall, coverage of the company target; and the open pipeline
# at the end of every week of those quarters. See docs/benchmarks.md.
#
#   bench/analytics.sh                           # 100,000 opportunities, generated first
#   bench/analytics.sh 1000000                   # another size
#   bench/analytics.sh 1000000 /tmp/bench/d1000000.db   # reuse a generated SQLite file
#
# Environment: RUNS (suite runs per engine, default 5), APPLY_EVENTS (events held back and
# applied, timed, default 10000), WORK (work directory, default bench/out/N), DUCKDB_VERSION
# (the PyPI release installed into bench/.venv, default 2.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."

OPPORTUNITIES=${1:-100000}
DB=${2:-}
RUNS=${RUNS:-5}
APPLY_EVENTS=${APPLY_EVENTS:-10000}
WORK=${WORK:-bench/out/$OPPORTUNITIES}
DUCKDB_VERSION=${DUCKDB_VERSION:-2.0.1}
VENV=bench/.venv
mkdir -p "$WORK"

echo "command: $0 $*"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

if [[ -z $DB ]]; then
    cargo build --release --quiet -p pipewise -p pipewise-bench
    DB=$WORK/d$OPPORTUNITIES.db
    echo "generating $OPPORTUNITIES opportunities into $DB"
    target/release/pipewise generate --opportunities "$OPPORTUNITIES" --seed 7 --as-of 2026-11-23 \
        --database-url "sqlite://$DB" --replace
else
    cargo build --release --quiet -p pipewise-bench
fi
[[ -f $DB ]] || { echo "no database file $DB" >&2; exit 1; }
URL=sqlite://$DB

if ! "$VENV/bin/python" -c "import duckdb" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "duckdb==$DUCKDB_VERSION"
fi
PY=$VENV/bin/python

echo "== export (not part of the suite)"
/usr/bin/time -f "export wall %e s, peak memory %M KiB" \
    target/release/pipewise-bench export --database-url "$URL" --out "$WORK/tables"

echo "== pipewise"
target/release/pipewise-bench suite --database-url "$URL" --runs "$RUNS" \
    --apply-events "$APPLY_EVENTS" --out "$WORK/pipewise.json" --timings "$WORK/pipewise-timings.json"

echo "== duckdb"
"$PY" bench/duckdb_suite.py --data "$WORK/tables" --runs "$RUNS" \
    --out "$WORK/duckdb.json" --timings "$WORK/duckdb-timings.json"

echo "== comparison"
"$PY" - "$WORK" <<'EOF'
import json, os, sys

work = sys.argv[1]
load = lambda name: json.load(open(os.path.join(work, name)))
ours, theirs = load("pipewise.json"), load("duckdb.json")
diffs = []

def walk(a, b, path):
    if len(diffs) >= 20:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                diffs.append(f"{path}.{k}: only in {'pipewise' if k in a else 'duckdb'}")
            else:
                walk(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            diffs.append(f"{path}: {len(a)} items in pipewise, {len(b)} in duckdb")
        for i, (x, y) in enumerate(zip(a, b)):
            walk(x, y, f"{path}[{i}]")
    elif a != b or isinstance(a, bool) != isinstance(b, bool) or (a is None) != (b is None):
        diffs.append(f"{path}: pipewise {a!r}, duckdb {b!r}")

walk(ours, theirs, "$")
p, d = load("pipewise-timings.json"), load("duckdb-timings.json")
mib = lambda kib: f"{kib / 1024:.0f} MiB" if kib else "-"
print(f"results: {'identical' if not diffs else 'DIFFERENT'} "
      f"({len(ours['quarters'])} quarters {ours['quarters'][0]['period']}..{ours['quarters'][-1]['period']}, "
      f"{len(ours['snapshots'])} weekly snapshots)")
print(f"opportunities:            {p['opportunities']:,}")
print(f"pipewise suite:           min {p['suite_min_s']:.3f} s, median {p['suite_median_s']:.3f} s ({p['runs']} runs, {p['threads']} threads)")
print(f"duckdb suite:             min {d['suite_min_s']:.3f} s, median {d['suite_median_s']:.3f} s ({d['runs']} runs, {d['threads']} threads, duckdb {d['duckdb_version']})")
print(f"ratio duckdb / pipewise:  min {d['suite_min_s'] / p['suite_min_s']:.2f}x, median {d['suite_median_s'] / p['suite_median_s']:.2f}x")
print(f"projection build:         {p['build_s']:.2f} s (reading the SQLite event log, evidence aside)")
print(f"duckdb load + model:      {d['load_s']:.2f} s + {d['model_s']:.2f} s (from the exported CSV)")
parts = lambda t: ", ".join(f"{k} {v:.3f}" for k, v in t.items())
print(f"pipewise per part (s):    {parts(p['part_mean_s'])} (mean per run, parts side by side)")
print(f"duckdb per query (s):     {parts(d['query_median_s'])} (median)")
apply_us = f"{p['apply_us']:.2f} µs" if p['apply_us'] is not None else "-"
print(f"apply one event:          {apply_us} (mean of {p['apply_events']:,} held-back events)")
print(f"peak RSS:                 pipewise {mib(p['peak_rss_kib'])} (after build {mib(p['peak_rss_after_build_kib'])}), duckdb process {mib(d['peak_rss_kib'])}")
if diffs:
    print("first differences:")
    for line in diffs:
        print("  " + line)
    sys.exit(1)
EOF
