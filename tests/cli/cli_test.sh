#!/bin/bash
# Tests of the bulkhead CLI: bad input is refused with one clear line and
# leaves nothing behind, and the lifecycle (create/start/state/kill/delete/
# run) follows the OCI runtime contract.
#   tests/cli/cli_test.sh BULKHEAD_BINARY BUNDLE_DIR
# Prints "ok NAME" or "FAIL NAME: why" per check; exits 1 if any failed.
# The bad-input checks need only the CLI. The lifecycle checks need a working
# bulkhead-sentry next to the binary; without one they print "skip NAME".
set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 BULKHEAD_BINARY BUNDLE_DIR" >&2
	exit 2
fi
BH=$(readlink -f "$1")
BUNDLE=$(readlink -f "$2")
[ -x "$BH" ] || { echo "FAIL setup: $1 is not executable"; exit 1; }

TMP=$(mktemp -d /tmp/bh-cli-test.XXXXXX)
ROOT=$TMP/root
FAILED=0
SLEEPERS=()

cleanup() {
	if [ -d "$ROOT" ]; then
		for d in "$ROOT"/*/; do
			[ -d "$d" ] && "$BH" --root "$ROOT" delete --force \
				"$(basename "$d")" >/dev/null 2>&1
		done
	fi
	for p in "${SLEEPERS[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT

ok() { echo "ok $1"; }
# alive PID: running and not a zombie (an exited sentry that was reparented
# may wait a while to be reaped, and kill -0 succeeds on a zombie).
alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
fail() {
	echo "FAIL $1: $2"
	FAILED=1
}

# bh ARGS...: run the CLI with the test's root; sets RC, OUT, ERR.
bh() {
	"$BH" --root "$ROOT" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	RC=$?
	OUT=$(cat "$TMP/out")
	ERR=$(cat "$TMP/err")
}

# refuse NAME PATTERN ARGS...: the command must fail with exactly one stderr
# line "bulkhead: ..." matching the extended regex PATTERN.
refuse() {
	local name=$1 pat=$2
	shift 2
	bh "$@"
	local lines
	lines=$(printf '%s' "$ERR" | grep -c '')
	if [ "$RC" -eq 0 ]; then
		fail "$name" "succeeded (expected an error)"
	elif [ "$lines" -ne 1 ]; then
		fail "$name" "expected one line on stderr, got $lines: $ERR"
	elif ! printf '%s' "$ERR" | grep -qE "^bulkhead: "; then
		fail "$name" "stderr does not start with 'bulkhead: ': $ERR"
	elif ! printf '%s' "$ERR" | grep -qiE -- "$pat"; then
		fail "$name" "stderr does not match /$pat/: $ERR"
	else
		ok "$name"
	fi
}

# succeed NAME ARGS...
succeed() {
	local name=$1
	shift
	bh "$@"
	if [ "$RC" -ne 0 ]; then
		fail "$name" "exit $RC: $ERR"
		return 1
	fi
	ok "$name"
}

# No container directory may be left under the root except those named.
no_leftovers() {
	local name=$1
	shift
	local extra=""
	if [ -d "$ROOT" ]; then
		for d in "$ROOT"/*; do
			[ -e "$d" ] || continue
			local b keep=0
			b=$(basename "$d")
			for k in "$@"; do [ "$b" = "$k" ] && keep=1; done
			[ $keep -eq 0 ] && extra="$extra $b"
		done
	fi
	if [ -n "$extra" ]; then
		fail "$name" "left behind:$extra"
		rm -rf "${ROOT:?}"/$extra 2>/dev/null
	else
		ok "$name"
	fi
}

# make_bundle DIR ARGS_JSON [SED_EXPR]: a bundle from `bulkhead spec` with
# process.args replaced, its rootfs the given bundle's (absolute path).
SRC_ROOTFS=$(sed -n 's/.*"path"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' \
	"$BUNDLE/config.json" 2>/dev/null | head -n1)
[ -n "$SRC_ROOTFS" ] || SRC_ROOTFS=rootfs
case $SRC_ROOTFS in /*) ;; *) SRC_ROOTFS=$BUNDLE/$SRC_ROOTFS ;; esac
make_bundle() {
	local dir=$1 args=$2 extra=${3:-}
	mkdir -p "$dir"
	rm -f "$dir/config.json"
	"$BH" spec --bundle "$dir" || return 1
	sed -i -e "s|^\([[:space:]]*\)\"sh\"\$|\1$args|" \
		-e "s|\"path\": \"rootfs\"|\"path\": \"$SRC_ROOTFS\"|" \
		"$dir/config.json"
	[ -n "$extra" ] && sed -i -e "$extra" "$dir/config.json"
	return 0
}

# A fake state directory as create would leave it, for a "container" whose
# sentry is PID (with its real start time, or a wrong one).
fake_state() {
	local id=$1 pid=$2 status=$3 start=${4:-}
	mkdir -p -m 0711 "$ROOT"
	mkdir -m 0700 "$ROOT/$id"
	if [ -z "$start" ]; then
		start=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null |
			cut -d' ' -f20)
		[ -n "$start" ] || start=1
	fi
	cat >"$ROOT/$id/state.json" <<-EOF
		{"ociVersion":"1.0.2","id":"$id","pid":$pid,"pid_start":$start,
		 "gofer_pid":0,"gofer_start":0,"bundle":"$TMP/none",
		 "rootfs":"$TMP/none/rootfs","created":"2024-01-01T00:00:00.000000000Z",
		 "status":"$status","platform":"systrap"}
	EOF
}

# ---------------------------------------------------------------------------
# Bad input: the CLI alone.

refuse no-command "missing command"
refuse unknown-command "unknown command" frobnicate
# runc commands clients call that are not there yet: said so, not "unknown".
refuse exec-unsupported "exec is not supported yet" exec x
refuse pause-unsupported "pause is not supported yet" pause x
refuse events-unsupported "events is not supported yet" events --stats x
refuse unknown-global-flag "--bogus" --bogus state x
refuse global-flag-needs-value "--root" --root
refuse bad-log-format "log-format" --log-format xml state x
refuse bad-platform "platform" --platform kvm state x
refuse unknown-create-flag "--frob" create --frob x
refuse create-flag-needs-value "--bundle" create --bundle
refuse create-detach-flag "--detach" create --detach x
for cmd in create start state delete ps run; do
	refuse "missing-id-$cmd" "missing container id" $cmd
done
refuse missing-id-kill "missing container id" kill
refuse extra-arg-state "unexpected argument" state a b

for bad in "../x" "." ".." "a/b" "a b" "x;y" "" "$(printf 'a%.0s' $(seq 1025))"; do
	refuse "bad-id-create[${bad:0:8}]" "invalid container id" create --bundle "$TMP" "$bad"
done
refuse bad-id-state "invalid container id" state "../etc"
refuse bad-id-delete "invalid container id" delete --force "a/b"

refuse unknown-id-state "does not exist" state nosuch
refuse unknown-id-start "does not exist" start nosuch
refuse unknown-id-kill "does not exist" kill nosuch
refuse unknown-id-delete "does not exist" delete nosuch
refuse unknown-id-ps "does not exist" ps nosuch
succeed delete-force-unknown-id delete --force nosuch

refuse bad-signal "invalid signal" kill nosuch SIGFOO
refuse bad-signal-number "invalid signal" kill nosuch 99

# spec
mkdir -p "$TMP/spec"
if succeed spec-writes "spec" --bundle "$TMP/spec" &&
	grep -q '"ociVersion"' "$TMP/spec/config.json"; then
	ok spec-content
else
	fail spec-content "no config.json written"
fi
refuse spec-refuses-existing "exists" spec --bundle "$TMP/spec"

# Bundles that must be refused before anything starts.
mkdir -p "$TMP/nocfg"
refuse missing-bundle "not a directory|no such" create --bundle "$TMP/nonexistent" c1
refuse missing-config "config.json" create --bundle "$TMP/nocfg" c1
mkdir -p "$TMP/badjson/rootfs"
printf '{"process": {"args": ["/bin/sh"]' >"$TMP/badjson/config.json"
refuse malformed-config "config.json" create --bundle "$TMP/badjson" c1
printf '[]' >"$TMP/badjson/config.json"
refuse config-not-object "config.json" create --bundle "$TMP/badjson" c1
mkdir -p "$TMP/norootfs"
"$BH" spec --bundle "$TMP/norootfs"
refuse missing-rootfs "rootfs" create --bundle "$TMP/norootfs" c1
mkdir -p "$TMP/rootfile"
"$BH" spec --bundle "$TMP/rootfile"
touch "$TMP/rootfile/rootfs"
refuse rootfs-not-dir "rootfs" create --bundle "$TMP/rootfile" c1

badcfg() { # NAME PATTERN SED_EXPR
	local d=$TMP/cfg-$1
	make_bundle "$d" '"sh"' "$3"
	refuse "$1" "$2" create --bundle "$d" c1
}
badcfg relative-arg0 "args\[0\]" 's|^\([[:space:]]*\)"sh"$|\1"bin/sh"|'
badcfg dot-arg0 "args\[0\]" 's|^\([[:space:]]*\)"sh"$|\1"./x"|'
badcfg empty-arg0 "args\[0\]" 's|^\([[:space:]]*\)"sh"$|\1""|'
badcfg nonstring-arg "args\[0\]" 's|^\([[:space:]]*\)"sh"$|\1 42|'
badcfg missing-args "process.args" 's|"args": \[|"argv": [|'
badcfg empty-args "process.args is empty" 's|^\([[:space:]]*\)"sh"$||'
badcfg terminal-without-console "console-socket" 's|"terminal": false|"terminal": true|'
badcfg relative-mount-dest "absolute" 's|"destination": "/tmp"|"destination": "tmp"|'
badcfg dotdot-mount-dest '\.\.' 's|"destination": "/tmp"|"destination": "/tmp/../../etc"|'
badcfg unknown-namespace "unknown type" 's|{"type": "uts"}|{"type": "nope"}|'
badcfg duplicate-namespace "duplicate" 's|{"type": "uts"}|{"type": "pid"}|'
badcfg env-without-equals "process.env" 's|"TERM=xterm"|"TERM"|'
badcfg missing-root-path "root.path" 's|"path": "[^"]*"|"paht": "x"|'
badcfg missing-bind-source "mount source|source" 's|"destination": "/tmp",|"destination": "/mnt", "source": "'"$TMP"'/no-such-dir", "options": ["bind"],|'
# Fields that cannot be honoured are refused, never skipped.
badcfg unknown-mount-type 'type "ext4"' '/"destination": "\/tmp"/{n;s/"tmpfs"/"ext4"/}'
badcfg mount-on-root "mount on /" 's|"destination": "/tmp"|"destination": "/"|'
badcfg nofile-above-nr-open "RLIMIT_NOFILE" 's|"hard": 1024|"hard": 1099511627776|'
badcfg root-is-host-root "host's root" 's|"path": "'"$SRC_ROOTFS"'"|"path": "/"|'
# A control character in an argument cannot split the error line.
refuse bad-id-newline "invalid container id" create --bundle "$TMP" "$(printf 'a\nb')"
no_leftovers no-state-after-bad-create

# A console socket needs a terminal, and must be there to take the pty; a
# terminal needs a console socket or a foreground run from a terminal.
make_bundle "$TMP/good" '"true"'
refuse console-socket-no-terminal "needs process.terminal" create --bundle "$TMP/good" --console-socket "$TMP/cs" c1
refuse console-socket-missing "console socket .*: connecting" create --bundle "$TMP/cfg-terminal-without-console" --console-socket "$TMP/no-such.sock" c1
refuse run-detach-terminal "console-socket" run --detach --bundle "$TMP/cfg-terminal-without-console" c1
refuse run-tty-not-a-terminal "console-socket" run -t --bundle "$TMP/good" c1

# The error also goes to the --log file, as JSON when asked.
"$BH" --root "$ROOT" --log "$TMP/log.json" --log-format json state nosuch 2>/dev/null
if grep -q '"level":"error"' "$TMP/log.json" 2>/dev/null &&
	grep -q 'does not exist' "$TMP/log.json"; then
	ok log-json-error
else
	fail log-json-error "no JSON error line in --log: $(cat "$TMP/log.json" 2>/dev/null)"
fi

# State-dependent refusals, on state directories made by hand.
# Started from a subshell so that it is not this shell's job (no "Killed"
# notice) and, like a real sentry after create, not our child.
spawn_sleeper() { (sleep 300 </dev/null >/dev/null 2>&1 & echo $!); }
SLEEPER=$(spawn_sleeper)
SLEEPERS+=("$SLEEPER")
fake_state dup "$SLEEPER" running
refuse duplicate-id "already exists" create --bundle "$TMP/good" dup
refuse start-running "already running|cannot start" start dup
refuse delete-running "not stopped" delete dup
bh state dup
if [ $RC -eq 0 ] && printf '%s' "$OUT" | grep -q '"status": *"running"'; then
	ok state-live-running
else
	fail state-live-running "rc=$RC out=$OUT err=$ERR"
fi
bh ps --format json dup
if [ $RC -eq 0 ] && [ "$OUT" = "[$SLEEPER]" ]; then ok ps-json; else fail ps-json "rc=$RC out=$OUT"; fi
bh list --format json
if [ $RC -eq 0 ] && printf '%s' "$OUT" | grep -q '"id": *"dup"'; then ok list-json; else fail list-json "rc=$RC out=$OUT"; fi
bh list -q
if [ $RC -eq 0 ] && [ "$OUT" = "dup" ]; then ok list-quiet; else fail list-quiet "rc=$RC out=$OUT"; fi
succeed delete-force-running delete --force dup
if alive "$SLEEPER"; then
	fail delete-force-kills "pid $SLEEPER still alive"
else
	ok delete-force-kills
fi
[ -d "$ROOT/dup" ] && fail delete-force-removes "state dir left" || ok delete-force-removes

# A recorded pid that now belongs to another process (start time differs)
# is a stopped container, and that process is never signalled.
OTHER=$(spawn_sleeper)
SLEEPERS+=("$OTHER")
fake_state reused "$OTHER" running 12345
bh state reused
printf '%s' "$OUT" | grep -q '"status": *"stopped"' && ok pid-reuse-stopped ||
	fail pid-reuse-stopped "out=$OUT err=$ERR"
refuse start-stopped "stopped" start reused
refuse kill-stopped "not running" kill reused KILL
succeed delete-stopped delete reused
alive "$OTHER" && ok pid-reuse-not-killed || fail pid-reuse-not-killed "pid $OTHER was killed"
[ -d "$ROOT/reused" ] && fail delete-stopped-removes "state dir left" || ok delete-stopped-removes

# Hostile state.json: refused, not trusted.
mkdir -p -m 0700 "$ROOT/garbage"
printf '{"id":"other","pid":"x"}' >"$ROOT/garbage/state.json"
refuse hostile-state "cannot read state" state garbage
succeed delete-force-garbage delete --force garbage

bh features
if [ $RC -eq 0 ] && printf '%s' "$OUT" | grep -q '"ociVersionMax"'; then ok features; else fail features "rc=$RC"; fi
bh --version
if [ $RC -eq 0 ] && printf '%s' "$OUT" | grep -q 'bulkhead version'; then ok version; else fail version "rc=$RC"; fi
no_leftovers no-leftovers-bad-input

# ---------------------------------------------------------------------------
# Lifecycle: needs the real sentry and gofer.

if [ ! -x "$(dirname "$BH")/bulkhead-sentry" ] || [ ! -x "$(dirname "$BH")/bulkhead-gofer" ] ||
	[ ! -d "$SRC_ROOTFS" ]; then
	for n in create state-created start state-running kill-term delete \
		run-exit-code run-signal-exit run-stdout run-detach run-keep; do
		echo "skip $n: no bulkhead-sentry/gofer next to $BH or no rootfs"
	done
	exit $FAILED
fi

state_of() { # ID -> prints status
	"$BH" --root "$ROOT" state "$1" 2>/dev/null |
		sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p'
}
pid_of() {
	"$BH" --root "$ROOT" state "$1" 2>/dev/null |
		sed -n 's/.*"pid": *\([0-9]*\).*/\1/p'
}
wait_status() { # ID STATUS: poll up to 5 s
	for _ in $(seq 50); do
		[ "$(state_of "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

make_bundle "$TMP/sleep" '"sleep", "100"'
if succeed create create --bundle "$TMP/sleep" --pid-file "$TMP/pid" c1; then
	[ "$(state_of c1)" = created ] && ok state-created || fail state-created "status $(state_of c1)"
	[ "$(cat "$TMP/pid" 2>/dev/null)" = "$(pid_of c1)" ] && ok pid-file ||
		fail pid-file "pid file $(cat "$TMP/pid" 2>/dev/null) != state pid $(pid_of c1)"
	refuse duplicate-id-live "already exists" create --bundle "$TMP/sleep" c1
	succeed start start c1
	[ "$(state_of c1)" = running ] && ok state-running || fail state-running "status $(state_of c1)"
	refuse start-twice "already running|cannot start" start c1
	refuse delete-running-live "not stopped" delete c1
	# The container's init is a PID-namespace init: SIGTERM without a
	# handler does nothing (as runc: docker stop then sends SIGKILL).
	succeed kill-term kill c1
	sleep 1
	[ "$(state_of c1)" = running ] && ok init-ignores-sigterm || fail init-ignores-sigterm "status $(state_of c1)"
	succeed kill-kill kill c1 KILL
	wait_status c1 stopped && ok stopped-after-kill || fail stopped-after-kill "status $(state_of c1)"
	refuse kill-stopped-live "not running" kill c1
	refuse start-stopped-live "stopped" start c1
	succeed delete delete c1
	refuse state-after-delete "does not exist" state c1
fi

if succeed create-for-sigkill create --bundle "$TMP/sleep" c2; then
	succeed start-for-sigkill start c2
	succeed kill-sigkill kill c2 SIGKILL
	wait_status c2 stopped && ok stopped-after-sigkill || fail stopped-after-sigkill "status $(state_of c2)"
	succeed delete-after-sigkill delete c2
fi

if succeed create-then-delete create --bundle "$TMP/sleep" c3; then
	P=$(pid_of c3)
	succeed delete-created delete c3
	alive "$P" && fail delete-created-kills "sentry $P alive" || ok delete-created-kills
fi

if succeed create-for-force create --bundle "$TMP/sleep" c4; then
	succeed start-for-force start c4
	P=$(pid_of c4)
	succeed delete-force-live delete --force c4
	alive "$P" && fail delete-force-live-kills "sentry $P alive" || ok delete-force-live-kills
fi

make_bundle "$TMP/exit3" '"sh", "-c", "exit 3"'
bh run --bundle "$TMP/exit3" r1
[ $RC -eq 3 ] && ok run-exit-code || fail run-exit-code "rc=$RC err=$ERR"
[ -d "$ROOT/r1" ] && fail run-deletes "state left" || ok run-deletes

make_bundle "$TMP/true" '"true"'
bh run --bundle "$TMP/true" r2
[ $RC -eq 0 ] && ok run-true || fail run-true "rc=$RC err=$ERR"

# Init cannot be killed from inside (Linux's SIGNAL_UNKILLABLE, as runc).
make_bundle "$TMP/selfkill" '"sh", "-c", "kill -9 $$; echo survived"'
bh run --bundle "$TMP/selfkill" r3
[ $RC -eq 0 ] && [ "$OUT" = survived ] && ok init-ignores-own-sigkill || fail init-ignores-own-sigkill "rc=$RC out=$OUT err=$ERR"
# ... but from outside it can: run's exit status says so.
"$BH" --root "$ROOT" run --bundle "$TMP/sleep" r3k </dev/null >/dev/null 2>&1 &
CLI=$!
wait_status r3k running
"$BH" --root "$ROOT" kill r3k KILL
wait $CLI
RC=$?
[ $RC -eq 137 ] && ok run-signal-exit || fail run-signal-exit "rc=$RC"

make_bundle "$TMP/echo" '"echo", "hello bulkhead"'
bh run --bundle "$TMP/echo" r4
[ $RC -eq 0 ] && [ "$OUT" = "hello bulkhead" ] && ok run-stdout || fail run-stdout "rc=$RC out=$OUT err=$ERR"

# kill KILL returns once the sandbox is dead: a plain delete right after
# finds it stopped (it failed about 1 time in 100).
kd_fail=0
for i in $(seq 20); do
	bh run --detach --bundle "$TMP/sleep" kd$i
	bh kill kd$i KILL
	bh delete kd$i
	[ $RC -eq 0 ] || {
		kd_fail=$((kd_fail + 1))
		bh delete --force kd$i
	}
done
[ $kd_fail -eq 0 ] && ok kill-kill-then-delete || fail kill-kill-then-delete "$kd_fail of 20 deletes failed"

bh run --detach --bundle "$TMP/sleep" r5
if [ $RC -eq 0 ] && [ "$(state_of r5)" = running ]; then ok run-detach; else fail run-detach "rc=$RC status=$(state_of r5) err=$ERR"; fi
succeed delete-detached delete --force r5

bh run --keep --bundle "$TMP/true" r6
if [ $RC -eq 0 ] && [ "$(state_of r6)" = stopped ]; then ok run-keep; else fail run-keep "rc=$RC status=$(state_of r6)"; fi
succeed delete-kept delete r6

# A signal to the foreground CLI is forwarded to the container.
# (An init with a handler: one without ignores SIGTERM, as above.)
make_bundle "$TMP/trapterm" '"sh", "-c", "trap \\"exit 143\\" TERM; while :; do sleep 0.1; done"'
"$BH" --root "$ROOT" run --bundle "$TMP/trapterm" r7 </dev/null >/dev/null 2>&1 &
CLI=$!
wait_status r7 running
sleep 0.5 # the trap is set once sh runs
kill -TERM $CLI
wait $CLI
RC=$?
[ $RC -eq 143 ] && ok run-forwards-sigterm || fail run-forwards-sigterm "rc=$RC"

# ---------------------------------------------------------------------------
# Confinement and cleanup (DESIGN rules 3 and 4), on a running container.

# start_time PID: field 22 of /proc/PID/stat, to tell a pid from its reuse.
start_time() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }
# descendants PID: every live process below PID, by the ppid field of
# /proc/*/stat (so only the sentry's own tree, nothing unrelated).
descendants() {
	local -A kids=()
	local st p pp
	for st in /proc/[0-9]*/stat; do
		p=${st#/proc/}
		p=${p%/stat}
		pp=$(sed 's/.*) //' "$st" 2>/dev/null | cut -d' ' -f2)
		[ -n "$pp" ] && kids[$pp]="${kids[$pp]:-} $p"
	done
	local queue=("$1") out=()
	while [ ${#queue[@]} -gt 0 ]; do
		p=${queue[0]}
		queue=("${queue[@]:1}")
		for c in ${kids[$p]:-}; do
			out+=("$c")
			queue+=("$c")
		done
	done
	echo "${out[@]}"
}
# The stub running guest code: a descendant whose whole cmdline is
# "bulkhead-stub" (the stub master is a forked sentry and keeps its name).
find_stub() {
	local p
	for p in $(descendants "$1"); do
		[ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" = "bulkhead-stub " ] &&
			{ echo "$p"; return 0; }
	done
	return 1
}

bh run --detach --bundle "$TMP/sleep" lk1
if [ $RC -ne 0 ]; then
	fail run-detach-for-leftovers "rc=$RC err=$ERR"
else
	SP=$(pid_of lk1)
	GP=$(sed -n 's/.*"gofer_pid": *\([0-9]*\).*/\1/p' "$ROOT/lk1/state.json")
	STUB=
	for _ in $(seq 50); do
		STUB=$(find_stub "$SP") && break
		sleep 0.1
	done
	if [ -z "$STUB" ]; then
		fail stub-found "no bulkhead-stub process below sentry $SP"
	else
		ok stub-found
		S=$(cat "/proc/$STUB/status" 2>/dev/null)
		why=
		grep -q "^Seccomp:	2$" <<<"$S" || why="$why $(grep ^Seccomp: <<<"$S")"
		grep -q "^NoNewPrivs:	1$" <<<"$S" || why="$why $(grep ^NoNewPrivs: <<<"$S")"
		grep -q "^CapEff:	0000000000000000$" <<<"$S" || why="$why $(grep ^CapEff: <<<"$S")"
		[ -z "$why" ] && ok stub-confined || fail stub-confined "stub $STUB:$why"
		why=
		for ns in pid mnt net user ipc uts; do
			a=$(readlink "/proc/$STUB/ns/$ns" 2>/dev/null)
			b=$(readlink "/proc/1/ns/$ns" 2>/dev/null)
			{ [ -n "$a" ] && [ "$a" != "$b" ]; } || why="$why $ns($a)"
		done
		[ -z "$why" ] && ok stub-namespaces || fail stub-namespaces "stub $STUB shares the host's:$why"
	fi
	# Everything the sandbox started, with start times against pid reuse.
	procs=()
	for p in "$SP" $GP $(descendants "$SP"); do
		procs+=("$p:$(start_time "$p")")
	done
	kill -9 "$SP"
	left=
	for _ in $(seq 50); do
		left=
		for e in "${procs[@]}"; do
			p=${e%%:*}
			alive "$p" && [ "$(start_time "$p")" = "${e#*:}" ] && left="$left $p"
		done
		[ -z "$left" ] && break
		sleep 0.1
	done
	if [ -n "$left" ]; then
		fail sentry-kill-leaves-nothing "alive 5 s after kill -9 of sentry $SP:$left"
		for p in $left; do kill -9 "$p" 2>/dev/null; done
	else
		ok sentry-kill-leaves-nothing
	fi
	succeed delete-force-after-sentry-kill delete --force lk1
	[ -d "$ROOT/lk1" ] && fail delete-force-after-sentry-kill-removes "state dir left" ||
		ok delete-force-after-sentry-kill-removes
fi

# A CLI killed during create leaves nothing that state does not know: the
# sentry exits when its ready line finds no reader, and a recorded
# container is deleted by delete --force.
unknown=0
for i in $(seq 10); do
	"$BH" --root "$ROOT" create --bundle "$TMP/sleep" kc$i </dev/null >/dev/null 2>&1 &
	c=$!
	sleep "0.0$((i - 1))"
	kill -9 $c 2>/dev/null
	wait $c 2>/dev/null
	# The sentry sees the CLI gone only when boot ends (its ready line):
	# give a loaded machine 30 s to either record or end the sandbox.
	lost=1
	for _ in $(seq 300); do
		if "$BH" --root "$ROOT" state kc$i >/dev/null 2>&1 ||
			! pgrep -f "bulkhead-sentry --id kc$i " >/dev/null; then
			lost=0
			break
		fi
		sleep 0.1
	done
	unknown=$((unknown + lost))
	"$BH" --root "$ROOT" delete --force kc$i >/dev/null 2>&1
	pkill -9 -f "bulkhead-(sentry|gofer) --id kc$i " 2>/dev/null
done
[ $unknown -eq 0 ] && ok cli-killed-in-create-leaves-nothing-unknown ||
	fail cli-killed-in-create-leaves-nothing-unknown "$unknown of 10 sandboxes alive but unknown to state"

# ---------------------------------------------------------------------------
# Resources (linux.resources) through the sandbox's own cgroup, on this
# host's hierarchy (v1, v2 or hybrid).

# cg_left ID: directories named ID under a bulkhead/ cgroup, if any.
cg_left() { find /sys/fs/cgroup -mindepth 2 -type d -path "*/bulkhead/$1" 2>/dev/null; }
res_bundle() { # DIR ARGS RESOURCES_JSON
	make_bundle "$1" "$2" "s|\"linux\": {|\"linux\": { \"resources\": $3,|"
}
if [ "$(id -u)" != 0 ] || [ ! -d /sys/fs/cgroup ]; then
	echo "skip resources: not root or no /sys/fs/cgroup"
else
	# A 150 MB buffer (dd's, in guest memory: no pipe through the
	# sentry) under a 64 MiB limit: the host's OOM killer ends dd, and
	# its shell sees 137, as under runc; 20 MB is fine.
	res_bundle "$TMP/mem" '"sh", "-c", "dd if=/dev/zero of=/dev/null bs=150M count=1 2>/dev/null; echo $?"' '{"memory": {"limit": 67108864}}'
	bh run --bundle "$TMP/mem" rm1
	[ $RC -eq 0 ] && [ "$OUT" = 137 ] && ok memory-limit-oom-137 || fail memory-limit-oom-137 "rc=$RC out=$OUT err=$(head -c 300 <<<"$ERR")"
	[ -z "$(cg_left rm1)" ] && ok memory-cgroup-removed || fail memory-cgroup-removed "left: $(cg_left rm1)"
	res_bundle "$TMP/nomem" '"sh", "-c", "dd if=/dev/zero of=/dev/null bs=20M count=1 2>/dev/null; echo $?"' '{"memory": {"limit": 67108864}}'
	bh run --bundle "$TMP/nomem" rm2
	[ $RC -eq 0 ] && [ "$OUT" = 0 ] && ok memory-small-lives || fail memory-small-lives "rc=$RC out=$OUT err=$(head -c 300 <<<"$ERR")"
	# pids.limit 20: init and 19 children, then fork is EAGAIN, exactly.
	res_bundle "$TMP/pids" '"sh", "-c", "i=0; while [ $i -lt 40 ]; do sleep 30 \& i=$((i+1)); echo $i; done"' '{"pids": {"limit": 20}}'
	bh run --bundle "$TMP/pids" rp1
	last=$(printf '%s\n' "$OUT" | tail -n 1)
	[ "$last" = 19 ] && printf '%s' "$ERR" | grep -q "fork" && ok pids-limit-exact ||
		fail pids-limit-exact "last child $last, rc=$RC err=$ERR"
	# A running container's processes are in its cgroup.
	res_bundle "$TMP/cgsleep" '"sleep", "30"' '{"pids": {"limit": 100}}'
	bh run --detach --bundle "$TMP/cgsleep" rc1
	P=$(pid_of rc1)
	in_cg=1
	for p in "$P" $(descendants "$P"); do
		grep -q "/bulkhead/rc1\$" "/proc/$p/cgroup" 2>/dev/null || in_cg=0
	done
	[ -n "$P" ] && [ $in_cg -eq 1 ] && ok sandbox-in-its-cgroup || fail sandbox-in-its-cgroup "pid $P: $(cat /proc/$P/cgroup 2>/dev/null | tr '\n' ' ')"
	succeed delete-cgroup-container delete --force rc1
	[ -z "$(cg_left rc1)" ] && ok delete-removes-cgroup || fail delete-removes-cgroup "left: $(cg_left rc1)"
	# Bad input: one line, no state, no cgroup.
	badcfg res-negative "is negative" 's|"linux": {|"linux": { "resources": {"memory": {"limit": -5}},|'
	badcfg res-unknown-field 'unknown field' 's|"linux": {|"linux": { "resources": {"memory": {"limitt": 5}},|'
	badcfg res-realtime 'realtimeRuntime is not supported' 's|"linux": {|"linux": { "resources": {"cpu": {"realtimeRuntime": 5}},|'
	badcfg res-cgroups-dotdot 'cgroupsPath' 's|"linux": {|"linux": { "cgroupsPath": "/a/../../b",|'
	badcfg res-hugepages 'hugepageLimits is not supported' 's|"linux": {|"linux": { "resources": {"hugepageLimits": [{"pageSize": "2MB", "limit": 1}]},|'
	[ -z "$(cg_left c1)" ] && ok bad-resources-leave-no-cgroup || fail bad-resources-leave-no-cgroup "left: $(cg_left c1)"
fi

# Terminals: run in the foreground on the caller's terminal (process.terminal
# or -t), and create --console-socket handing a pty master over, as runc
# does. tests/cli/ptyrun.c plays the user: it waits for the prompt, sets a
# 40x120 window, types "stty size; tty; exit 7".
PTYRUN=$(dirname "$BH")/../tests/cli/ptyrun
make_bundle "$TMP/tty" '"sh"' 's|"terminal": false|"terminal": true|'
make_bundle "$TMP/shell" '"sh"'
tty_ok() { # OUTPUT: the shell saw the window and its terminal
	grep -q "40 120" <<<"$1" && grep -q "^/dev/pts/0" <<<"$(tr -d '\r' <<<"$1")"
}
if [ ! -x "$PTYRUN" ]; then
	fail tty-helper "no $PTYRUN (make guest-tests builds it)"
else
	out=$(timeout 120 "$PTYRUN" -- "$BH" --root "$ROOT" run --bundle "$TMP/tty" tty1 2>&1)
	rc=$?
	if [ $rc -eq 7 ] && tty_ok "$out"; then ok run-terminal; else
		fail run-terminal "rc=$rc out=$(tr -d '\r' <<<"$out" | tail -4)"; fi
	out=$(timeout 120 "$PTYRUN" -- "$BH" --root "$ROOT" run -t --bundle "$TMP/shell" tty3 2>&1)
	rc=$?
	if [ $rc -eq 7 ] && tty_ok "$out"; then ok run-dash-t; else
		fail run-dash-t "rc=$rc out=$(tr -d '\r' <<<"$out" | tail -4)"; fi
	rm -f "$TMP/cs"
	timeout 120 "$PTYRUN" --socket "$TMP/cs" >"$TMP/cs.out" 2>&1 &
	helper=$!
	for _ in $(seq 100); do [ -S "$TMP/cs" ] && break; sleep 0.1; done
	if succeed create-console-socket create --bundle "$TMP/tty" --console-socket "$TMP/cs" tty2 &&
		succeed start-console-socket start tty2; then
		wait $helper
		rc=$?
		out=$(cat "$TMP/cs.out")
		if [ $rc -eq 0 ] && tty_ok "$out"; then ok console-socket-shell; else
			fail console-socket-shell "rc=$rc out=$(tr -d '\r' <<<"$out" | tail -4)"; fi
		wait_status tty2 stopped && ok console-socket-exit ||
			fail console-socket-exit "status $(state_of tty2)"
	else
		kill "$helper" 2>/dev/null
		wait "$helper"
	fi
	bh delete --force tty2
fi
bash "$(dirname "$0")/net_test.sh" "$BH" "$ROOT" "$SRC_ROOTFS" "$TMP" || FAILED=1

no_leftovers no-leftovers-lifecycle
exit $FAILED
