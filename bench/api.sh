#!/usr/bin/env bash
# Benchmark: the HTTP API under load, measured with wrk (Debian package `wrk`). Serves a
# generated workspace with the release build, signs in with the admin password the first
# start prints, makes a write token, and measures for 20 s each, 2 threads, first with 32
# connections and then with 16:
#
#   reads  GET …/opportunities/{id}, over 1,000 deals
#   moves  POST …/opportunities/{id}/moves, each of 1,000 deals moved back a stage and then
#          forward again (with a reason and a dated next step, as the process asks)
#
# and then moves spread out in time, as many users' moves would be, at about 2,000/s and
# 3,000/s: each connection waits 0–100 ms after an answer before its next move, so the rate
# is set by the number of connections, not by how fast the server answers.
#
#   bench/api.sh                                   # 1,000,000 deals in SQLite
#   bench/api.sh 100000                            # another size
#   bench/api.sh 100000 postgres://postgres@127.0.0.1/pipewise_api_bench  # empty database
set -euo pipefail
cd "$(dirname "$0")/.."

OPPORTUNITIES=${1:-1000000}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
WORK=$(mktemp -d)
DATABASE_URL=${2:-sqlite://$WORK/api.db}
# shellcheck source=bench/served.sh
source bench/served.sh

# A write token, and 1,000 open deals past the first stage with the stage before theirs.
pick_deals() {
PYTHONPATH=scripts python3 - "$WORK" <<'PYTHON'
import sys

from first_admin import Api

work = sys.argv[1]
api = Api(f"{work}/serve.log")
secret = api.write_token("benchmark")
call, base = api.call, api.base
auth = {"authorization": f"Bearer {secret}"}
order = ["qualified", "business_case", "evaluating", "shortlisted", "negotiating", "redlining"]
deals, cursor = [], ""
while len(deals) < 1000:
    _, page = call("GET", f"/opportunities?limit=200{cursor}", headers=auth)
    for deal in page["items"]:
        if deal["status"] == "open" and deal["process"] == "enterprise" and order.index(deal["stage"]) > 0:
            deals.append((deal["id"], deal["stage"], order[order.index(deal["stage"]) - 1]))
    if not page.get("next_cursor"):
        break
    cursor = f"&cursor={page['next_cursor']}"
deals = deals[:1000]
lua = lambda name, rows: f"{name} = {{" + ",".join(rows) + "}\n"
with open(f"{work}/deals.lua", "w") as out:
    out.write(f'token = "{secret}"\n')
    out.write(lua("ids", [f'"{d[0]}"' for d in deals]))
    out.write(lua("stages", [f'"{d[1]}"' for d in deals]))
    out.write(lua("previous", [f'"{d[2]}"' for d in deals]))
open(f"{work}/base", "w").write(base)
print(f"{len(deals)} deals")
PYTHON
}
pick_deals

cat >"$WORK/reads.lua" <<LUA
dofile("$WORK/deals.lua")
local i = 0
request = function()
    i = i % #ids + 1
    return wrk.format("GET", "/api/v1/workspaces/demo/opportunities/" .. ids[i],
                      { ["Authorization"] = "Bearer " .. token })
end
LUA
cat >"$WORK/moves.lua" <<LUA
dofile("$WORK/deals.lua")
local threads, counter = {}, 0
function setup(thread)
    counter = counter + 1
    thread:set("part", counter)
    table.insert(threads, thread)
end
-- Each thread moves its own half of the deals, each back a stage and then forward again.
local i, back = 0, {}
request = function()
    repeat i = i % #ids + 1 until i % 2 == part % 2
    local to = back[i] and stages[i] or previous[i]
    back[i] = not back[i]
    local body = '{"to":"' .. to .. '","reason":"Pipeline review","next_step":'
        .. '{"text":"Confirm the evaluation plan","due":"2027-06-30"}}'
    return wrk.format("POST", "/api/v1/workspaces/demo/opportunities/" .. ids[i] .. "/moves",
                      { ["Authorization"] = "Bearer " .. token, ["If-Match"] = "*",
                        ["Content-Type"] = "application/json" }, body)
end
LUA

# 20 s of wrk with CONNECTIONS and the Lua SCRIPT, and the lines of its report kept here.
measure() {
    wrk -t2 -c"$1" -d20s --latency -s "$2" "$(cat "$WORK/base")" \
        | grep -E "Latency|50%|99%|Requests/sec|Non-2xx|requests in"
}

# A run of moves can end with a deal moved back and not forward again, so each starts on
# deals picked afresh.
for connections in 32 16; do
    for run in reads moves; do
        if [ "$run" = moves ]; then pick_deals >/dev/null; fi
        echo "== $run, $connections connections"
        measure "$connections" "$WORK/$run.lua"
    done
done
cat >"$WORK/paced.lua" <<LUA
dofile("$WORK/moves.lua")
function delay()
    return math.random(0, 100)
end
LUA
for rate in 2000 3000; do
    pick_deals >/dev/null
    # A connection moves once per 50 ms and an answer's time: rate / 20 connections, and 10%
    # more for the answers' time, an even number as wrk shares them between its threads.
    connections=$((rate * 11 / 400 * 2))
    echo "== moves paced, $connections connections (about $rate/s)"
    measure "$connections" "$WORK/paced.lua"
done
