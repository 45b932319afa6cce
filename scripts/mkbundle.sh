#!/bin/bash
# Assembles an OCI bundle around Debian's busybox-static, with no network.
#
#   scripts/mkbundle.sh DIR
#       DIR/rootfs (busybox, its applets, /etc, empty mount points) and
#       DIR/config.json. Idempotent: the rootfs is rebuilt only when the
#       busybox binary changed; config.json is always rewritten.
#   scripts/mkbundle.sh --config [--root PATH] [--hostname H] [--cwd DIR]
#                       [--env K=V]... [--readonly] -- ARG...
#       Prints a config.json running ARG... to stdout, so tests and bench
#       can make one bundle per run without jq.
set -euo pipefail

BUSYBOX=${BUSYBOX:-/bin/busybox}

json_str() { # a JSON string literal for $1
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\t'/\\t}
	s=${s//$'\n'/\\n}
	printf '"%s"' "$s"
}

json_list() { # a JSON array of strings for "$@"
	local sep="" a
	printf '['
	for a in "$@"; do
		printf '%s' "$sep"
		json_str "$a"
		sep=", "
	done
	printf ']'
}

config() {
	local root=rootfs hostname=bulkhead cwd=/ readonly=false
	local env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "TERM=xterm")
	while [ $# -gt 0 ]; do
		case $1 in
		--root) root=$2; shift 2 ;;
		--hostname) hostname=$2; shift 2 ;;
		--cwd) cwd=$2; shift 2 ;;
		--env) env+=("$2"); shift 2 ;;
		--readonly) readonly=true; shift ;;
		--) shift; break ;;
		*) echo "mkbundle.sh: unknown option $1" >&2; exit 2 ;;
		esac
	done
	[ $# -gt 0 ] || { echo "mkbundle.sh --config: no process args" >&2; exit 2; }
	cat <<JSON
{
	"ociVersion": "1.0.2",
	"process": {
		"terminal": false,
		"user": {"uid": 0, "gid": 0},
		"args": $(json_list "$@"),
		"env": $(json_list "${env[@]}"),
		"cwd": $(json_str "$cwd"),
		"capabilities": {
			"bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
			"effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
			"permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
		},
		"noNewPrivileges": true
	},
	"root": {"path": $(json_str "$root"), "readonly": $readonly},
	"hostname": $(json_str "$hostname"),
	"mounts": [
		{"destination": "/proc", "type": "proc", "source": "proc"},
		{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
		 "options": ["nosuid", "nodev", "mode=1777"]},
		{"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
		 "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
		{"destination": "/dev/pts", "type": "devpts", "source": "devpts",
		 "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666",
			     "mode=0620", "gid=5"]}
	],
	"linux": {
		"namespaces": [
			{"type": "pid"},
			{"type": "network"},
			{"type": "ipc"},
			{"type": "uts"},
			{"type": "mount"}
		]
	}
}
JSON
}

if [ "${1:-}" = --config ]; then
	shift
	config "$@"
	exit 0
fi

[ $# -eq 1 ] || { echo "usage: $0 DIR | --config [opts] -- ARG..." >&2; exit 2; }
dir=$1
rootfs=$dir/rootfs
[ -x "$BUSYBOX" ] || { echo "mkbundle.sh: $BUSYBOX missing (apt-get install busybox-static)" >&2; exit 1; }

stamp=$(cksum <"$BUSYBOX")
if [ "$(cat "$dir/.busybox-stamp" 2>/dev/null)" != "$stamp" ] || [ ! -x "$rootfs/bin/busybox" ]; then
	rm -rf "$rootfs"
	mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,proc,dev,root,home,var/tmp,sys}
	chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
	chmod 700 "$rootfs/root"
	cp "$BUSYBOX" "$rootfs/bin/busybox"
	for applet in $("$BUSYBOX" --list); do
		[ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
	done
	# Scripts name /usr/bin/env in their #! line.
	ln -sf ../../bin/busybox "$rootfs/usr/bin/env"
	cat >"$rootfs/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
	cat >"$rootfs/etc/group" <<'G'
root:x:0:
nogroup:x:65534:
G
	echo bulkhead >"$rootfs/etc/hostname"
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$rootfs/etc/hosts"
	printf '%s\n' "$stamp" >"$dir/.busybox-stamp"
fi

# $$ and $(...) are for the container's shell, not this one.
# shellcheck disable=SC2016
config -- /bin/sh -c 'echo Hello from Bulkhead: $(uname -sr) pid=$$ host=$(hostname); ls /' >"$dir/config.json.tmp"
mv "$dir/config.json.tmp" "$dir/config.json"
