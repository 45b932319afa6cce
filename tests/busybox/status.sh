# Exit statuses through sh -c, pipelines and signals.
sh -c 'exit 7'
echo "exit $?"
sh -c 'echo hi | cat; echo x > /tmp/bhbb-status.$$; cat /tmp/bhbb-status.$$; rm /tmp/bhbb-status.$$; exit 7'
echo "exit $?"
sh -c 'exit 255'
echo "exit $?"
sh -c 'kill -TERM $$'
echo "signal $?"
false | true
echo "pipe $?"
true | false
echo "pipe $?"
! false
echo "not $?"
nonexistent-command-bh 2>/dev/null
echo "missing $?"
sh -c 'exit 3' || echo "or-branch $?"
if sh -c 'exit 0'; then echo "if ok"; fi
