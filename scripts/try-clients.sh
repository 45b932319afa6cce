#!/bin/bash
# Runs Bulkhead under real container clients, end to end: podman (through
# conmon) and containerd 1.6 (through its runc v2 shim and ctr), each with
# bulkhead as the OCI runtime. Not part of `make test`: it installs podman,
# containerd and umoci from Debian when they are missing (big packages).
#
#   scripts/try-clients.sh [podman|containerd]...   (default: both)
#
# Needs root and a built tree (`make all`). All client state (podman's
# storage, containerd's root, state and socket, the images) lives in one temp
# directory that is removed at the end. Podman has no way to pass --root to
# the runtime on every call (its cleanup command drops --runtime-flag), so
# its containers use bulkhead's default root, /run/bulkhead; each one is
# checked to be gone afterwards. No network: podman runs with --network none
# (its default bridge rewrites the firewall) and nothing is pulled.
# Prints each command and "ok" or "FAIL"; exits 1 if any step failed.
set -u
cd "$(dirname "$0")/.."
REPO=$PWD
BULKHEAD=${BULKHEAD:-$REPO/build/bin/bulkhead}
RUNC=${RUNC:-$(command -v runc || true)}
what=("$@")
[ ${#what[@]} -gt 0 ] || what=(podman containerd)

fails=0
say() { printf '%s\n' "$*"; }
ok() { say "  ok   $1"; }
fail() {
	say "  FAIL $1"
	fails=$((fails + 1))
}

[ "$(id -u)" = 0 ] || { echo "try-clients.sh: run as root" >&2; exit 1; }
[ -x "$BULKHEAD" ] || { echo "try-clients.sh: $BULKHEAD is missing: run make first" >&2; exit 1; }

need_pkgs=()
for w in "${what[@]}"; do
	case $w in
	podman) command -v podman >/dev/null || need_pkgs+=(podman) ;;
	containerd)
		command -v containerd >/dev/null || need_pkgs+=(containerd)
		command -v umoci >/dev/null || need_pkgs+=(umoci)
		;;
	*) echo "try-clients.sh: unknown client $w (podman or containerd)" >&2; exit 2 ;;
	esac
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
	say "installing ${need_pkgs[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq "${need_pkgs[@]}" >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get install -y -qq "${need_pkgs[@]}" >/dev/null; } ||
		{ echo "try-clients.sh: cannot install ${need_pkgs[*]}" >&2; exit 1; }
fi

