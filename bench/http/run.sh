#!/bin/sh
# One HTTP benchmark run (BENCHMARKS.md): a 5 s warm-up, then 20 s of wrk with 2 threads and
# 8 connections, and the server's CPU time per answered request (utime + stime of its process
# from /proc across the run, divided by the requests wrk counted).
# Usage: bench/http/run.sh uncached|cached SERVER_PID [URL]
set -eu
mode=$1
pid=$2
url=${3:-http://127.0.0.1:8181}
here=$(dirname "$0")
# Fields after the command name in parentheses (which may hold spaces): utime and stime are
# the 12th and 13th.
cpu_ticks() { sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }'; }
[ -r "/proc/$pid/stat" ] || { echo "no process $pid" >&2; exit 2; }
MODE=$mode wrk -t2 -c8 -d5s -s "$here/match.lua" "$url" >/dev/null
before=$(cpu_ticks)
out=$(MODE=$mode wrk -t2 -c8 -d20s --latency -s "$here/match.lua" "$url")
after=$(cpu_ticks)
echo "$out" | tail -1
requests=$(echo "$out" | awk '/requests in/ { print $1 }')
[ "${requests:-0}" -gt 0 ] || { echo "wrk counted no requests" >&2; exit 1; }
ticks_per_second=$(getconf CLK_TCK)
echo "$mode: server CPU per request $(( (after - before) * 1000000 / ticks_per_second / requests )) us ($requests requests)"
