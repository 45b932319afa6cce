#!/bin/bash
# Installs the build and test dependencies on Debian 12. `make` runs this on
# every build, so the common case (everything present) must stay a handful of
# file tests: no dpkg-query, no apt.
#   scripts/deps.sh          required packages (root installs, others get a list)
#   scripts/deps.sh --bench  also runc and runsc, for bench/ comparisons
set -u

missing=()
need() { # need PACKAGE PATH...: PACKAGE is missing unless one PATH exists
	local pkg=$1 p
	shift
	for p in "$@"; do
		[ -e "$p" ] && return 0
	done
	missing+=("$pkg")
}

need build-essential /usr/bin/make
need build-essential /usr/bin/gcc /usr/bin/cc
need build-essential /usr/include/stdio.h
need libseccomp-dev /usr/include/seccomp.h
need libcap-dev /usr/include/sys/capability.h
need libjansson-dev /usr/include/jansson.h
need libcmocka-dev /usr/include/cmocka.h
# Static libc is needed for -static guest tests and the stub.
need build-essential /usr/lib/x86_64-linux-gnu/libc.a /usr/lib/aarch64-linux-gnu/libc.a
need busybox-static /bin/busybox /usr/bin/busybox

if [ "${1:-}" = --bench ]; then
	command -v runc >/dev/null || missing+=(runc)
	command -v runsc >/dev/null || missing+=(runsc)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

# Deduplicate while keeping order.
pkgs=$(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++' | tr '\n' ' ')

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${pkgs}- run as root: apt-get install -y ${pkgs}" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null; then
	echo "deps.sh: missing packages: ${pkgs}(no apt-get here; install them by hand)" >&2
	exit 1
fi

echo "deps.sh: installing ${pkgs}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || exit 1
if [ "${1:-}" = --bench ]; then
	# The comparison runtimes are optional: install what apt has, one at a
	# time so one unavailable package does not block the others.
	rc=0
	for p in $pkgs; do
		apt-get install -y -qq "$p" || { echo "deps.sh: could not install $p (optional for bench)" >&2; [ "$p" = runc ] || [ "$p" = runsc ] || rc=1; }
	done
	exit $rc
fi
# shellcheck disable=SC2086
apt-get install -y -qq $pkgs
