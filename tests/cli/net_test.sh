#!/bin/bash
# The container's network namespace, end to end (called by cli_test.sh):
# the test makes two network namespaces of its own joined by a veth pair
# (10.199.N.0/30, nothing else), serves a file over HTTP from one (busybox
# httpd), and runs a container in the other, named by path in config.json:
# busybox wget fetches the file by a name from a bind-mounted /etc/hosts.
# Never the host's own network, never a bridge. Also --network=none (only
# lo, whatever the config says) and --network=host's warning line.
#   tests/cli/net_test.sh BULKHEAD ROOT ROOTFS TMP
# Prints "ok NAME" / "FAIL NAME: why" / "skip NAME: why".
set -u
BH=$1 ROOT=$2 ROOTFS=$3 TMP=$4
FAILED=0
ok() { echo "ok $1"; }
fail() {
	echo "FAIL $1: $2"
	FAILED=1
}

if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1; then
	echo "skip net-veth: needs root and iproute2's ip netns"
	exit 0
fi
BB=$ROOTFS/bin/busybox
SRV=bhsrv-$$ CTR=bhctr-$$
N=$(($$ % 200 + 20))
SRV_IP=10.199.$N.1 CTR_IP=10.199.$N.2
HTTPD=
cleanup_net() {
	[ -n "$HTTPD" ] && kill "$HTTPD" 2>/dev/null && wait "$HTTPD" 2>/dev/null
	ip netns del "$SRV" 2>/dev/null
	ip netns del "$CTR" 2>/dev/null
}
trap cleanup_net EXIT

if ! { ip netns add "$SRV" && ip netns add "$CTR" &&
	ip -n "$SRV" link add vs$$ type veth peer name vc$$ netns "$CTR" &&
	ip -n "$SRV" addr add "$SRV_IP/30" dev vs$$ &&
	ip -n "$CTR" addr add "$CTR_IP/30" dev vc$$ &&
	ip -n "$SRV" link set vs$$ up && ip -n "$SRV" link set lo up &&
	ip -n "$CTR" link set vc$$ up && ip -n "$CTR" link set lo up; } 2>"$TMP/net.err"; then
	fail net-setup "$(head -c 300 "$TMP/net.err")"
	exit 1
fi
mkdir -p "$TMP/www"
echo "hello from the veth peer $$" >"$TMP/www/hello.txt"
ip netns exec "$SRV" "$BB" httpd -f -p "$SRV_IP:8080" -h "$TMP/www" &
HTTPD=$!
printf '127.0.0.1\tlocalhost\n%s\tfiles.bhtest\n' "$SRV_IP" >"$TMP/hosts"