TMP=$(mktemp -d /tmp/bh-clients.XXXXXX)
CTRD_PID=
cleanup() {
	if [ -n "$CTRD_PID" ]; then
		kill "$CTRD_PID" 2>/dev/null
		wait "$CTRD_PID" 2>/dev/null
	fi
	# Whatever a client left mounted (overlay layers, shm) under TMP.
	awk -v t="$TMP" '$5 ~ "^" t {print $5}' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT

# The image: the project's busybox rootfs.
scripts/mkbundle.sh "$TMP/bundle" >/dev/null || { echo "try-clients.sh: mkbundle failed" >&2; exit 1; }
tar -C "$TMP/bundle/rootfs" -cf "$TMP/rootfs.tar" . || exit 1

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# check NAME WANT_RC WANT_TEXT CMD...: runs CMD, passes when its status is
# WANT_RC and its output (stdout+stderr) contains WANT_TEXT.
check() {
	local name=$1 want_rc=$2 want=$3 rc out
	shift 3
	say "+ $*"
	out=$("$@" 2>&1 </dev/null)
	rc=$?
	[ -n "$out" ] && printf '%s\n' "$out" | sed -n '1,4s/^/    | /p'
	if [ "$rc" = "$want_rc" ] && [[ "$out" == *"$want"* ]]; then
		ok "$name"
	else
		fail "$name (exit $rc, wanted $want_rc and \"$want\")"
	fi
}

try_podman() {
	local P=$TMP/podman
	local PM=(podman --root "$P/root" --runroot "$P/runroot" --tmpdir "$P/tmp"
		--cgroup-manager=cgroupfs --events-backend=file)
	local BH=("${PM[@]}" --runtime "$BULKHEAD")
	local RUN=(run --rm --network none)
	say "== podman $(podman --version | awk '{print $3}') with $BULKHEAD"
	check "podman import" 0 "" "${PM[@]}" import -q "$TMP/rootfs.tar" localhost/bulkhead-try
	check "podman run echo" 0 ok "${BH[@]}" "${RUN[@]}" localhost/bulkhead-try /bin/busybox echo ok
	check "podman run: guest kernel is Bulkhead's" 0 bulkhead \
		"${BH[@]}" "${RUN[@]}" localhost/bulkhead-try /bin/cat /proc/version
	check "podman run: exit status" 3 "" "${BH[@]}" "${RUN[@]}" localhost/bulkhead-try /bin/sh -c 'exit 3'
	check "podman run: missing program" 127 "No such file or directory" \
		"${BH[@]}" "${RUN[@]}" localhost/bulkhead-try /nonexistent
	say "+ echo piped | ${BH[*]} ${RUN[*]} -i localhost/bulkhead-try /bin/cat"
	if [ "$(echo piped | "${BH[@]}" "${RUN[@]}" -i localhost/bulkhead-try /bin/cat 2>&1)" = piped ]; then
		ok "podman run -i: stdin"
	else
		fail "podman run -i: stdin"
	fi
	check "podman run -v (read-only bind mount)" 1 "Read-only file system" \
		"${BH[@]}" "${RUN[@]}" -v "$TMP/bundle:/b:ro" localhost/bulkhead-try \
		/bin/sh -c 'cat /b/config.json >/dev/null && echo x >/b/new'
	# A terminal is refused with one line that podman shows.
	check "podman run -t: refused clearly" 126 "terminal mode is not supported" \
		script -qec "${BH[*]} ${RUN[*]} -t localhost/bulkhead-try /bin/true" /dev/null
	check "podman run -d" 0 "" "${BH[@]}" run -d --name bh-try-d --network none \
		localhost/bulkhead-try /bin/sh -c 'echo started; exec sleep 100'
	check "podman ps" 0 bh-try-d "${BH[@]}" ps
	check "podman logs" 0 started "${BH[@]}" logs bh-try-d
	check "podman exec: refused clearly" 255 "exec is not supported yet" \
		"${BH[@]}" exec bh-try-d /bin/true
	check "podman stop" 0 bh-try-d "${BH[@]}" stop -t 5 bh-try-d
	check "podman inspect: exit code of SIGTERM" 0 143 \
		"${BH[@]}" inspect -f '{{.State.ExitCode}}' bh-try-d
	local id
	id=$("${PM[@]}" inspect -f '{{.Id}}' bh-try-d 2>/dev/null)
	check "podman rm" 0 bh-try-d "${BH[@]}" rm bh-try-d
	if [ -n "$id" ] && [ ! -e "/run/bulkhead/$id" ]; then
		ok "no bulkhead state left behind"
	else
		fail "no bulkhead state left behind (/run/bulkhead/$id)"
	fi

	# Wall time of `podman run --rm ... echo ok`, median of 5, against runc
	# (which needs the ulimits: root lacks CAP_SYS_RESOURCE here).
	local rt t times
	for rt in "$BULKHEAD" "$RUNC"; do
		[ -n "$rt" ] || continue
		times=()
		for _ in 1 2 3 4 5; do
			t=$(date +%s%N)
			"${PM[@]}" --runtime "$rt" "${RUN[@]}" --ulimit nofile=1024:1024 \
				--ulimit nproc=4096:4096 localhost/bulkhead-try \
				/bin/busybox echo ok >/dev/null 2>&1 || { times=(); break; }
			times+=("$(ms_since "$t")")
		done
		if [ ${#times[@]} -eq 5 ]; then
			say "  time podman run --rm ... echo ok with $(basename "$rt"): median $(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p) ms (${times[*]})"
		else
			say "  time podman run with $(basename "$rt"): a run failed"
			[ "$rt" = "$BULKHEAD" ] && fails=$((fails + 1))
		fi
	done
	"${PM[@]}" rm -af >/dev/null 2>&1
	"${PM[@]}" rmi -af >/dev/null 2>&1
}

try_containerd() {
	local C=$TMP/containerd
	mkdir -p "$C"
	cat >"$C/config.toml" <<EOF
version = 2
disabled_plugins = ["io.containerd.grpc.v1.cri"]
root = "$C/root"
state = "$C/state"
[grpc]
  address = "$C/sock"
[ttrpc]
  address = "$C/sock.ttrpc"
EOF
	say "== containerd $(containerd --version | awk '{print $3}') with $BULKHEAD"
	say "+ containerd --config $C/config.toml &"
	containerd --config "$C/config.toml" >"$C/containerd.log" 2>&1 &
	CTRD_PID=$!
	local i
	for i in $(seq 50); do
		[ -S "$C/sock" ] && break
		sleep 0.1
	done
	if [ -S "$C/sock" ]; then ok "containerd started"; else fail "containerd started"; return; fi
	local CTR=(ctr --address "$C/sock")
	local RUN=("${CTR[@]}" run --runc-binary "$BULKHEAD" --runc-root "$C/bulkhead")
	# An OCI image from the rootfs: umoci builds the layout, ctr imports it.
	say "+ umoci init/new/insert/config; ctr images import"
	if (cd "$C" && umoci init --layout oci && umoci new --image oci:latest &&
		umoci insert --image oci:latest "$TMP/bundle/rootfs" / &&
		umoci config --image oci:latest --config.cmd /bin/sh &&
		tar -C oci -cf img.tar .) >"$C/umoci.log" 2>&1; then
		ok "umoci image"
	else
		fail "umoci image: $(tail -n 1 "$C/umoci.log")"
		return
	fi
	check "ctr images import" 0 "" "${CTR[@]}" images import --base-name localhost/bulkhead-try "$C/img.tar"
	local IMG=localhost/bulkhead-try:latest
	check "ctr run echo" 0 ok "${RUN[@]}" --rm "$IMG" bh-try-1 /bin/busybox echo ok
	check "ctr run: guest kernel is Bulkhead's" 0 bulkhead "${RUN[@]}" --rm "$IMG" bh-try-2 /bin/cat /proc/version
	check "ctr run: exit status" 3 "" "${RUN[@]}" --rm "$IMG" bh-try-3 /bin/sh -c 'exit 3'
	# containerd shows the runtime's last {"level":"error"} log line.
	check "ctr run: missing program, error shown" 1 "No such file or directory" \
		"${RUN[@]}" --rm "$IMG" bh-try-4 /nonexistent
	check "ctr run -t: refused clearly" 1 "terminal mode is not supported" \
		script -qec "${RUN[*]} --rm -t $IMG bh-try-5 /bin/true" /dev/null
	check "ctr run -d" 0 "" "${RUN[@]}" -d "$IMG" bh-try-6 /bin/sleep 100
	check "ctr task ls" 0 RUNNING "${CTR[@]}" task ls
	check "ctr task ps" 0 PID "${CTR[@]}" task ps bh-try-6
	check "ctr task kill" 0 "" "${CTR[@]}" task kill bh-try-6
	for i in $(seq 50); do
		"${CTR[@]}" task ls 2>/dev/null | grep -q 'bh-try-6.*STOPPED' && break
		sleep 0.1
	done
	check "ctr task ls: stopped" 0 STOPPED "${CTR[@]}" task ls
	check "ctr task delete" 0 "" "${CTR[@]}" task delete bh-try-6
	check "ctr container rm" 0 "" "${CTR[@]}" container rm bh-try-6
	local left
	# The shim keeps one folder per containerd namespace under its root.
	left=$(ls -A "$C/bulkhead/default" 2>/dev/null)
	if [ -z "$left" ]; then ok "no bulkhead state left behind"; else fail "bulkhead state left: $left"; fi
	# A whole `ctr run --rm ... echo ok`, median of 5, against runc.
	local rt t times
	for rt in "$BULKHEAD" "$RUNC"; do
		[ -n "$rt" ] || continue
		times=()
		for i in 1 2 3 4 5; do
			t=$(date +%s%N)
			"${CTR[@]}" run --rm --runc-binary "$rt" --runc-root "$C/rt" "$IMG" \
				"bh-time-$i" /bin/busybox echo ok >/dev/null 2>&1 || { times=(); break; }
			times+=("$(ms_since "$t")")
		done
		if [ ${#times[@]} -eq 5 ]; then
			say "  time ctr run --rm ... echo ok with $(basename "$rt"): median $(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p) ms (${times[*]})"
		else
			say "  time ctr run with $(basename "$rt"): a run failed"
			[ "$rt" = "$BULKHEAD" ] && fails=$((fails + 1))
		fi
	done
}

for w in "${what[@]}"; do
	"try_$w"
done
if [ "$fails" -eq 0 ]; then
	say "try-clients: all ok"
	exit 0
fi
say "try-clients: $fails FAILED"
exit 1
