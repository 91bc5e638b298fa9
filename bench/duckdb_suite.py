#!/usr/bin/env python3
"""The pipeline-analytics suite of bench/analytics.sh in DuckDB SQL.

Loads the tables `pipewise-bench export` wrote (CSV) into an in-memory DuckDB database,
derives what a warehouse model would hold (each history row's end, each deal's qualification
time), then computes the same suite as `pipewise-bench suite` in SQL, several times, and
writes the same canonical JSON. Only the SQL of the suite (execution and fetching the rows)
is timed; loading and modelling are timed separately.

    bench/.venv/bin/python bench/duckdb_suite.py --data DIR --out duckdb.json [--runs 5]

The definitions are those of docs/metrics.md as crates/analytics implements them.
"""

import argparse
import datetime as dt
import json
import math
import os
import statistics
import sys
import time

import duckdb

DAY_US = 86_400_000_000
BIG = 9_223_372_036_854_775_807
LINES = ["start", "created", "pulled_in", "reopened", "pushed_out", "amount_changes", "won", "lost", "end"]
BUCKETS = ["won", "lost_to_competition", "lost_to_no_decision", "excluded", "slipped"]


def memory_kib():
    """Peak and current resident memory of this process (DuckDB included), in KiB."""
    peak = rss = None
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    peak = int(line.split()[1])
                elif line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
    except OSError:
        pass
    return peak, rss


# --- the fiscal calendar, as crates/core/src/calendar.rs defines it --------------------------

