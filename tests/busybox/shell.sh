# Shell language: pipelines, redirects, subshells, substitution, loops,
# case, functions, here-docs, environment, test.
set -u
d=$(mktemp -d /tmp/bhbb.XXXXXX)
echo "hello world" | tr a-z A-Z
echo one > "$d/f"
echo two >> "$d/f"
cat "$d/f"
wc -l < "$d/f"
echo err 2> "$d/e" 1>&2
cat "$d/e"
x=$(echo sub; echo shell)
echo "subst: $x" | tr '\n' ' '
echo
(cd /tmp && pwd)
pwd_after=$(pwd)
[ "$pwd_after" = "$(pwd)" ] && echo "subshell cwd isolated"
v=outer
(v=inner; echo "in: $v")
echo "out: $v"
i=0
while [ $i -lt 5 ]; do i=$((i + 1)); done
echo "while: $i"
for w in a b c; do printf '%s-' "$w"; done
echo
for n in 1 22 abc; do
	case $n in
	[0-9]) echo "$n digit" ;;
	[0-9]*) echo "$n number" ;;
	*) echo "$n word" ;;
	esac
done
greet() { echo "hi $1 ($#)"; return 3; }
greet there a b
echo "ret $?"
cat <<EOT
heredoc $v $((6 * 7))
EOT
cat <<'EOT'
quoted $v
EOT
export BHVAR=exported
sh -c 'echo "child sees $BHVAR"'
BHONE=once sh -c 'echo "prefix $BHONE"'
echo "after ${BHONE:-unset}"
[ -d /tmp ] && [ ! -e /tmp/nonexistent-bh ] && test 3 -gt 2 && echo "tests ok"
[ "a" = "b" ] || echo "not equal"
true && echo and || echo or
false && echo and || echo or
echo "${#BHVAR} ${BHVAR%ted} ${BHVAR#ex}"
set -- p q r
echo "args $# $2"
rm -r "$d"
