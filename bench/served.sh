# Sourced by the benchmarks of a running server (bench/api.sh, bench/web.sh), from the
# repository root, with OPPORTUNITIES, WORK (a scratch folder) and DATABASE_URL set: prints
# the machine, generates the workspace afresh with the release build (so the first start
# prints the admin's password), serves it in the background (pid in SERVER, output in
# $WORK/serve.log; stopped and WORK removed on exit) and returns once the server is in its
# steady state, as in a server that has been up a while: every workspace's analytics, lead
# queue, backtest replay and hygiene report worked out, and the first weekly snapshot, taken
# right after the analytics, finished.

SERVER=
stop_server() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
    rm -rf "$WORK"
}
trap stop_server EXIT

cargo build --release --quiet -p pipewise
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "database: ${DATABASE_URL%%\?*} with $OPPORTUNITIES deals"
target/release/pipewise generate --opportunities "$OPPORTUNITIES" --seed 7 --as-of 2026-11-23 \
    --database-url "$DATABASE_URL" --replace >/dev/null
RUST_LOG=warn target/release/pipewise serve --database-url "$DATABASE_URL" --bind 127.0.0.1:0 \
    >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 2400); do
    grep -q "pipewise pages are ready" "$WORK/serve.log" && break
    sleep 0.5
done
grep "pipewise .* are ready" "$WORK/serve.log"
sleep 15