# net_bundle DIR SCRIPT [NETNS_PATH]: a busybox sh running SCRIPT, /etc/hosts
# bound from $TMP/hosts, the network namespace given by path if any.
net_bundle() {
	local dir=$1 script=$2 path=${3:-}
	mkdir -p "$dir"
	rm -f "$dir/config.json"
	"$BH" spec --bundle "$dir" || return 1
	local q=${script//\"/\\\"}
	q=${q//&/\\&}
	sed -i -e "s|^\([[:space:]]*\)\"sh\"\$|\1\"/bin/sh\", \"-c\", \"$q\"|" \
		-e "s|\"path\": \"rootfs\"|\"path\": \"$ROOTFS\"|" \
		-e "s|\"mounts\": \[|\"mounts\": [ {\"destination\": \"/etc/hosts\", \"type\": \"bind\", \"source\": \"$TMP/hosts\", \"options\": [\"rbind\", \"ro\"]},|" \
		"$dir/config.json"
	[ -n "$path" ] && sed -i -e "s|{\"type\": \"network\"}|{\"type\": \"network\", \"path\": \"$path\"}|" "$dir/config.json"
	return 0
}

# Give httpd a moment to listen (the container retries too).
for _ in $(seq 50); do
	ip netns exec "$SRV" "$BB" nc -z "$SRV_IP" 8080 2>/dev/null && break
	sleep 0.1
done

# (busybox 1.35 wget -T segfaults, natively too: not used.)
FETCH='for i in 1 2 3 4 5; do wget -q -O - http://files.bhtest:8080/hello.txt && break; sleep 1; done; ip addr; ip route; cat /proc/net/dev'
net_bundle "$TMP/netb" "$FETCH" "/run/netns/$CTR" || fail net-bundle "spec failed"
timeout 60 "$BH" --root "$ROOT" run --bundle "$TMP/netb" netv1 </dev/null >"$TMP/netv1.out" 2>"$TMP/netv1.err"
rc=$?
"$BH" --root "$ROOT" delete --force netv1 >/dev/null 2>&1
if [ $rc -eq 0 ] && grep -q "hello from the veth peer $$" "$TMP/netv1.out"; then
	ok net-veth-wget-by-hosts-name
else
	fail net-veth-wget-by-hosts-name "rc=$rc out=$(head -c 400 "$TMP/netv1.out") err=$(head -c 400 "$TMP/netv1.err")"
fi
if grep -q "inet $CTR_IP/30" "$TMP/netv1.out" && grep -q "vc$$" "$TMP/netv1.out" &&
	grep -q "^10.199.$N.0/30 dev vc$$" "$TMP/netv1.out" &&
	grep -Eq "^ *vc$$:" "$TMP/netv1.out"; then
	ok net-veth-ip-addr-route-proc-see-the-netns
else
	fail net-veth-ip-addr-route-proc-see-the-netns "$(head -c 600 "$TMP/netv1.out")"
fi

# --network=none: a fresh namespace whatever the config says: only lo.
timeout 60 "$BH" --root "$ROOT" --network none run --bundle "$TMP/netb" netv2 </dev/null >"$TMP/netv2.out" 2>"$TMP/netv2.err"
rc=$?
"$BH" --root "$ROOT" delete --force netv2 >/dev/null 2>&1
if ! grep -q "hello from the veth peer" "$TMP/netv2.out" && ! grep -q "vc$$" "$TMP/netv2.out" &&
	grep -q "inet 127.0.0.1/8" "$TMP/netv2.out"; then
	ok net-none-only-lo
else
	fail net-none-only-lo "rc=$rc $(head -c 600 "$TMP/netv2.out")"
fi

# No network entry at all: still a fresh namespace, not the host's.
net_bundle "$TMP/netc" 'cat /proc/net/dev'
sed -i -e '/{"type": "network"},/d' "$TMP/netc/config.json"
timeout 60 "$BH" --root "$ROOT" run --bundle "$TMP/netc" netv3 </dev/null >"$TMP/netv3.out" 2>"$TMP/netv3.err"
rc=$?
"$BH" --root "$ROOT" delete --force netv3 >/dev/null 2>&1
n=$(grep -c ':' "$TMP/netv3.out")
if [ $rc -eq 0 ] && [ "$n" = 1 ] && grep -q ' lo:' "$TMP/netv3.out"; then
	ok net-no-entry-fresh-netns
else
	fail net-no-entry-fresh-netns "rc=$rc $(head -c 600 "$TMP/netv3.out")"
fi

# --network=host: one warning line.
net_bundle "$TMP/netd" 'true'
timeout 60 "$BH" --root "$ROOT" --network host run --bundle "$TMP/netd" netv4 </dev/null >"$TMP/netv4.out" 2>"$TMP/netv4.err"
rc=$?
"$BH" --root "$ROOT" delete --force netv4 >/dev/null 2>&1
if [ $rc -eq 0 ] && [ "$(grep -c 'warning: --network=host' "$TMP/netv4.err")" = 1 ]; then
	ok net-host-warns
else
	fail net-host-warns "rc=$rc err=$(head -c 300 "$TMP/netv4.err")"
fi
# A path that is not a network namespace is refused at create.
net_bundle "$TMP/nete" 'true' "$TMP/hosts"
timeout 60 "$BH" --root "$ROOT" run --bundle "$TMP/nete" netv5 </dev/null >"$TMP/netv5.out" 2>"$TMP/netv5.err"
rc=$?
"$BH" --root "$ROOT" delete --force netv5 >/dev/null 2>&1
if [ $rc -ne 0 ] && grep -q 'not a network namespace' "$TMP/netv5.err"; then
	ok net-bad-path-refused
else
	fail net-bad-path-refused "rc=$rc err=$(head -c 300 "$TMP/netv5.err")"
fi
exit $FAILED