def add_months(day, months):
    m = day.month - 1 + months
    return dt.date(day.year + m // 12, m % 12 + 1, 1)


def quarter_of(start_month, day):
    year = day.year if start_month == 1 or day.month < start_month else day.year + 1
    return year, (day.month + 12 - start_month) % 12 // 3 + 1


def quarter_range(start_month, year, quarter):
    first = dt.date(year if start_month == 1 else year - 1, start_month, 1)
    start = add_months(first, 3 * (quarter - 1))
    return start, add_months(start, 3)


def micros(day):
    """The first microsecond of `day`, UTC."""
    return (day - dt.date(1970, 1, 1)).days * DAY_US


def end_of(day):
    """The last microsecond of `day`."""
    return micros(day + dt.timedelta(days=1)) - 1


def round6(x):
    return math.floor(x * 1e6 + 0.5) / 1e6


def days(us):
    return None if us is None else round6(us / DAY_US)


# --- loading ---------------------------------------------------------------------------------

def load(con, data):
    path = lambda name: os.path.join(data, name).replace("'", "''")
    con.execute(f"""
        CREATE TABLE history AS SELECT * FROM read_csv('{path('history.csv')}', header = true,
            columns = {{'opportunity_id': 'UUID', 'seq': 'INTEGER', 'effective_at': 'BIGINT',
                        'process': 'VARCHAR', 'stage': 'VARCHAR', 'status': 'VARCHAR',
                        'loss_type': 'VARCHAR', 'category': 'VARCHAR', 'amount_minor': 'BIGINT',
                        'currency': 'VARCHAR', 'close_date': 'DATE', 'owner_id': 'UUID'}});
        CREATE TABLE opportunities AS SELECT * FROM read_csv('{path('opportunities.csv')}',
            header = true,
            columns = {{'opportunity_id': 'UUID', 'process': 'VARCHAR', 'segment': 'VARCHAR',
                        'source': 'VARCHAR', 'competitor': 'VARCHAR', 'owner_id': 'UUID',
                        'stage': 'VARCHAR', 'status': 'VARCHAR', 'amount_minor': 'BIGINT',
                        'currency': 'VARCHAR', 'close_date': 'DATE'}});
        CREATE TABLE stages AS SELECT * FROM read_csv('{path('stages.csv')}', header = true,
            columns = {{'process': 'VARCHAR', 'stage': 'VARCHAR', 'position': 'INTEGER',
                        'qualified': 'BOOLEAN', 'category': 'VARCHAR'}});
        CREATE TABLE users AS SELECT * FROM read_csv('{path('users.csv')}', header = true,
            columns = {{'id': 'UUID', 'name': 'VARCHAR'}});
        CREATE TABLE targets AS SELECT * FROM read_csv('{path('targets.csv')}', header = true,
            columns = {{'owner_kind': 'VARCHAR', 'owner_id': 'UUID', 'period': 'VARCHAR',
                        'start_date': 'DATE', 'end_date': 'DATE', 'amount_minor': 'BIGINT',
                        'currency': 'VARCHAR'}});
    """)


def model(con):
    """The warehouse model: the history as validity intervals (each row valid until the next
    change of its deal) and each deal's qualification time."""
    con.execute(f"""
        CREATE TABLE s AS
        SELECT h.*, coalesce(lead(effective_at) OVER (PARTITION BY opportunity_id ORDER BY seq),
                             {BIG}) AS to_us
        FROM history h ORDER BY opportunity_id, seq;
        CREATE TABLE o AS
        SELECT o.*, q.qualified_at FROM opportunities o LEFT JOIN (
            SELECT h.opportunity_id, min(h.effective_at) AS qualified_at
            FROM history h JOIN stages st USING (process, stage)
            WHERE st.qualified GROUP BY 1) q USING (opportunity_id);
    """)


# --- the suite -------------------------------------------------------------------------------

def setup(con, meta):
    """The quarters, weeks and targets the suite is asked about (not timed)."""
    as_of = dt.date.fromisoformat(meta["as_of"])
    m = meta["fiscal_start_month"]
    now = end_of(as_of)

    def before(year, quarter):
        start, _ = quarter_range(m, year, quarter)
        return quarter_of(m, start - dt.timedelta(days=1))

    period = before(*quarter_of(m, as_of))
    quarters = []
    for _ in range(8):
        quarters.append(period)
        period = before(*period)
    quarters.reverse()
    rows, weeks = [], []
    for qi, (year, quarter) in enumerate(quarters):
        start, end = quarter_range(m, year, quarter)
        last_day = end - dt.timedelta(days=1)
        name = f"{year}-Q{quarter}"
        rows.append((qi, name, start, end, micros(start), micros(end),
                     min(end_of(start - dt.timedelta(days=1)), now), min(end_of(last_day), now),
                     min(now, micros(end) - 1), now >= micros(end)))
        w = 0
        while start + dt.timedelta(days=7 * w + 6) <= min(last_day, as_of):
            day = start + dt.timedelta(days=7 * w + 6)
            weeks.append((len(weeks), day, end_of(day)))
            w += 1
    con.execute("""CREATE OR REPLACE TABLE q (qi INTEGER, period VARCHAR, start_date DATE,
        end_date DATE, start_us BIGINT, end_us BIGINT, t0_us BIGINT, t1_us BIGINT,
        cutoff_us BIGINT, over BOOLEAN)""")
    con.executemany("INSERT INTO q VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute("CREATE OR REPLACE TABLE wk (wi INTEGER, week_ending DATE, at_us BIGINT)")
    con.executemany("INSERT INTO wk VALUES (?, ?, ?)", weeks)
    # Company targets: the quarter's own, else the sum of its months' (crm::targets_of).
    targets = []
    for r in rows:
        exact = con.execute("""SELECT sum(amount_minor), count(*) FROM targets
            WHERE owner_kind = 'workspace' AND period = ?""", [r[1]]).fetchone()
        if exact[1] == 0:
            exact = con.execute("""SELECT sum(amount_minor), count(*) FROM targets
                WHERE owner_kind = 'workspace' AND length(period) = 7 AND period NOT LIKE '%Q%'
                  AND start_date >= ? AND end_date <= ?""", [r[2], r[3]]).fetchone()
        targets.append(int(exact[0] or 0))
    positions = [r[0] for r in con.execute(
        "SELECT stage FROM stages WHERE process = ? AND position IS NOT NULL ORDER BY position",
        [meta["default_process"]]).fetchall()]
    return {"now": now, "quarters": rows, "weeks": weeks, "targets": targets,
            "stages": positions, "process": meta["default_process"], "as_of": as_of}


def suite_sql(s):
    now, proc, n = s["now"], s["process"].replace("'", "''"), len(s["stages"])
    in_q = lambda t: f"{t}.close_date >= q.start_date AND {t}.close_date < q.end_date"
    return [
        ("visits", f"""
        CREATE OR REPLACE TEMP TABLE visits AS
        WITH r AS (
            SELECT opportunity_id, seq, effective_at AS from_us, process, stage,
                   status = 'open' AS op,
                   lag(status = 'open') OVER w AS prev_op, lag(stage) OVER w AS prev_stage
            FROM s WHERE effective_at <= {now}
            WINDOW w AS (PARTITION BY opportunity_id ORDER BY seq)
        ), c AS (
            SELECT opportunity_id, seq, from_us, process, stage,
                   op AND (prev_op IS DISTINCT FROM true OR prev_stage <> stage) AS starts
            FROM r
            WHERE (op AND (prev_op IS DISTINCT FROM true OR prev_stage <> stage))
               OR (NOT op AND prev_op IS NOT DISTINCT FROM true)
        ), v AS (
            SELECT *, lead(from_us) OVER (PARTITION BY opportunity_id ORDER BY seq) AS until_us
            FROM c
        )
        SELECT v.opportunity_id, v.seq, v.from_us, v.until_us, st.position
        FROM v JOIN stages st USING (process, stage)
        WHERE v.starts AND st.process = '{proc}' AND st.position IS NOT NULL
        """),
        ("time_in_stage", f"""
        WITH done AS (
            SELECT q.qi, v.position, v.until_us - v.from_us AS d
            FROM visits v JOIN q ON v.until_us >= q.start_us AND v.until_us < q.end_us
        ), pct AS (
            SELECT qi, position, count(*) AS n,
                   list_sort(list(d)) AS l
            FROM done GROUP BY ALL
        ), p AS (
            SELECT qi, position, n, l[(n * 50 + 99) // 100] AS med, l[(n * 75 + 99) // 100] AS p75
            FROM pct
        ), opens AS (
            SELECT position, {now} - from_us AS age FROM visits WHERE until_us IS NULL
        ), grid AS (
            SELECT q.qi, st.position FROM q, stages st
            WHERE st.process = '{proc}' AND st.position IS NOT NULL
        )
        SELECT g.qi, g.position, coalesce(p.n, 0), p.med, p.p75,
               (SELECT count(*) FROM opens o WHERE o.position = g.position),
               (SELECT count(*) FROM opens o WHERE o.position = g.position
                   AND o.age / {DAY_US}.0 > p.p75 / {DAY_US}.0)
        FROM grid g LEFT JOIN p USING (qi, position)
        """),
        ("conversion", f"""
        WITH fe AS (
            SELECT q.qi, v.opportunity_id, v.position AS i, min(v.seq) AS first_seq
            FROM visits v JOIN q ON v.from_us >= q.start_us AND v.from_us < q.end_us
            GROUP BY ALL
        ), fa AS (
            SELECT fe.qi, fe.opportunity_id, fe.i, max(v.position) AS furthest
            FROM fe JOIN visits v ON v.opportunity_id = fe.opportunity_id AND v.seq >= fe.first_seq
            GROUP BY ALL
        ), st AS (
            SELECT opportunity_id, status FROM s WHERE effective_at <= {now} AND {now} < to_us
        ), pairs AS (
            SELECT i.i, j.j FROM range({n}) i(i), range({n + 1}) j(j) WHERE j.j > i.i
        ), x AS (
            SELECT fa.qi, pairs.i, pairs.j, st.status,
                   st.status = 'won' OR (pairs.j < {n} AND fa.furthest >= pairs.j) AS reached
            FROM fa JOIN pairs ON pairs.i = fa.i JOIN st USING (opportunity_id)
        )
        SELECT qi, i, j, count(*), count(*) FILTER (WHERE reached),
               count(*) FILTER (WHERE NOT reached AND status = 'open')
        FROM x GROUP BY ALL
        """),
        ("outcomes", f"""
        WITH now_s AS (
            SELECT s.* FROM s JOIN o USING (opportunity_id)
            WHERE s.effective_at <= {now} AND {now} < s.to_us AND o.qualified_at <= {now}
        ), closed_now AS (
            SELECT q.qi, n.opportunity_id, n.status, n.loss_type, n.amount_minor, n.owner_id
            FROM now_s n JOIN q ON {in_q('n')} WHERE n.status <> 'open'
        ), cut AS (
            SELECT q.qi, q.start_us, q.cutoff_us, q.over, {in_q('x')} AS due, x.*
            FROM q JOIN s x ON x.effective_at <= q.cutoff_us AND q.cutoff_us < x.to_us
            JOIN o USING (opportunity_id)
            WHERE o.qualified_at <= {now}
        ), cut_rest AS (
            SELECT * FROM cut c WHERE NOT EXISTS (
                SELECT 1 FROM closed_now x WHERE x.qi = c.qi AND x.opportunity_id = c.opportunity_id)
        ), slipped AS (
            SELECT c.qi, c.opportunity_id, c.amount_minor, c.owner_id FROM cut_rest c
            WHERE c.status = 'open' AND (c.over OR NOT c.due) AND EXISTS (
                SELECT 1 FROM s x JOIN q ON q.qi = c.qi
                WHERE x.opportunity_id = c.opportunity_id AND x.status = 'open' AND {in_q('x')}
                  AND x.effective_at < c.cutoff_us + 1 AND x.to_us > c.start_us)
        ), rows AS (
            SELECT qi, opportunity_id, status, loss_type, amount_minor, owner_id FROM closed_now
            UNION ALL
            SELECT qi, opportunity_id, status, loss_type, amount_minor, owner_id FROM cut_rest
            WHERE status <> 'open' AND due
            UNION ALL
            SELECT qi, opportunity_id, 'slipped', NULL, amount_minor, owner_id FROM slipped
        )
        SELECT r.qi, coalesce(o.segment, '(none)'), coalesce(u.name, CAST(r.owner_id AS VARCHAR)),
               CASE WHEN r.status = 'slipped' THEN 'slipped'
                    WHEN r.status = 'won' THEN 'won'
                    WHEN r.loss_type = 'competition' THEN 'lost_to_competition'
                    WHEN r.loss_type = 'no_decision' THEN 'lost_to_no_decision'
                    ELSE 'excluded' END,
               count(*), coalesce(sum(r.amount_minor), 0)
        FROM rows r JOIN o USING (opportunity_id) LEFT JOIN users u ON u.id = r.owner_id
        GROUP BY ALL
        """),
        ("waterfall", f"""
        WITH r AS (
            SELECT q.qi, x.opportunity_id, x.seq, x.effective_at > q.t0_us AS later, x.status,
                   x.status = 'open' AND {in_q('x')} AS counted,
                   coalesce(x.amount_minor, 0) AS amt, x.to_us > q.t1_us AS last
            FROM q JOIN s x ON x.effective_at <= q.t1_us AND x.to_us > q.t0_us
        ), l AS (
            SELECT *, lag(counted) OVER w AS b_counted, lag(status) OVER w AS b_status,
                   lag(amt) OVER w AS b_amt
            FROM r WINDOW w AS (PARTITION BY qi, opportunity_id ORDER BY seq)
        ), c AS (
            SELECT qi, amt, b_amt,
                CASE
                    WHEN NOT later THEN CASE WHEN counted THEN 'start' END
                    WHEN counted AND b_status IS NULL THEN 'created'
                    WHEN counted AND NOT b_counted AND b_status = 'open' THEN 'pulled_in'
                    WHEN counted AND NOT b_counted THEN 'reopened'
                    WHEN b_counted AND NOT counted AND status = 'won' THEN 'won'
                    WHEN b_counted AND NOT counted AND status = 'lost' THEN 'lost'
                    WHEN b_counted AND NOT counted THEN 'pushed_out'
                    WHEN b_counted AND counted THEN 'amount_changes'
                END AS line,
                last AND counted AS ends
            FROM l
        )
        SELECT qi, line, count(*) FILTER (WHERE line <> 'amount_changes'),
               sum(CASE WHEN line IN ('start', 'created', 'pulled_in', 'reopened') THEN amt
                        WHEN line IN ('won', 'lost', 'pushed_out') THEN b_amt
                        ELSE amt - b_amt END)
        FROM c WHERE line IS NOT NULL GROUP BY ALL
        UNION ALL
        SELECT qi, 'end', count(*), sum(amt) FROM c WHERE ends GROUP BY ALL
        """),
        ("coverage", f"""
        WITH now_s AS (
            SELECT * FROM s WHERE effective_at <= {now} AND {now} < to_us
        ), closed_now AS (
            SELECT q.qi, n.opportunity_id, n.status, n.category, n.amount_minor
            FROM now_s n JOIN q ON {in_q('n')} WHERE n.status <> 'open'
        ), closed_cut AS (
            SELECT q.qi, x.opportunity_id, x.status, x.category, x.amount_minor
            FROM q JOIN s x ON x.effective_at <= q.cutoff_us AND q.cutoff_us < x.to_us
            WHERE x.status <> 'open' AND {in_q('x')} AND NOT EXISTS (
                SELECT 1 FROM closed_now c WHERE c.qi = q.qi AND c.opportunity_id = x.opportunity_id)
        ), open_now AS (
            SELECT q.qi, n.opportunity_id, n.status, n.category, n.amount_minor
            FROM now_s n JOIN q ON {in_q('n')} WHERE n.status = 'open' AND NOT EXISTS (
                SELECT 1 FROM closed_cut c WHERE c.qi = q.qi AND c.opportunity_id = n.opportunity_id)
        ), rows AS (
            SELECT * FROM closed_now UNION ALL SELECT * FROM closed_cut UNION ALL SELECT * FROM open_now
        )
        SELECT qi, CASE WHEN status = 'won' THEN 'won' ELSE category END AS bucket,
               count(*), coalesce(sum(amount_minor), 0)
        FROM rows
        WHERE status = 'won' OR (status = 'open' AND category IN ('commit', 'best_case', 'pipeline'))
        GROUP BY ALL
        """),
        ("snapshots", f"""
        SELECT w.wi, x.category, count(*),
               coalesce(sum(x.amount_minor) FILTER (WHERE x.currency = 'USD'), 0),
               count(*) FILTER (WHERE x.currency IS NOT NULL AND x.currency <> 'USD')
        FROM wk w JOIN s x ON x.effective_at <= w.at_us AND w.at_us < x.to_us
        WHERE x.status = 'open'
        GROUP BY ALL
        """),
    ]


def run_suite(con, statements):
    out = {}
    for name, sql in statements:
        out[name] = con.execute(sql).fetchall()
    return out


def tally(count, amount):
    return {"count": int(count), "amount": int(amount)}


def canonical(s, r):
    stages = s["stages"]
    n = len(stages)
    quarters = []
    for qi, row in enumerate(s["quarters"]):
        conv = {(i, j): (0, 0) for i in range(n) for j in range(i + 1, n + 1)}
        entered = [0] * n
        for q, i, j, e, reached, still in r["conversion"]:
            if q == qi:
                conv[(i, j)] = (reached, still)
                entered[i] = e
        conversion = [{"from": stages[i], "to": "won" if j == n else stages[j],
                       "entered": entered[i], "reached": conv[(i, j)][0],
                       "still_open": conv[(i, j)][1]}
                      for i in range(n) for j in range(i + 1, n + 1)]
        tis = {p: t for (q, p, *t) in r["time_in_stage"] if q == qi}
        time_in_stage = []
        for p in range(n):
            completed, med, p75, open_, aging = tis[p]
            time_in_stage.append({"stage": stages[p], "completed": completed,
                                  "median_days": days(med), "p75_days": days(p75),
                                  "open": open_, "aging": aging if p75 is not None else 0})
        slices = {}
        for q, segment, owner, bucket, count, amount in r["outcomes"]:
            if q == qi:
                slices.setdefault((segment, owner), {b: tally(0, 0) for b in BUCKETS})[bucket] = tally(count, amount)
        outcomes = [dict(key=list(k), **v) for k, v in sorted(slices.items())]
        waterfall = {line: tally(0, 0) for line in LINES}
        for q, line, count, amount in r["waterfall"]:
            if q == qi:
                waterfall[line] = tally(count, amount)
        cover = {b: tally(0, 0) for b in ["won", "commit", "best_case", "pipeline"]}
        for q, bucket, count, amount in r["coverage"]:
            if q == qi:
                cover[bucket] = tally(count, amount)
        target = s["targets"][qi]
        counted = cover["won"]["amount"] + cover["commit"]["amount"] + cover["best_case"]["amount"]
        coverage = dict(target=target, ratio=round6(counted / target) if target > 0 else None, **cover)
        quarters.append({"period": row[1], "start": row[2].isoformat(),
                         "end": (row[3] - dt.timedelta(days=1)).isoformat(),
                         "conversion": conversion, "time_in_stage": time_in_stage,
                         "outcomes": outcomes, "waterfall": waterfall, "coverage": coverage})
    snapshots = [{"week_ending": day.isoformat(), "categories": {}} for _, day, _ in s["weeks"]]
    for wi, category, count, amount, other in r["snapshots"]:
        if other:
            sys.exit(f"an amount in a currency other than USD in week {wi}")
        snapshots[wi]["categories"][category] = tally(count, amount)
    return {"as_of": s["as_of"].isoformat(), "quarters": quarters, "snapshots": snapshots}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="directory written by `pipewise-bench export`")
    ap.add_argument("--out", required=True, help="where to write the suite's numbers")
    ap.add_argument("--timings", help="where to write the timings (JSON)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, help="DuckDB threads [default: DuckDB's, all cores]")
    args = ap.parse_args()
    with open(os.path.join(args.data, "meta.json")) as f:
        meta = json.load(f)
    if meta.get("currency") != "USD":
        sys.exit("the suite expects a USD workspace")
    con = duckdb.connect(":memory:")
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    started = time.perf_counter()
    load(con, args.data)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    model(con)
    model_s = time.perf_counter() - started
    s = setup(con, meta)
    statements = suite_sql(s)
    times, per_query, result = [], {}, None
    for _ in range(max(1, args.runs)):
        started = time.perf_counter()
        result = {}
        for name, sql in statements:
            t = time.perf_counter()
            result[name] = con.execute(sql).fetchall()
            per_query.setdefault(name, []).append(time.perf_counter() - t)
        times.append(time.perf_counter() - started)
    peak, rss = memory_kib()
    with open(args.out, "w") as f:
        json.dump(canonical(s, result), f, sort_keys=True, separators=(",", ":"))
    rows = con.execute("SELECT count(*) FROM history").fetchone()[0]
    deals = con.execute("SELECT count(*) FROM opportunities").fetchone()[0]
    timings = {
        "engine": "duckdb", "duckdb_version": duckdb.__version__, "threads": threads,
        "opportunities": deals, "history_rows": rows, "load_s": load_s, "model_s": model_s,
        "runs": len(times), "suite_min_s": min(times), "suite_median_s": statistics.median(times),
        "suite_runs_s": times,
        "query_median_s": {k: statistics.median(v) for k, v in per_query.items()},
        "peak_rss_kib": peak, "rss_kib": rss,
    }
    print(f"duckdb {duckdb.__version__} ({threads} threads): {deals} deals, {rows} history rows, "
          f"load {load_s:.2f} s + model {model_s:.2f} s, suite min {min(times):.3f} s "
          f"median {statistics.median(times):.3f} s over {len(times)} runs, "
          f"peak RSS {peak // 1024 if peak else '-'} MiB")
    if args.timings:
        with open(args.timings, "w") as f:
            json.dump(timings, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
