# Background jobs, wait, kill, and /proc.
sleep 0.1 &
wait $!
echo "wait $?"
sh -c 'exit 5' &
wait $!
echo "wait $?"
sleep 10 &
pid=$!
kill $pid
wait $pid
echo "killed $?"
sleep 10 &
pid=$!
kill -KILL $pid
wait $pid
echo "killed $?"
(echo a; sleep 0.05; echo c) &
sleep 0.02
echo b
wait
grep -q '^Pid:' /proc/self/status && echo "proc status ok"
[ "$(cat /proc/$$/status | grep '^Pid:' | cut -f2)" = "$$" ] && echo "proc pid matches"
cat /proc/self/cmdline | tr '\0' ' ' | grep -q '^cat' && echo "cmdline ok"
echo done
