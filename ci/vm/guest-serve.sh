#!/bin/sh
# shellcheck shell=dash
# /init of the fallback guest (tcpfate-vm --serve; busybox sh, PID 1).
#
# The guest runs the caller's own programs from the caller's filesystem:
# the host's / comes in read-only over 9p (virtio), a tmpfs overlay on top
# takes the writes (lost at power-off) and the artifacts directory is a
# second, writable 9p share at its own path, so what the cases leave there
# is on the host.  Then tfvm-agent replaces this script as PID 1 and runs
# the jobs that come over the virtio-serial port "tfvm".
# /tfvm/config (written by tcpfate-vm) defines TFVM_*.

export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
umask 022
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# shellcheck source=/dev/null
. /tfvm/config

fail() {
	echo "tfvm-serve: $*"
	# The host sees no READY and reports the console's last lines.
	poweroff -f
}

release=$(uname -r)
moddir=/lib/modules/$release
for m in $TFVM_MODULES; do
	if ! out=$(insmod "$moddir/$m" 2>&1); then
		case $out in
		*"File exists"*) ;;
		*) echo "tfvm-serve: insmod $m: $out" ;;
		esac
	fi
done
for name in 9p 9pnet_virtio virtio_console; do
	[ -d "/sys/module/$name" ] || fail "kernel $release has no $name (needs CONFIG_NET_9P_VIRTIO, CONFIG_9P_FS, CONFIG_VIRTIO_CONSOLE)"
done

# The caller's filesystem, read-only; a tmpfs overlay takes the writes.
p9="trans=virtio,version=9p2000.L,msize=512000"
mkdir -p /lower /upper /newroot
mount -t 9p -o "$p9,ro" hostroot /lower || fail "cannot mount the host's / over 9p"
mount -t tmpfs -o mode=0755 tmpfs /upper
mkdir -p /upper/u /upper/w
if ! mount -t overlay -o "lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w" overlay /newroot 2>/dev/null; then
	# No overlay: the 9p root itself, read-only, with a tmpfs /tmp.
	echo "tfvm-serve: no overlayfs; the root stays read-only, /tmp is a tmpfs"
	mount --move /lower /newroot
	mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
fi
R=/newroot
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
mount -t tmpfs -o mode=0755 tmpfs $R/run
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup 2>/dev/null
mount -t bpf bpf $R/sys/fs/bpf 2>/dev/null
mount -t debugfs debugfs $R/sys/kernel/debug 2>/dev/null
if [ -n "$TFVM_RWDIR" ]; then
	mkdir -p "$R$TFVM_RWDIR" 2>/dev/null
	mount -t 9p -o "$p9" tfrw "$R$TFVM_RWDIR" || fail "cannot mount the artifacts share at $TFVM_RWDIR"
fi
mkdir -p $R/run/tfvm
cp /tfvm/agent $R/run/tfvm/agent

hostname tfvm
ip link set lo up 2>/dev/null || ifconfig lo up 2>/dev/null
for kv in kernel.unprivileged_userns_clone=1 user.max_user_namespaces=65536 \
	kernel.panic_on_oops=1; do
	k=${kv%%=*}
	[ -e "/proc/sys/$(echo "$k" | tr . /)" ] && sysctl -qw "$kv"
done

# The measured-slack rule of ci/vm (README.md, "The tolerance in the VM"):
# 1 jiffy + max(TFVM_WAKE_FLOOR_US, 2 x p99 of 200 1-ms sleeps).
slack= info=
if [ -x /tfvm/slackprobe ]; then
	s=$(/tfvm/slackprobe)
	p99=$(echo "$s" | sed -n 's/.*p99_us=\([0-9]*\).*/\1/p')
	hz=$(echo "$s" | sed -n 's/.*hz=\([0-9]*\).*/\1/p')
	[ "${hz:-0}" -ge 100 ] || hz=250
	wake=$((${p99:-0} * 2))
	[ "$wake" -ge "${TFVM_WAKE_FLOOR_US:-8000}" ] || wake=${TFVM_WAKE_FLOOR_US:-8000}
	slack=$((1000000 / hz + wake))
	info="1jiffy+max(8ms,2p99) p99_us=$p99 hz=$hz"
fi
export TFVM_SLACK_US="$slack" TFVM_SLACK_INFO="$info"

port=
for n in /sys/class/virtio-ports/*/name; do
	[ "$(cat "$n" 2>/dev/null)" = tfvm ] && port=${n%/name} && port=/dev/${port##*/}
done
[ -n "$port" ] || fail "no virtio-serial port named tfvm"

umount /proc/sys/fs/binfmt_misc 2>/dev/null
exec switch_root /newroot /run/tfvm/agent guest "$port" \
	"release=$release slack_us=$slack up=$(cut -d' ' -f1 /proc/uptime)"
