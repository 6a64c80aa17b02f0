#!/bin/sh
# Seed 004's flaky-command.sh: fails the first FLAKY_FAILURES runs (default 2), then succeeds.
# Runs are counted in the file FLAKY_COUNTER_FILE (required, so that separate runs share the count).
# Exit code on failure: FLAKY_EXIT_CODE (default 1). POSIX sh only.
set -eu

counter_file=${FLAKY_COUNTER_FILE:-}
failures=${FLAKY_FAILURES:-2}
exit_code=${FLAKY_EXIT_CODE:-1}

if [ -z "$counter_file" ]; then
  echo "flaky-command: set FLAKY_COUNTER_FILE to a file that counts the runs" >&2
  exit 64
fi
case $failures in
  '' | *[!0-9]*) echo "flaky-command: FLAKY_FAILURES must be a whole number, got '$failures'" >&2; exit 64 ;;
esac

count=0
if [ -f "$counter_file" ]; then
  count=$(cat "$counter_file")
  case $count in
    '' | *[!0-9]*) echo "flaky-command: $counter_file does not hold a count: '$count'" >&2; exit 64 ;;
  esac
fi
count=$((count + 1))
echo "$count" > "$counter_file"

if [ "$count" -le "$failures" ]; then
  echo "flaky-command: attempt $count failed: connection refused by the scheduler backend (will succeed after $failures)" >&2
  exit "$exit_code"
fi
echo "flaky-command: attempt $count succeeded"
