#!/bin/bash
# Runs every test and counts each check; the last line is "N passed, N failed".
#
#   tests/run.sh            unit tests, guest tests natively and in Bulkhead
#                           on every platform, busybox scripts, CLI tests
#   tests/run.sh --native   only what runs on the host kernel
#
# Environment:
#   BUILD=build             build directory
#   TESTS=regex             run only checks whose name matches (grep -E)
#   BH_PLATFORMS="systrap ptrace"  (also: systrap-ptclone, runc)
#                           platforms to run the sandbox tests on; "runc"
#                           runs the same bundles with runc instead, which
#                           checks the bundles and the tests themselves
#   BH_TIMEOUT=60           seconds per container run
#   KEEP=1                  keep the scratch directory
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BULKHEAD=$PWD/$BUILD/bin/bulkhead
BUNDLE=$PWD/$BUILD/bundle
GUEST=$PWD/$BUILD/tests/guest
TIMEOUT=${BH_TIMEOUT:-60}
NATIVE_ONLY=0
[ "${1:-}" = --native ] && NATIVE_ONLY=1

passed=0
failed=0
failures=()
TMP=$(mktemp -d /tmp/bh-test.XXXXXX)
cleanup() {
	[ "${KEEP:-0}" = 1 ] && { echo "kept $TMP"; return; }
	rm -rf "$TMP"
}
trap cleanup EXIT

selected() { [ -z "${TESTS:-}" ] || grep -Eq -- "$TESTS" <<<"$1"; }
ok() {
	passed=$((passed + 1))
	echo "ok   $1"
}
# A report of the sanitizers (make BUILD=build/debug SAN=1 test): ASan's
# "==PID==ERROR: AddressSanitizer: ..." or UBSan's "file:line:col: runtime
# error: ...".
SAN_RE='^==[0-9]+==ERROR: [A-Za-z]+Sanitizer|^[^ ]+:[0-9]+:[0-9]+: runtime error: '
# fail NAME [LOGFILE]: the log is shown so CI output alone explains it; a
# sanitizer report is shown from its first line, since its top frames are
# the ones that matter.
fail() {
	failed=$((failed + 1))
	failures+=("$1")
	echo "FAIL $1"
	if [ -n "${2:-}" ] && [ -s "$2" ]; then
		if grep -Eq -- "$SAN_RE" "$2"; then
			sed -En "/$SAN_RE/,\$p" "$2" | head -n 60 | sed 's/^/    | /'
		else
			tail -n 40 "$2" | sed 's/^/    | /'
		fi
	fi
}
section() { echo "== $*"; }

# --- 1. unit tests ------------------------------------------------------------
run_unit() {
	local bin name log np nf
	for bin in "$BUILD"/tests/unit/test_*; do
		[ -x "$bin" ] || continue
		name=unit/$(basename "$bin")
		selected "$name" || continue
		log=$TMP/$(basename "$bin").log
		timeout -k 5 "$TIMEOUT" "$bin" >"$log" 2>&1
		local rc=$?
		# cmocka prints per-group totals; sum them to count test cases.
		np=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
		nf=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
		if [ "$np" -eq 0 ] && [ "$nf" -eq 0 ]; then
			if [ $rc -eq 0 ]; then ok "$name"; else fail "$name (exit $rc)" "$log"; fi
			continue
		fi
		passed=$((passed + np))
		echo "ok   $name: $np test(s)"
		if [ "$nf" -gt 0 ] || [ $rc -ne 0 ]; then
			[ "$nf" -gt 0 ] || nf=1
			failed=$((failed + nf - 1))
			fail "$name: $nf test(s) failed (exit $rc)" "$log"
		fi
	done
}

