/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * docker-seccomp [--user UID:GID] [--] CMD [ARGS...]
 *
 * Run CMD the way a container with Docker's default seccomp profile runs it
 * (also GitHub Actions job containers and GitLab's docker executor): the
 * rules of that profile that stop tcpfate's sandbox, for a process without
 * CAP_SYS_ADMIN —
 *   unshare(), setns(), mount(), umount2()        -> EPERM
 *   clone() with any CLONE_NEW* flag (mask 0x7e020000, the profile's)  -> EPERM
 *   clone3()                                      -> ENOSYS (so libc falls back to clone)
 * everything else allowed.  --user drops to that uid/gid first (no groups).
 * Sets no_new_privs (which unprivileged seccomp needs, as Docker does).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CLONE_NEW_MASK 0x7e020000u /* NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET */
#define RET_ERRNO(e) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))

int main(int argc, char **argv)
{
	int i = 1;

	if (i < argc && strcmp(argv[i], "--user") == 0 && i + 1 < argc) {
		unsigned uid, gid;
		char end;
		if (sscanf(argv[i + 1], "%u:%u%c", &uid, &gid, &end) != 2) {
			fprintf(stderr, "docker-seccomp: --user wants UID:GID, not '%s'\n", argv[i + 1]);
			return 2;
		}
		if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
			perror("docker-seccomp: dropping to the user");
			return 1;
		}
		i += 2;
	}
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc) {
		fprintf(stderr, "usage: docker-seccomp [--user UID:GID] [--] CMD [ARGS...]\n");
		return 2;
	}
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_unshare, 5, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_setns, 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mount, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_umount2, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 2, 4),
		RET_ERRNO(EPERM),
		RET_ERRNO(ENOSYS),
		/* clone: flags are args[0]; the namespace bits are in its low word */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NEW_MASK, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		RET_ERRNO(EPERM),
	};
	struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		perror("docker-seccomp: installing the filter");
		return 1;
	}
	execvp(argv[i], argv + i);
	fprintf(stderr, "docker-seccomp: %s: %s\n", argv[i], strerror(errno));
	return 127;
}
