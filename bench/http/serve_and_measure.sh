#!/bin/sh
# One server's memory and start-up figures (BENCHMARKS.md, issue 23): starts BINARY on an
# existing 1M database and index, times process start to ready (/readyz 200), runs one
# uncached and one cached HTTP run (run.sh), then prints the process's RSS from `ps` and
# /proc/PID/smaps_rollup split into anonymous and file-backed, and the index's own figures
# from /metrics, and stops it with SIGTERM.
# Usage: bench/http/serve_and_measure.sh BINARY DATA_DIR [PORT]
#   DATA_DIR holds carematch.db and index/ (from `carematch seed-demo --count 1000000 --seed 42`
#   run in its parent, then one start of the server to build the index).
set -eu
binary=$1
data=$2
port=${3:-8181}
here=$(dirname "$0")
url=http://127.0.0.1:$port
start=$(date +%s.%N)
CAREMATCH_DATABASE_URL="sqlite://$data/carematch.db?mode=rwc" CAREMATCH_INDEX_DIR="$data/index" \
  CAREMATCH_LISTEN=127.0.0.1:$port CAREMATCH_SEED_DEMO=0 CAREMATCH_LOG_FILTER=warn \
  "$binary" serve >/tmp/serve-measure.log 2>&1 &
pid=$!
until curl -sf -o /dev/null "$url/readyz"; do
  kill -0 "$pid" 2>/dev/null || { echo "server exited" >&2; cat /tmp/serve-measure.log >&2; exit 1; }
  sleep 0.05
done
ready=$(date +%s.%N)
echo "start to ready: $(echo "$ready - $start" | bc) s"
rss() {
  echo "$1: ps rss $(( $(ps -o rss= -p "$pid") / 1024 )) MiB; smaps_rollup: $(awk '/^Rss:|^Anonymous:|^Shared_Clean:|^Private_Clean:/ { printf "%s %d MiB  ", $1, $2 / 1024 }' "/proc/$pid/smaps_rollup")"
}
rss "after ready"
"$here/run.sh" uncached "$pid" "$url"
rss "after uncached"
"$here/run.sh" cached "$pid" "$url"
rss "after cached"
curl -s "$url/metrics" | grep -E '^carematch_(index_memory_bytes|match_log_dropped_total)' || true
kill -TERM "$pid"
wait "$pid" || true
