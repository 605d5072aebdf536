#!/usr/bin/env bash
# Times purser end to end on a generated cluster: snapshot (from the
# kubectl JSON export), audit, cost and each plan strategy (from the saved
# snapshot), with /usr/bin/time -v for wall time, CPU and peak RSS.
#
#   bench/run.sh [PODS] [WORKDIR]      # default 10000 pods, .cache/bench
#
# 150000 pods takes several GB of RAM and minutes; run it once, on an idle
# machine. Figures go to stdout as a Markdown table (bench/RESULTS.md).
set -euo pipefail

pods=${1:-10000}
work=${2:-.cache/bench}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work"
work=$(cd "$work" && pwd)

command -v /usr/bin/time >/dev/null || { echo "bench: /usr/bin/time (Debian package time) is needed" >&2; exit 1; }

(cd "$root" && go build -o "$work/purser" ./cmd/purser && go build -o "$work/gen" ./hack/gen)

json=$work/export-$pods.json
snap=$work/gen-$pods.snap
if [[ ! -s $json || ! -s $snap ]]; then
	"$work/gen" -pods "$pods" -json "$json" -snap "$snap"
fi

# measure NAME CMD...: runs CMD with stdout discarded and prints a table row.
measure() {
	local name=$1; shift
	local log=$work/time.log
	if ! /usr/bin/time -v -o "$log" "$@" >/dev/null 2>"$work/stderr.log"; then
		# A plan that conflicts refuses to write itself, after doing all
		# the work being timed: the row says so. Anything else is an error.
		if grep -q 'plan blocked by' "$work/stderr.log"; then
			name="$name (blocked by conflicts)"
		else
			echo "bench: $name failed:" >&2; tail -5 "$work/stderr.log" >&2; exit 1
		fi
	fi
	awk -v name="$name" -F': ' '
		/Elapsed \(wall clock\)/ { n = split($2, p, ":"); wall = (n == 3) ? p[1]*3600 + p[2]*60 + p[3] : p[1]*60 + p[2] }
		/User time/ { user = $2 }
		/System time/ { sys = $2 }
		/Maximum resident set size/ { rss = $2 / 1024 }
		END { printf "| %s | %.2f | %.2f | %.0f |\n", name, wall, user + sys, rss }' "$log"
}

echo "pods: $pods; $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"
echo "| command | wall s | cpu s | peak RSS MiB |"
echo "|---|---|---|---|"
measure "snapshot --from export.json --save x.snap" "$work/purser" snapshot --from "$json" --save "$work/x.snap"
measure "audit --from x.snap" "$work/purser" audit --from "$snap" -o json
measure "audit --from export.json" "$work/purser" audit --from "$json" -o json
measure "cost --from x.snap" "$work/purser" cost --from "$snap" -o json
for strategy in empty product environment; do
	measure "plan --from x.snap --strategy $strategy" "$work/purser" plan --from "$snap" --strategy "$strategy" -o json
done
