# Everyday tools on files the script makes: find, grep, sed, sort, wc,
# head, tail, cut, uniq, xargs, ls.
d=$(mktemp -d /tmp/bhbb.XXXXXX)
mkdir -p "$d/a/b" "$d/c"
for f in a/one.txt a/b/two.txt c/three.log top.txt; do echo "$f" > "$d/$f"; done
(cd "$d" && find . -type f | sort)
(cd "$d" && find . -name '*.txt' | wc -l)
(cd "$d" && find . -type d | sort | tail -2)
printf 'banana\napple\ncherry\napple\n' > "$d/fruit"
sort "$d/fruit" | uniq -c | sed 's/^ *//'
sort -r "$d/fruit" | head -1
grep -c apple "$d/fruit"
grep -n cherry "$d/fruit"
grep -v apple "$d/fruit" | tail -n 1
sed -e 's/an/AN/g' -e '/cherry/d' "$d/fruit" | head -n 2
seq 1 100 | tail -n 3 | tr '\n' ' '
echo
seq 1 1000 | wc -l
seq 1 10 | awk '{ s += $1 } END { print "sum", s }'
echo "a:b:c" | cut -d: -f2
echo "x y z" | xargs -n1 echo | wc -l
ls "$d" | sort | tr '\n' ' '
echo
ls -l / | grep -q '^d.* tmp$' && echo "ls -l sees /tmp"
dd if=/dev/zero of="$d/zero" bs=1024 count=64 2>/dev/null
wc -c < "$d/zero"
cmp "$d/zero" "$d/zero" && echo cmp-same
rm -r "$d"
[ -d "$d" ] || echo cleaned
