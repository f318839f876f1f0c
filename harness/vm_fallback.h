/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* The sandbox cannot be made here (blocked_reason says why, e.g. the EPERM and its likely cause).
 * Run this same command (argv, argv[0] an absolute path to a case binary or the tcpfate command)
 * in a guest kernel instead: on success this never returns (it execs, or it runs and exits with
 * the command's status). It returns only when no fallback is possible: -errno, with `why` filled
 * with a one-line reason that names the fix (e.g. "no qemu-system-x86_64: apt-get install
 * qemu-system-x86"). Honour TF_VM_FALLBACK=0 (disabled: return -ENOTSUP, why="disabled by
 * TF_VM_FALLBACK=0") and TF_VM_KERNEL (which kernel; default: Debian's current cloud kernel). */
/* Note on the default kernel: Debian's cloud kernels (6.1.0-*-cloud-amd64, 6.12.*-cloud-amd64)
 * are built without 9p (CONFIG_NET_9P is not set), which the guest needs to see this machine's
 * files, so the default is Debian's current generic kernel, linux-image-amd64 (its 9p, virtio
 * and overlay are modules).  A guest is shared: see harness/vm_fallback.c and ci/vm/README.md. */
int tf_vm_fallback_exec(char *const argv[], const char *blocked_reason, char *why, size_t why_len);

/* Probe the sandbox (in a throw-away child); where namespaces are blocked
 * (EPERM, EACCES, ENOSPC, ENOSYS) run argv in a guest through
 * tf_vm_fallback_exec().  0: the sandbox works here, nothing done.  -errno:
 * blocked and no fallback either; `blocked` and `why` say why. */
int tf_vm_fallback_if_blocked(char **argv, char *blocked, size_t blocked_len, char *why,
                              size_t why_len);
