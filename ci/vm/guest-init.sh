#!/bin/sh
# shellcheck shell=dash
# /init of the tcpfate-vm initramfs (busybox ash, PID 1).
#
# Channels (see README.md):
#   fd 0/1/2 = /dev/console = ttyS0   kernel log + this script's own chatter
#   fd 3     = /dev/ttyS1             markers + each binary's stdout (TAP)
#   fd 4     = /dev/ttyS2             each binary's stderr
#   /dev/ttyS3                        --artifacts: /tmp/artifacts as tar.gz
# /tfvm/config (written by tcpfate-vm) defines TFVM_* and tfvm_env/tfvm_jobs.

export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
umask 022

/bin/busybox mount -t proc proc /proc
# The applet links (real tools copied from the host, e.g. ip and tc, win).
/bin/busybox --install -s
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

# shellcheck source=/dev/null
. /tfvm/config
# /tmp is the initramfs' own (tmpfs) unless no binary was copied there.
[ "$TFVM_MOUNT_TMP" = 0 ] || mount -t tmpfs -o mode=1777 tmpfs /tmp

stty -F /dev/ttyS1 raw -echo 2>/dev/null
stty -F /dev/ttyS2 raw -echo 2>/dev/null
exec 3>/dev/ttyS1 4>/dev/ttyS2

say() { echo "$TFVM_MARK $*" >&3; }

release=$(uname -r)
say READY "$release" "up=$(cut -d" " -f1 /proc/uptime)"

hostname tfvm
ip link set lo up 2>/dev/null || echo "tfvm: cannot bring lo up"

# Sysctls the cases may need (the unprivileged path).
for kv in kernel.unprivileged_userns_clone=1 user.max_user_namespaces=65536 \
	kernel.panic_on_oops=1; do
	k=${kv%%=*}
	[ -e "/proc/sys/$(echo "$k" | tr . /)" ] && sysctl -qw "$kv"
done

# Modules, dependencies first (ordered by the host), decompressed already.
moddir=/lib/modules/$release
for m in $TFVM_MODULES; do
	if ! out=$(insmod "$moddir/$m" 2>&1); then
		case $out in
		*"File exists"*) ;;
		*) say WARN "insmod $m: $out" ;;
		esac
	fi
done
loaded=
for name in $TFVM_WANT; do
	if [ -d "/sys/module/$name" ]; then
		loaded="$loaded $name"
	else
		say WARN "module $name is not present after loading"
	fi
done
say MODULES "$loaded"

# Timer wake-up latency of this VM: the harness widens its bands by
# TF_SLACK_US; the host turns these numbers into that (unless given).
# The harness's own default is 1 jiffy (a timer softirq deferred to the next
# tick) + 2 ms (wake-up, capture, on bare metal).  A TCG guest keeps the
# jiffy term and replaces the 2 ms by its wake-up allowance: 2 x the p99
# measured here, but at least TFVM_WAKE_FLOOR_US (8 ms: the largest latency
# beyond the model's band measured in TCG guests on this project's shared
# 2-core host was 11.0 ms = 1 jiffy + 7 ms, see ci/vm/README.md).
if [ -x /tfvm/slackprobe ]; then
	s=$(/tfvm/slackprobe)
	p99=$(echo "$s" | sed -n 's/.*p99_us=\([0-9]*\).*/\1/p')
	hz=$(echo "$s" | sed -n 's/.*hz=\([0-9]*\).*/\1/p')
	[ "${hz:-0}" -ge 100 ] || hz=250
	wake=$((${p99:-0} * 2))
	[ "$wake" -ge "${TFVM_WAKE_FLOOR_US:-8000}" ] || wake=${TFVM_WAKE_FLOOR_US:-8000}
	slack=$((1000000 / hz + wake))
	export TF_SLACK_US=$slack
	say SLACK "$s slack_us=$slack"
	# Stalls while the cases run (10 ms sleeps; reported at the end).
	/tfvm/slackprobe --monitor /run/stalls &
	TFVM_MON=$!
fi

mkdir -p /tmp/artifacts
if [ "$TFVM_AS_USER" = 1 ]; then
	chown 1000:1000 /tmp/artifacts
fi

# TFVM_JOBS > 1 (--jobs): up to that many binaries at once, each one's
# stdout kept in /run/out.N and sent whole when it exits, so the TAP
# channel still carries one BEGIN..END block at a time.  Finished jobs say
# "N rc" on the fifo /run/done; this shell is its only reader and the only
# writer of fd 3.
running=0
if [ "${TFVM_JOBS:-1}" -gt 1 ]; then
	mkfifo /run/done
	exec 6<>/run/done
fi

tfvm_exec() {
	if [ "$TFVM_AS_USER" = 1 ]; then
		set -- setpriv --reuid=1000 --regid=1000 --clear-groups -- "$@"
	fi
	cd /tmp || exit 127
	tfvm_env
	exec "$@"
}

tfvm_reap() { # the next job to finish: its block on fd 3
	read -r ri rrc <&6
	say BEGIN "$ri"
	cat "/run/out.$ri" >&3
	rm -f "/run/out.$ri"
	say END "$ri" "$rrc"
	running=$((running - 1))
}

tfvm_run() {
	idx=$1
	shift
	if [ "${TFVM_JOBS:-1}" -le 1 ]; then
		say BEGIN "$idx"
		(tfvm_exec "$@") >&3 2>&4 </dev/null
		rc=$?
		say END "$idx" "$rc"
		return
	fi
	[ "$running" -lt "$TFVM_JOBS" ] || tfvm_reap
	(
		(tfvm_exec "$@") >"/run/out.$idx" 2>&4 </dev/null
		echo "$idx $?" >&6
	) &
	running=$((running + 1))
}

tfvm_jobs
while [ "$running" -gt 0 ]; do tfvm_reap; done

if [ -n "${TFVM_MON:-}" ]; then
	kill "$TFVM_MON" 2>/dev/null
	wait "$TFVM_MON" 2>/dev/null
	[ -s /run/stalls ] && say STALLS "$(cat /run/stalls)"
fi

if [ "$TFVM_ARTIFACTS" = 1 ]; then
	# Binary-clean: ttyS3 is raw; the host unpacks it after qemu exits.
	stty -F /dev/ttyS3 raw -echo 2>/dev/null
	tar -C /tmp/artifacts -cf - . | gzip -1 >/dev/ttyS3
fi
say DONE
# The last close of a tty waits until its bytes are sent.
exec 3>&- 4>&-
poweroff -f
echo o >/proc/sysrq-trigger
