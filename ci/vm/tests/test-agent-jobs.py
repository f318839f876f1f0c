#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The guest side of ci/vm/tfvm-agent.c, run here on a pty: many jobs at
once, each must end with its X frame (wait status).  Its orphan reaper used
to reap a job that exited after a poll() and drop its status: that job's
caller on the host waited forever (VM recipe 4 hung).  TAP out.

    test-agent-jobs.py TFVM-AGENT.C

Run in a user namespace (unshare -Ur) when root, so that the agent's
drop_caches write (it does one when no job runs) cannot reach this host.
"""
import os, select, shutil, struct, subprocess, sys, tempfile, time, tty

ROUNDS, JOBS = 6, 64


def frames(buf):
    """Complete frames at the head of buf: [(id, type, data)], rest."""
    out = []
    while len(buf) >= 9:
        fid, n = struct.unpack("<II", buf[:8])
        if len(buf) < 9 + n:
            break
        out.append((fid, chr(buf[8]), buf[9:9 + n]))
        buf = buf[9 + n:]
    return out, buf


def main():
    src = sys.argv[1]
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if not cc:
        print("1..0 # SKIP no C compiler")
        return 0
    wrap = []
    if os.geteuid() == 0:
        if not shutil.which("unshare") or subprocess.run(["unshare", "-Ur", "true"]).returncode:
            print("1..0 # SKIP root without a user namespace: the agent would write this host's drop_caches")
            return 0
        wrap = ["unshare", "-Ur"]
    tmp = tempfile.mkdtemp()
    try:
        agent = os.path.join(tmp, "tfvm-agent")
        subprocess.run([cc, "-O2", "-o", agent, src], check=True)
        master, slave = os.openpty()
        tty.setraw(slave)
        tty.setraw(master)
        proc = subprocess.Popen(wrap + [agent, "guest", os.ttyname(slave), "test"],
                                stdin=subprocess.DEVNULL)
        buf, got = b"", {}
        deadline = time.monotonic() + 10

        def pump(until):
            nonlocal buf
            while not until() and time.monotonic() < deadline:
                r, _, _ = select.select([master], [], [], 0.5)
                if r:
                    buf += os.read(master, 65536)
                    fr, buf = frames(buf)
                    for fid, t, d in fr:
                        got.setdefault(fid, []).append((t, d))

        pump(lambda: 0 in got)
        print("1..%d" % (ROUNDS + 1))
        print("%sok 1 - the agent is ready" % ("" if 0 in got else "not "))
        env = b"PATH=/usr/bin:/bin\0"
        for rnd in range(ROUNDS):
            ids = range(1 + rnd * JOBS, 1 + (rnd + 1) * JOBS)
            for i in ids:
                # half print and exit 0, half exit 3 at once: exits land
                # while other jobs' output is being read
                argv = [b"echo", b"job %d" % i] if i % 2 else [b"false"]
                data = b"/\0" + b"0\0" + b"0\0" + b"%d\0" % len(argv) + b"".join(a + b"\0" for a in argv) + env
                os.write(master, struct.pack("<II", i, len(data)) + b"N" + data)
            deadline = time.monotonic() + 15
            pump(lambda: all(any(t == "X" for t, _ in got.get(i, [])) for i in ids))
            missing = [i for i in ids if not any(t == "X" for t, _ in got.get(i, []))]
            if missing:
                print("not ok %d - round %d: %d jobs at once, every one's exit status arrives" % (rnd + 2, rnd + 1, JOBS))
                print("  ---\n  missing_exit_frames: %d\n  ..." % len(missing))
            else:
                print("ok %d - round %d: %d jobs at once, every one's exit status arrives" % (rnd + 2, rnd + 1, JOBS))
        os.write(master, struct.pack("<II", 0, 0) + b"Q")
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


sys.exit(main())
