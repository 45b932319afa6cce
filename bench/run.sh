#!/bin/bash
# Runs bench/bhbench natively, in Bulkhead on each platform, and in runc and
# runsc (ptrace) when installed, all in one run on the same bundle, then
# prints a Markdown table of medians with ratios to native and writes it to
# bench/results/<date>.md and .csv. Ratios from one run are what to compare:
# absolute times on these machines are noisy.
#   BH_PLATFORMS="systrap ptrace"   Bulkhead platforms to measure
#   SLOW_SCALE=10                   iteration divisor under sandboxes
#                                   (not for the scale rows, which run
#                                   the same counts everywhere)
#   BENCH_ROUNDS=3                  rounds: every runtime runs once per
#                                   round, in turn, and each figure is the
#                                   median over the rounds, so that a noisy
#                                   minute of the machine hits all alike
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BULKHEAD=$PWD/$BUILD/bin/bulkhead
# The commit measured, read before this run writes its results.
rev=$(git rev-parse --short HEAD 2>/dev/null) && { git diff --quiet HEAD 2>/dev/null || rev="$rev with local changes"; }
SCALE=${SLOW_SCALE:-10}
ROUNDS=${BENCH_ROUNDS:-3}
TMP=$(mktemp -d /tmp/bh-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
B=$TMP/bundle
R=$B/rootfs

# The bench bundle: the default rootfs plus the programs, a file to read and
# a tree of 100 directories × 100 files (10,100 entries) to walk.
scripts/mkbundle.sh "$B" >/dev/null || exit 1
mkdir -p "$R/bench/tree"
cp "$BUILD/bench/bhbench" "$BUILD/bench/true" "$R/bench/" || exit 1
head -c 65536 /dev/urandom >"$R/bench/file"
(cd "$R/bench/tree" && mkdir d{00..99} && for d in d*; do (cd "$d" && touch f{00..99}); done)

cols=(native)
declare -A res unit all where
fails=()
add_col() { # NAME: a column, once
	local c
	for c in "${cols[@]}"; do [ "$c" = "$1" ] && return; done
	cols+=("$1")
}
record() { # RUNTIME: reads RESULT and INFO lines on stdin
	local rt=$1 tag name u v
	while read -r tag name u v; do
		case $tag in
		RESULT)
			all[$rt,$name]+="$v "
			unit[$name]=$u
			;;
		INFO) where[$rt,$name]="$u $v" ;;
		esac
	done
}
# A benchmark that fails prints "bhbench: NAME: n/a: WHY" on stderr: keep
# it for the results, once per runtime and benchmark.
record_fails() { # RUNTIME ERRFILE
	local rt=$1 line f
	while read -r line; do
		for f in "${fails[@]}"; do
			[ "${f%%:*}" = "$rt" ] && [ "${f#*: }" = "$line" ] && continue 2
		done
		echo "bench: $rt: $line" >&2
		fails+=("$rt: $line")
	done < <(grep '^bhbench: .*: n/a: ' "$2" | sed 's/^bhbench: //')
}

# Whole-container /bin/true: median of 5 wall-clock runs, in ms.
container_true() { # RUNTIME CMD...
	local rt=$1 i t0 t1 times=()
	shift
	for i in 1 2 3 4 5; do
		t0=$(date +%s%N)
		"$@" "true-$$-$i" >/dev/null 2>&1 </dev/null || return 1
		t1=$(date +%s%N)
		times+=($(((t1 - t0) / 1000)))
	done
	all[$rt,container_true]+="$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p | awk '{printf "%.1f", $1 / 1000}') "
	unit[container_true]=ms
}

config() { # args... → $B/config.json
	scripts/mkbundle.sh --config -- "$@" >"$B/config.json"
}

run_in() { # NAME SCALE CMD...: runs the suite in a container
	local rt=$1 scale=$2 out=$TMP/$1.out
	shift 2
	echo "bench: $rt" >&2
	add_col "$rt"
	config /bench/bhbench all "$scale"
	if ! timeout -k 5 600 "$@" "bench-$$-$rt" </dev/null >"$out" 2>"$TMP/$rt.err"; then
		echo "bench: $rt failed to run (n/a): $(tail -n 3 "$TMP/$rt.err" | tr '\n' ' ')" >&2
		fails+=("$rt: the suite did not finish (after $(tail -n 1 "$out" | awk '{print $2}')): $(tail -n 1 "$TMP/$rt.err")")
	fi
	record "$rt" <"$out"
	record_fails "$rt" "$TMP/$rt.err"
	config /bin/true
	container_true "$rt" "$@" || echo "bench: $rt: /bin/true container failed" >&2
}

