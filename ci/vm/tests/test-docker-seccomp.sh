#!/usr/bin/env bash
# The CI recipes of ci/vm/README.md, reproduced on this machine: run the
# README's test commands under a seccomp filter shaped like Docker's default
# profile (ci/vm/docker-seccomp.c), the way a job container runs them, and
# assert that the cases RAN (not skipped) through the VM fallback.  TAP out.
#
#   test-docker-seccomp.sh BUILD_DIR [CASE...]      (default cases: ports nagle)
#
# Recipes:
#   1 root without CAP_SYS_ADMIN (Docker's default: root in the container)
#     + the filter: `meson test -C BUILD CASE...`
#   2 an ordinary user + the filter (a job container with USER, GitLab's
#     docker executor images that drop root): `tcpfate run` on CASE...
#   3 an ordinary user in a child user namespace where
#     user.max_user_namespaces=0: `tcpfate run` on CASE...
#   4 concurrent callers (meson's parallel tests): CASE binaries started
#     at once, as root under the filter, share one guest: one boot
#   5 a rebuild between two runs served by the same guest (edit, compile,
#     test again within its idle time): the second run sees the new binary
#
# Needs root (to make the user and the namespaces), qemu-system-x86_64 and
# a C compiler; SKIPs with the reason otherwise.  The guest's kernel is
# fetched once into TF_VM_TEST_CACHE (/var/tmp/tcpfate-vm-test, owned by
# the test user; seeded from root's cache when it has the kernel).
set -u
export LC_ALL=C
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../../.." && pwd)
BUILD=$(cd "${1:?usage: test-docker-seccomp.sh BUILD_DIR [CASE...]}" && pwd)
shift
CASES=("$@")
((${#CASES[@]})) || CASES=(ports nagle)
USER_NAME=${TF_TEST_USER:-tfci}
KERNEL=${TF_VM_KERNEL:-linux-image-amd64}
CACHE=${TF_VM_TEST_CACHE:-/var/tmp/tcpfate-vm-test}

n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	echo "  ---"
	echo "  output: |"
	sed 's/^/    /' <<<"$2" | tail -n 40
	echo "  ..."
}
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
# A recipe that hangs (a guest that stops answering) fails with what it
# printed and the guest's log, instead of holding CI until its own limit.
# An argv, not a function: it also goes after env or into a namespace.
LIMIT=${TF_RECIPE_TIMEOUT_S:-900}   # a first run may download a kernel
limit=(timeout -k 10 "$LIMIT")
timed_out() { # timed_out STATUS VMDIR: the note and the guest's log, on a timeout
	(($1 == 124 || $1 == 137)) || return 0
	printf '\nrecipe timed out after %s s (TF_RECIPE_TIMEOUT_S); the guest log:\n' "$LIMIT"
	tail -n 30 "$2"/*.log 2>/dev/null
}

((EUID == 0)) || skip_all "needs root (to make a user and namespaces to block)"
command -v qemu-system-x86_64 >/dev/null || skip_all "no qemu-system-x86_64 (apt-get install qemu-system-x86)"
cc=$(command -v cc || command -v gcc) || skip_all "no C compiler"
command -v setpriv >/dev/null || skip_all "no setpriv (util-linux)"
[[ -x $BUILD/harness/tcpfate ]] || skip_all "no $BUILD/harness/tcpfate: build first"

TMP=$(mktemp -d /tmp/tf-docker-seccomp.XXXXXX)
chmod 755 "$TMP"
trap 'rm -rf "$TMP"' EXIT
"$cc" -O2 -o "$TMP/docker-seccomp" "$HERE/../docker-seccomp.c" || skip_all "cannot build docker-seccomp.c"

id "$USER_NAME" >/dev/null 2>&1 || useradd -M -s /usr/sbin/nologin "$USER_NAME" ||
	skip_all "cannot create user $USER_NAME"
uid=$(id -u "$USER_NAME")
gid=$(id -g "$USER_NAME")

# The kernel cache of the test user: seeded from root's, else downloaded
# (as that user: apt-get download needs no root) on the first run.
mkdir -p "$CACHE/tcpfate/kernels"
for d in "${XDG_CACHE_HOME:-$HOME/.cache}"/tcpfate/kernels/linux-image-*; do
	[[ -e $d/.complete && ! -e $CACHE/tcpfate/kernels/${d##*/} ]] || continue
	[[ ${d##*/} == *-cloud-* ]] && continue # no 9p in Debian's cloud kernels
	cp -a "$d" "$CACHE/tcpfate/kernels/"
done
chown -R "$uid:$gid" "$CACHE"

# The selected case binaries, for `tcpfate run` (TF_CASEDIR).
mkdir -p "$TMP/cases" "$TMP/art" "$TMP/vm"
for c in "${CASES[@]}"; do ln -s "$BUILD/cases/$c" "$TMP/cases/$c"; done
chown -R "$uid:$gid" "$TMP/art" "$TMP/vm"
chmod 700 "$TMP/vm"

check() { # check NAME OUTPUT: the fallback ran the cases
	local name=$1 out=$2 ran skipped blocked
	# tcpfate run: "  PASS  name"; meson test -v: "▶ 1/2 - name OK"
	ran=$(grep -cE '^ *(PASS|FAIL) |^[^ ]+ [0-9]+/[0-9]+ - [a-z0-9_]+ +(OK|FAIL) *$' <<<"$out")
	skipped=$(grep -cE 'SKIP .*(cannot create|namespaces|no VM fallback)|no VM fallback' <<<"$out")
	if grep -q "namespaces blocked here (.*); running in a .* guest under qemu (\(tcg\|kvm\))" <<<"$out" &&
		((ran > 0 && skipped == 0)); then
		ok "$name: $ran cases ran in the guest, none skipped for the sandbox"
		grep -m1 "running in a" <<<"$out" | sed 's/^/# /'
		grep -E '^[0-9]+ passed|^ *(Ok|Fail|Skipped):|^wall ' <<<"$out" | sed 's/^/# /'
		# which failed, and why (tcpfate run's report: FAIL, then its failures)
		awk '/^  FAIL  /{p=1; print; next} /^  (PASS|SKIP)  /||/^[^ ]/{p=0} p' <<<"$out" |
			head -n 40 | sed 's/^/# /'
		[[ -z ${3:-} ]] || echo "# guest boots: $(cat "$3"/*.log 2>/dev/null | grep -c '^tcpfate-vm: kernel: ')"
	else
		notok "$name: the cases ran through the VM fallback ($ran ran, $skipped skipped for the sandbox)" "$out"
	fi
}

echo "TAP version 13"
echo "1..5"
common_env=(HOME="$TMP" XDG_CACHE_HOME="$CACHE" TF_VM_KERNEL="$KERNEL" PATH="$PATH")

want() { [[ " ${TF_RECIPES:-1 2 3 4 5} " == *" $1 "* ]]; }

# 1: root without CAP_SYS_ADMIN + the filter, meson test.
if ! want 1; then
	ok "# SKIP not in TF_RECIPES"
elif command -v meson >/dev/null && [[ -d $BUILD/meson-private ]]; then
	out=$(cd "$SRC" && "${limit[@]}" env "${common_env[@]}" XDG_CACHE_HOME="${XDG_CACHE_HOME:-$HOME/.cache}" \
		TF_VM_DIR="$TMP/vm-root" setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin \
		"$TMP/docker-seccomp" -- meson test -C "$BUILD" --logbase vm-recipe --print-errorlogs -v "${CASES[@]}" 2>&1)
	out+=$(timed_out $? "$TMP/vm-root")
	check "root, no CAP_SYS_ADMIN, Docker-shaped seccomp: meson test ${CASES[*]}" "$out"
else
	ok "# SKIP no meson or $BUILD is not a meson build dir"
fi

# 2: an ordinary user + the filter, tcpfate run.
if want 2; then
	out=$(cd "$TMP" && "${limit[@]}" setpriv --reuid="$uid" --regid="$gid" --clear-groups \
		env "${common_env[@]}" TF_VM_DIR="$TMP/vm" TF_CASEDIR="$TMP/cases" TF_ARTIFACTS="$TMP/art" \
		"$TMP/docker-seccomp" -- "$BUILD/harness/tcpfate" run 2>&1)
	out+=$(timed_out $? "$TMP/vm")
	check "uid $uid, Docker-shaped seccomp: tcpfate run (${CASES[*]})" "$out" "$TMP/vm"
else
	ok "# SKIP not in TF_RECIPES"
fi

# 3: an ordinary user in a user namespace whose max_user_namespaces is 0.
# The namespace maps its root to root (so that it may set its own limit)
# and uids/gids 1..65535 to 200001.. on the host (written from here, in one
# write(): no newuidmap needed); its root sets the limit and runs the suite
# as uid 1000 (host 201000).
in_userns() { # in_userns CMD...: run CMD as root of a fresh, mapped user namespace
	local f1=$TMP/up f2=$TMP/go pid
	rm -f "$f1" "$f2"
	mkfifo "$f1" "$f2"
	# The second exec, once mapped, gives the namespace's root its caps.
	unshare -U -- sh -c 'echo $$ >"$0"; read -r go <"$1"; shift; [ "$go" = go ] && exec "$@"' "$f1" "$f2" "$@" &
	read -r pid <"$f1"
	if python3 -c 'import os, sys
for f in ("uid_map", "gid_map"):
    fd = os.open("/proc/%s/%s" % (sys.argv[1], f), os.O_WRONLY)
    os.write(fd, b"0 0 1\n1 200001 65535\n")' "$pid"; then
		echo go >"$f2"
	else
		echo no >"$f2"
	fi
	wait "$!"
}
if ! want 3; then
	ok "# SKIP not in TF_RECIPES"
elif unshare -U true 2>/dev/null && command -v python3 >/dev/null; then
	# (a cache of its own, kept: host uid 201000 owns it)
	nscache=$CACHE-userns
	if [[ ! -d $nscache/tcpfate ]]; then
		mkdir -p "$nscache"
		cp -a "$CACHE/tcpfate" "$nscache/"
	fi
	mkdir -p "$TMP/ns/vm" "$TMP/ns/art"
	chown -R 201000:201000 "$TMP/ns" "$nscache"
	chmod 700 "$TMP/ns/vm"
	out=$(cd "$TMP" && in_userns sh -c 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"' sh \
		setpriv --reuid=1000 --regid=1000 --clear-groups \
		env "${common_env[@]}" XDG_CACHE_HOME="$nscache" TF_VM_DIR="$TMP/ns/vm" \
		TF_CASEDIR="$TMP/cases" TF_ARTIFACTS="$TMP/ns/art" "${limit[@]}" "$BUILD/harness/tcpfate" run 2>&1)
	out+=$(timed_out $? "$TMP/ns/vm")
	check "uid 1000 in a user namespace with user.max_user_namespaces=0: tcpfate run (${CASES[*]})" "$out"
else
	ok "# SKIP cannot make a user namespace here (or no python3 to map it)"
fi

# 4: the CASE binaries at once, as root without CAP_SYS_ADMIN under the
# filter, with a fresh TF_VM_DIR: each runs in the guest, and the guest's
# log (appended to by each start) shows one boot.
if want 4; then
	mkdir -p "$TMP/conc"
	pids=()
	for c in "${CASES[@]}"; do
		(cd "$TMP" && "${limit[@]}" env "${common_env[@]}" XDG_CACHE_HOME="${XDG_CACHE_HOME:-$HOME/.cache}" \
			TF_VM_DIR="$TMP/conc/vm" TF_ARTIFACTS="$TMP/conc/art" \
			setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin \
			"$TMP/docker-seccomp" -- "$BUILD/cases/$c" >"$TMP/conc/$c.out" 2>&1) &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	boots=$(cat "$TMP"/conc/vm/*.log 2>/dev/null | grep -c '^tcpfate-vm: kernel: ')
	bad=0
	for c in "${CASES[@]}"; do
		out=$(<"$TMP/conc/$c.out")
		grep -q "running in a .* guest under qemu" <<<"$out" && grep -qE '^(ok|not ok) [0-9]+ - [a-z0-9_]+$' <<<"$out" &&
			! grep -q 'SKIP cannot create' <<<"$out" || bad=1
	done
	if ((bad == 0 && boots == 1)); then
		ok "${#CASES[@]} binaries at once share one guest (1 boot)"
	else
		notok "${#CASES[@]} binaries at once share one guest ($boots boots)" \
			"$(cat "$TMP"/conc/*.out "$TMP"/conc/vm/*.log 2>/dev/null)"
	fi
else
	ok "# SKIP not in TF_RECIPES"
fi

# 5: one path, two binaries, one guest: a case binary runs a case, is
# replaced on the host by another (a new inode, as a linker writes it), and
# the new one runs one of its own cases while the guest is still up.  The
# guest must run the new binary, not the old one's cached pages or a mix of
# both (that crashed: SIGSEGV).
if want 5 && ((${#CASES[@]} >= 2)); then
	mkdir -p "$TMP/rb/bin"
	ln -s "$BUILD/lib" "$TMP/rb/lib"   # the binaries' RUNPATH: $ORIGIN/../lib
	rbrun() { # rbrun CASE: the binary at $TMP/rb/bin/case runs CASE in the guest
		(cd "$TMP" && "${limit[@]}" env "${common_env[@]}" XDG_CACHE_HOME="${XDG_CACHE_HOME:-$HOME/.cache}" \
			TF_VM_DIR="$TMP/rb/vm" setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin \
			"$TMP/docker-seccomp" -- "$TMP/rb/bin/case" --run "$1" 2>&1)
	}
	c0=$("$BUILD/cases/${CASES[0]}" --list | head -n1)
	c1=$("$BUILD/cases/${CASES[1]}" --list | head -n1)
	cp "$BUILD/cases/${CASES[0]}" "$TMP/rb/bin/case"
	first=$(rbrun "$c0")
	cp "$BUILD/cases/${CASES[1]}" "$TMP/rb/bin/case.new" && mv "$TMP/rb/bin/case.new" "$TMP/rb/bin/case"
	second=$(rbrun "$c1")
	boots=$(cat "$TMP"/rb/vm/*.log 2>/dev/null | grep -c '^tcpfate-vm: kernel: ')
	if grep -q "running in a .* guest" <<<"$second" && grep -qE "^(not )?ok 1 - $c1\$" <<<"$second" &&
		((boots == 1)); then
		ok "a binary rebuilt between two runs of one guest: the guest runs the new one ($boots boot)"
	else
		notok "a binary rebuilt between two runs of one guest: the guest runs the new one ($boots boots)" \
			"$(printf 'first run (%s):\n%s\nsecond run (%s):\n%s\n' "$c0" "$first" "$c1" "$second")"
	fi
else
	ok "# SKIP not in TF_RECIPES, or fewer than two CASE binaries"
fi
