# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the exec tests: their rows at once, each in the background
# with its number, printed in order once all have ended (a test's wall
# time is its longest row, not the sum).  The test defines run() (which
# prints one TAP result, numbered n + 1) and $tmp; `row ARGS` stands for
# `run ARGS`; `rows_done` waits, prints, and sets $failed.
rows=0
row() {
	rows=$((rows + 1))
	(n=$((rows - 1)); failed=0; run "$@") >"$tmp/row.$rows" 2>&1 &
}
rows_done() {
	wait
	for ((i = 1; i <= rows; i++)); do cat "$tmp/row.$i"; done
	failed=$(cat "$tmp"/row.* | grep -c '^not ok')
}