for round in $(seq "$ROUNDS"); do
	echo "bench: native (round $round of $ROUNDS)" >&2
	if [ "$(id -u)" = 0 ]; then
		# chroot, so native runs the same busybox sh as the containers;
		# in a mount namespace with a tmpfs on /tmp, as the bundle has.
		unshare -m sh -c 'mount -t tmpfs -o mode=1777 tmpfs "$1/tmp" &&
			exec chroot "$1" /bench/bhbench all 1' sh "$R" \
			>"$TMP/native.out" 2>"$TMP/native.err" ||
			chroot "$R" /bench/bhbench all 1 >"$TMP/native.out" 2>"$TMP/native.err"
	else
		PATH=$R/bin BENCH_DIR=$R/bench "$R/bench/bhbench" all 1 >"$TMP/native.out" 2>"$TMP/native.err"
	fi

	record native <"$TMP/native.out"
	record_fails native "$TMP/native.err"

	if command -v runc >/dev/null; then
		run_in runc 1 runc --root "$TMP/runc" run --bundle "$B"
	fi
	for p in ${BH_PLATFORMS:-systrap ptrace}; do
		# A platform the sentry was built without fails at once with "not
		# available": show it as an n/a column instead of timing failures.
		config /bin/true
		if ! "$BULKHEAD" --root "$TMP/bh" --platform "$p" run --bundle "$B" \
			"probe-$$-$p" </dev/null >/dev/null 2>"$TMP/probe.err"; then
			echo "bench: bulkhead-$p: n/a ($(head -n 1 "$TMP/probe.err"))" >&2
			add_col "bulkhead-$p"
			"$BULKHEAD" --root "$TMP/bh" delete --force "probe-$$-$p" >/dev/null 2>&1
			continue
		fi
		run_in "bulkhead-$p" "$SCALE" "$BULKHEAD" --root "$TMP/bh" --platform "$p" run --bundle "$B"
		"$BULKHEAD" --root "$TMP/bh" delete --force "bench-$$-bulkhead-$p" >/dev/null 2>&1
	done
	if command -v runsc >/dev/null; then
		run_in runsc-ptrace "$SCALE" runsc --root "$TMP/runsc" --platform=ptrace \
			--network=none --ignore-cgroups run --bundle "$B"
	fi
done
# Each figure: the median over the rounds.
for k in "${!all[@]}"; do
	res[$k]=$(tr ' ' '\n' <<<"${all[$k]}" | grep . | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
done

names=(getpid open_close pread_4k stat fork_exit_wait fork_exec_wait pipe_rt
	epoll_rt eventfd_pp
	mmap_1m write_64m read_64m tree_walk sh_loop_2000 busybox_true_200
	create_20k unlink_20k stat_8k_dir stat_8k_rootfs mmap_15k dup_15k
	kill0_1000 getppid_stream_p50 getppid_stream_p99 threads_2_getppid
	threads_2_stat rootfs_50k_create rootfs_50k_stat rootfs_50k_remove
	container_true)
declare -A label=(
	[getpid]="getpid (raw syscall)"
	[pipe_rt]="pipe round trip, 2 processes"
	[epoll_rt]="pipe round trip, 2 processes in epoll_wait"
	[eventfd_pp]="eventfd ping-pong, 2 processes"
	[fork_exit_wait]="fork + _exit + wait"
	[fork_exec_wait]="fork + exec static true + wait"
	[mmap_1m]="mmap 1 MiB + touch + munmap"
	[open_close]="open + close (rootfs file)"
	[pread_4k]="pread 4 KiB (rootfs file)"
	[stat]="stat (rootfs file)"
	[write_64m]="write 64 MiB sequentially"
	[read_64m]="read 64 MiB sequentially"
	[sh_loop_2000]="busybox sh loop of 2000 (per run)"
	[busybox_true_200]="200 × busybox true from sh (per run)"
	[tree_walk]="tree walk, 10,100 entries (per walk)"
	[create_20k]="create 20,000 empty files in one dir, /tmp (total)"
	[unlink_20k]="unlink those 20,000 files (total)"
	[stat_8k_dir]="stat, dir of 8,000 entries in /tmp"
	[stat_8k_rootfs]="stat, dir of 8,000 entries on the rootfs"
	[mmap_15k]="15,000 1-page mmaps alive, then munmap (total)"
	[dup_15k]="15,000 dups alive, then close (total)"
	[kill0_1000]="kill(pid, 0) with 1,000 live children"
	[getppid_stream_p50]="getppid p50, another thread streaming a 64 MiB file"
	[getppid_stream_p99]="getppid p99, another thread streaming a 64 MiB file"
	[threads_2_getppid]="getppid on 2 threads ÷ 1 thread, same work (0.5 ideal)"
	[threads_2_stat]="stat on 2 threads ÷ 1 thread, same work (0.5 ideal)"
	[rootfs_50k_create]="rootfs tree of 50,000 files: create (total)"
	[rootfs_50k_stat]="rootfs tree of 50,000 files: stat each (total)"
	[rootfs_50k_remove]="rootfs tree of 50,000 files: remove (total)"
	[container_true]="whole container /bin/true (CLI run)"
)
fmt() { # VALUE UNIT: human units
	awk -v v="$1" -v u="$2" 'BEGIN {
		if (u == "ns") { if (v >= 1e6) printf "%.2f ms", v / 1e6; else if (v >= 1e3) printf "%.1f µs", v / 1e3; else printf "%.0f ns", v }
		else if (u == "ms") printf "%.1f ms", v
		else if (u == "us") { if (v >= 1e3) printf "%.2f ms", v / 1e3; else printf "%.2f µs", v }
		else if (u == "x") printf "%.2f", v
		else printf "%s %s", v, u }'
}
ratio() { # VALUE NATIVE UNIT: ×native; for MB/s, how many times slower
	awk -v v="$1" -v n="$2" -v u="$3" 'BEGIN {
		if (n == "" || v == "" || n + 0 == 0 || v + 0 == 0) { printf "—"; exit }
		if (u == "x") exit
		if (u == "MBps") printf "1/%.1f", n / v; else printf "%.1f", v / n }'
}

