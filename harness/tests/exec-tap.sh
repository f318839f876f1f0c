# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the exec-*.sh tests: one TAP result for a `tcpfate exec` run.
# tap_result NUM DESCRIPTION STATUS WANT_STATUS MISSING OUTPUT
# ok when STATUS is WANT_STATUS and nothing is MISSING; else not ok with
# a YAML block (the run's output as a literal block) and failed+1.
tap_result() {
	local num=$1 desc=$2 st=$3 want=$4 miss=$5 out=$6
	if [ "$st" -eq "$want" ] && [ -z "$miss" ]; then
		echo "ok $num - $desc"
		return 0
	fi
	failed=$((failed + 1))
	echo "not ok $num - $desc"
	echo "  ---"
	echo "  status: $st (want $want)"
	echo "  missing: \"${miss//\"/\\\"}\""
	echo "  output: |"
	printf '%s\n' "$out" | sed 's/^/    /'
	echo "  ..."
	return 1
}
