#!/usr/bin/env bash
# Benchmark: the web app's pages. Serves a generated workspace with the release build and,
# once its analytics are built, times each page's server response (time to first byte over
# loopback, median of 5, with an API token as the admin) and then, in headless Chromium
# (Debian's chromium, playwright-core from e2e/), how long the board of the current quarter
# takes to become interactive with up to 5,000 cards drawn.
#
#   bench/web.sh              # 1,000,000 deals in SQLite
#   bench/web.sh 100000       # another size
#
# Needs curl, node and /usr/bin/chromium (.ci/e2e.sh installs Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

OPPORTUNITIES=${1:-1000000}
[ -d e2e/node_modules ] || (cd e2e && npm ci --no-audit --no-fund --silent)
WORK=$(mktemp -d)
DATABASE_URL=sqlite://$WORK/web.db
# shellcheck source=bench/served.sh
source bench/served.sh

# A token, one open deal, and its owner (whose board a rep sees).
PYTHONPATH=scripts python3 - "$WORK" <<'PYTHON'
import sys

from first_admin import Api

work = sys.argv[1]
api = Api(f"{work}/serve.log")
secret = api.write_token("web benchmark")
_, page = api.call("GET", "/opportunities?status=open&limit=1",
                   headers={"authorization": f"Bearer {secret}"})
deal = page["items"][0]
open(f"{work}/env", "w").write(
    f"TOKEN={secret}\nBASE={api.base}\nDEAL={deal['id']}\nOWNER={deal['owner_id']}\n"
    f"EMAIL={api.email}\nPASSWORD={api.password}\n")
PYTHON
# shellcheck disable=SC1091
source "$WORK/env"

# The hygiene page waits for the workspace's first hygiene report, which the board and the
# deal room then show; timed first, so that those pages are measured with their flags.
echo "== server time per page (median of 5 after a first request)"
printf '%-26s %10s %10s\n' page "first (s)" "median (s)"
for page in hygiene board "board?owner=$OWNER" "deals/$DEAL" forecast forecast/backtest \
            diagnostics leads admin; do
    times=()
    for run in 1 2 3 4 5 6; do
        # A page over 10 s is timed once.
        [ "$run" -gt 1 ] && awk -v t="${times[0]}" 'BEGIN { exit !(t > 10) }' && break
        answer=$(curl -s -o /dev/null -w '%{http_code} %{time_starttransfer}' \
            -H "Authorization: Bearer $TOKEN" "$BASE/app/demo/$page")
        [ "${answer%% *}" = 200 ] || { echo "$page answered ${answer%% *}" >&2; exit 1; }
        times+=("${answer#* }")
    done
    median=$(printf '%s\n' "${times[@]:1}" | sort -n | sed -n 3p)
    median=${median:-${times[0]}}
    label=${page/$OWNER/<rep>}
    printf '%-26s %10.3f %10.3f\n' "${label/$DEAL/<deal>}" "${times[0]}" "$median"
done

echo "== the board in headless Chromium"
node bench/web_board.mjs "$BASE" "$EMAIL" "$PASSWORD"