mkdir -p bench/results
stamp=$(date +%Y-%m-%d)
md=bench/results/$stamp.md
csv=bench/results/$stamp.csv
{
	echo "Bulkhead bench, $(date -u +%Y-%m-%dT%H:%MZ), $(uname -r), $(nproc) CPUs${rev:+, commit $rev}."
	echo
	echo "Medians over $ROUNDS rounds (each runtime once per round, in turn) of medians of 5 runs; per operation unless marked. In brackets: ×native (for MB/s: 1/N = N times slower; for the whole container: ×runc)."
	echo "Sandboxes (Bulkhead, runsc) run 1/$SCALE of native's iterations (\`SLOW_SCALE\`), and never fewer than 100, except the scale rows (marked total, and the set-ups of the 8,000-entry and 1,000-children rows), which run the same counts everywhere; n/a: the runtime or platform is not available here, or the benchmark failed (see below). The ÷ rows are ratios already: no ×native. See bench/README.md."
	echo
	printf '| benchmark |'
	for c in "${cols[@]}"; do printf ' %s |' "$c"; done
	echo
	printf '| --- |'
	for c in "${cols[@]}"; do printf ' --- |'; done
	echo
	for n in "${names[@]}"; do
		printf '| %s |' "${label[$n]}"
		# A whole container has no native run: compare it with runc.
		base=native
		[ "$n" = container_true ] && base=runc
		for c in "${cols[@]}"; do
			v=${res[$c,$n]:-}
			if [ -z "$v" ]; then
				printf ' n/a |'
			elif [ "$c" = native ] || [ "$c" = "$base" ] || [ "${unit[$n]}" = x ]; then
				printf ' %s |' "$(fmt "$v" "${unit[$n]}")"
			else
				printf ' %s (%s) |' "$(fmt "$v" "${unit[$n]}")" "$(ratio "$v" "${res[$base,$n]:-}" "${unit[$n]}")"
			fi
		done
		echo
	done
	echo
	printf 'Where the scale rows ran (from the runs):'
	for k in create_20k rootfs_50k dup_15k getppid_streaming; do
		sep=" $k:"
		for c in "${cols[@]}"; do
			[ -n "${where[$c,$k]:-}" ] && printf '%s %s %s' "$sep" "$c" "${where[$c,$k]}" && sep=","
		done
		printf ';'
	done
	echo
	if [ ${#fails[@]} -gt 0 ]; then
		echo
		echo "Failures (n/a in the table):"
		echo
		for f in "${fails[@]}"; do echo "- $f"; done
	fi
} >"$md"
{
	echo "benchmark,unit,$(IFS=,; echo "${cols[*]}")"
	for n in "${names[@]}"; do
		printf '%s,%s' "$n" "${unit[$n]:-}"
		for c in "${cols[@]}"; do printf ',%s' "${res[$c,$n]:-}"; done
		echo
	done
} >"$csv"
cat "$md"
echo "wrote $md and $csv"