# --- 2. guest tests natively --------------------------------------------------
# Seconds for one run of a guest test: scale.c makes tens of thousands of
# files through the gofer and takes ~40 s on ptrace on a quiet machine, so
# it gets ten times the usual.
# scale runs in its static build only: the dynamic one exercises nothing
# more and would double the suite's longest test.
only_static() { [ "$1" = dynamic ] && [ "$2" = scale ]; }
test_timeout() {
	case $1 in
	scale) echo $((TIMEOUT * 10)) ;;
	*) echo "$TIMEOUT" ;;
	esac
}
EXITCODES="0 1 7 255 sig:9 sig:15 segv"
want_exit() { # the status `run` must report for an exitcode argument
	case $1 in
	sig:*) echo $((128 + ${1#sig:})) ;;
	segv) echo 139 ;;
	*) echo "$1" ;;
	esac
}

run_native() {
	local kind bin name log rc
	for kind in static dynamic; do
		for bin in "$GUEST"/$kind/*; do
			[ -x "$bin" ] || continue
			name=native/$kind/$(basename "$bin")
			[ "$(basename "$bin")" = exitcode ] && continue
			only_static "$kind" "$(basename "$bin")" && continue
			selected "$name" || continue
			log=$TMP/native-$kind-$(basename "$bin").log
			(cd /tmp && timeout -k 5 "$(test_timeout "$(basename "$bin")")" "$bin" </dev/null >"$log" 2>&1)
			rc=$?
			# A test's "phase NAME MS" lines become its native
			# times, passed to its sandbox runs (scale.c's budgets).
			awk '$1 == "phase" { printf "%s%s=%s", n++ ? "," : "", $2, $3 }' "$log" \
				>"$TMP/native-times-$kind-$(basename "$bin")"
			if [ $rc -eq 0 ]; then ok "$name"; else fail "$name (exit $rc)" "$log"; fi
		done
	done
}

# The busybox scripts natively, with busybox's applets first in PATH, prove
# the .expected files right before the sandbox is judged against them.
run_busybox_native() {
	local sh name out rc
	[ -x "$BUNDLE/rootfs/bin/busybox" ] || { fail "busybox/native: no $BUNDLE (make bundle)"; return; }
	for sh in tests/busybox/*.sh; do
		name=native/busybox/$(basename "$sh" .sh)
		selected "$name" || continue
		out=$TMP/native-bb-$(basename "$sh" .sh)
		PATH=$BUNDLE/rootfs/bin timeout -k 5 "$TIMEOUT" \
			"$BUNDLE/rootfs/bin/busybox" sh "$sh" </dev/null >"$out.out" 2>"$out.err"
		rc=$?
		check_output "$name" $rc "$out" "${sh%.sh}.expected"
	done
}

check_output() { # NAME RC OUTBASE EXPECTED
	if [ "$2" -ne 0 ]; then
		cat "$3.err" >>"$3.out"
		fail "$1 (exit $2)" "$3.out"
	elif ! diff -u "$4" "$3.out" >"$3.diff"; then
		cat "$3.err" >>"$3.diff"
		fail "$1 (output differs from $4)" "$3.diff"
	else
		ok "$1"
	fi
}

# --- 3/4. inside the sandbox --------------------------------------------------
# One shared rootfs with the tests and the host libraries the dynamic ones
# need; one bundle directory per run whose config.json points at it.
make_test_rootfs() {
	local r=$TMP/bundle/rootfs lib
	mkdir -p "$TMP/bundle"
	cp -a "$BUNDLE/rootfs" "$r" || return 1
	mkdir -p "$r/tests"
	cp -a "$GUEST/static" "$GUEST/dynamic" "$r/tests/" || return 1
	cp -a tests/busybox "$r/tests/busybox" || return 1
	for lib in $(ldd "$GUEST"/dynamic/* 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $2 ~ /^\(/ { print $1 }' | sort -u); do
		mkdir -p "$r$(dirname "$lib")"
		cp -L "$lib" "$r$lib" || return 1
	done
	# glibc dlopen()s libgcc_s for pthread_exit/cancellation: ldd does not
	# list it, a real image ships it.
	gcc_s=$(ldconfig -p 2>/dev/null | awk '/libgcc_s.so.1 .*x86-64/ { print $NF; exit }')
	if [ -n "$gcc_s" ]; then
		mkdir -p "$r$(dirname "$gcc_s")"
		cp -L "$gcc_s" "$r$gcc_s" || return 1
	fi
	# A host file next to the rootfs: escape.c checks nothing reaches it.
	echo secret >"$TMP/bundle/escape-marker"
}

seq_id=0
# sandbox PLATFORM NAME OUT ERR ARGS...: runs one container, returns its
# exit status (124 on timeout).
sandbox() {
	local p=$1 name=$2 out=$3 err=$4
	shift 4
	seq_id=$((seq_id + 1))
	local id="bhtest-$$-$seq_id" b="$TMP/b/$seq_id" rc
	mkdir -p "$b"
	local extra=() tmo=$TIMEOUT
	[ -n "${SB_NATIVE_TIMES:-}" ] && extra=(--env "BH_NATIVE_TIMES=$SB_NATIVE_TIMES")
	[ -n "${SB_TIMEOUT:-}" ] && tmo=$SB_TIMEOUT
	scripts/mkbundle.sh --config --root "$TMP/bundle/rootfs" \
		--env BH_EXPECT_PID1=1 --env BH_EXPECT_HOSTNAME=bulkhead "${extra[@]}" \
		--env "BH_ESCAPE_MARKER=$TMP/bundle/escape-marker" \
		-- "$@" >"$b/config.json"
	if [ "$p" = runc ]; then
		timeout -k 5 "$tmo" runc --root "$TMP/run" run --bundle "$b" "$id" </dev/null >"$out" 2>"$err"
		rc=$?
		runc --root "$TMP/run" delete --force "$id" >/dev/null 2>&1
	else
		# systrap-ptclone: systrap cloning through ptrace, as on
		# kernels without PIDFD_GET_INFO (before 6.13).
		local plat=$p
		[ "$p" = systrap-ptclone ] && plat=systrap
		BH_SYSTRAP_CLONE=$([ "$p" = systrap-ptclone ] && echo ptrace) \
			timeout -k 5 "$tmo" "$BULKHEAD" --root "$TMP/run" --platform "$plat" \
			--log "$TMP/b/$seq_id.bhlog" run --bundle "$b" "$id" </dev/null >"$out" 2>"$err"
		rc=$?
		"$BULKHEAD" --root "$TMP/run" delete --force "$id" >/dev/null 2>&1
	fi
	[ $rc -eq 124 ] && echo "timed out after ${tmo}s: $name" >>"$err"
	local log=$TMP/b/$seq_id.bhlog
	if grep -Eqs -- "$SAN_RE" "$log" "$err"; then
		# The sentry (debug build) sends its reports to the log. A report
		# fails the run whatever the exit status, since tests that expect
		# a non-zero status would otherwise hide it.
		echo "sanitizer report (exit $rc): $name" >>"$err"
		[ -s "$log" ] && { echo "--- bulkhead log:"; sed -En "/$SAN_RE/,\$p" "$log" | head -n 60; } >>"$err"
		return 98
	fi
	[ -s "$log" ] && { echo "--- bulkhead log:"; tail -n 20 "$log"; } >>"$err"
	return $rc
}

run_platform() {
	local p=$1 kind bin t name log rc arg want sh out
	# A probe run decides whether the platform works here at all.
	log=$TMP/probe-$p
	sandbox "$p" probe "$log.out" "$log.err" /bin/true
	rc=$?
	if [ $rc -ne 0 ]; then
		if grep -Eqi 'unavailable|not available|not supported|unsupported' "$log.err"; then
			echo "SKIP platform $p: $(grep -Ei 'unavailable|not available|not supported|unsupported' "$log.err" | head -1)"
			return
		fi
		cat "$log.out" >>"$log.err"
		fail "$p: container start (/bin/true exit $rc); rest of $p skipped" "$log.err"
		return
	fi
	for kind in static dynamic; do
		for bin in "$GUEST"/$kind/*; do
			t=$(basename "$bin")
			[ "$t" = exitcode ] && continue
			only_static "$kind" "$t" && continue
			name=$p/$kind/$t
			selected "$name" || continue
			log=$TMP/$p-$kind-$t
			SB_NATIVE_TIMES=$(cat "$TMP/native-times-$kind-$t" 2>/dev/null) \
				SB_TIMEOUT=$(test_timeout "$t") \
				sandbox "$p" "$name" "$log.out" "$log.err" "/tests/$kind/$t"
			rc=$?
			if [ $rc -eq 0 ]; then ok "$name"; else cat "$log.err" >>"$log.out"; fail "$name (exit $rc)" "$log.out"; fi
		done
	done
	for arg in $EXITCODES; do
		name=$p/exitcode/$arg
		selected "$name" || continue
		want=$(want_exit "$arg")
		log=$TMP/$p-exit-${arg/:/}
		sandbox "$p" "$name" "$log.out" "$log.err" /tests/static/exitcode "$arg"
		rc=$?
		if [ $rc -eq "$want" ]; then ok "$name → $want"; else fail "$name: exit $rc, want $want" "$log.err"; fi
	done
	# The default bundle's own command shows it is sandboxed.
	name=$p/bundle/hello
	if selected "$name"; then
		log=$TMP/$p-hello
		sandbox "$p" "$name" "$log.out" "$log.err" /bin/sh -c 'echo "pid=$$ host=$(hostname)"; ls /'
		rc=$?
		if [ $rc -eq 0 ] && grep -qx 'pid=1 host=bulkhead' "$log.out" && grep -qx tests "$log.out"; then
			ok "$name"
		else
			cat "$log.err" >>"$log.out"
			fail "$name (exit $rc)" "$log.out"
		fi
	fi
	for sh in tests/busybox/*.sh; do
		t=$(basename "$sh" .sh)
		name=$p/busybox/$t
		selected "$name" || continue
		out=$TMP/$p-bb-$t
		sandbox "$p" "$name" "$out.out" "$out.err" /bin/sh "/tests/busybox/$t.sh"
		check_output "$name" $? "$out" "${sh%.sh}.expected"
	done
}

# --- 5. CLI tests -------------------------------------------------------------
run_cli() {
	local log=$TMP/cli.log line rc n=0
	[ -f tests/cli/cli_test.sh ] || return
	selected cli || return
	bash tests/cli/cli_test.sh "$BUILD/bin/bulkhead" "$BUILD/bundle" >"$log" 2>&1
	rc=$?
	while IFS= read -r line; do
		case $line in
		ok*) ok "cli: ${line#ok}"; n=$((n + 1)) ;;
		FAIL*) fail "cli: ${line#FAIL}"; n=$((n + 1)) ;;
		esac
	done <"$log"
	if [ $rc -ne 0 ] && ! grep -q '^FAIL' "$log"; then
		fail "cli: cli_test.sh exit $rc" "$log"
	elif [ $n -eq 0 ]; then
		fail "cli: cli_test.sh printed no ok/FAIL lines" "$log"
	fi
}

if [ $NATIVE_ONLY = 0 ]; then
	section "unit tests"
	run_unit
fi
section "guest tests, native"
run_native
section "busybox scripts, native"
run_busybox_native
if [ $NATIVE_ONLY = 0 ]; then
	if ! make_test_rootfs; then
		fail "sandbox: could not assemble the test rootfs"
	else
		for p in ${BH_PLATFORMS:-systrap ptrace}; do
			section "in the sandbox: $p"
			if [ "$p" != runc ] && [ ! -x "$BULKHEAD" ]; then
				fail "$p: $BULKHEAD missing"
				continue
			fi
			run_platform "$p"
		done
	fi
	section "CLI"
	run_cli
fi

if [ $failed -gt 0 ]; then
	echo "failed:"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
