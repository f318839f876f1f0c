# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the exec-*.sh tests: their TAP results (tap_result, result, skip)
# and parts (part_plan, part_skip).
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
	{
		echo "not ok $num - $desc"
		echo "  ---"
		echo "  status: $st (want $want)"
		echo "  missing: \"${miss//\"/\\\"}\""
		echo "  output: |"
		printf '%s\n' "$out" | sed 's/^/    /'
		echo "  ..."
	} | tee /dev/stderr  # stderr: meson prints it for a failed TAP test
	return 1
}

# result DESCRIPTION OK DETAIL: the next test (n+1); ok when OK is "yes",
# else not ok with DETAIL as a literal block, and failed+1.
result() {
	n=$((n + 1))
	if [ "$2" = yes ]; then
		echo "ok $n - $1"
		return 0
	fi
	failed=$((failed + 1))
	{
		echo "not ok $n - $1"
		echo "  ---"
		echo "  detail: |"
		printf '%s\n' "$3" | sed 's/^/    /'
		echo "  ..."
	} | tee /dev/stderr  # stderr: meson prints it for a failed TAP test
}
# skip DESCRIPTION REASON: the next test, skipped
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

# A script's runs one per meson test, so that they run at once (the runs
# wait on the kernel, not the CPU: one after the other, exec-zerowindow took
# 43-69 s of ci/test for 4 s of CPU).  TF_PART=k runs the k-th alone,
# numbered 1; unset, every run.
# part_plan N: the plan line of a script of N runs
part_plan() { if [ -n "${TF_PART:-}" ]; then echo "1..1"; else echo "1..$1"; fi; }
# part_skip N: true when run N is another part's
part_skip() { [ -n "${TF_PART:-}" ] && [ "$1" != "$TF_PART" ]; }
# part_num N: the number run N is reported under
part_num() { if [ -n "${TF_PART:-}" ]; then echo 1; else echo "$1"; fi; }
