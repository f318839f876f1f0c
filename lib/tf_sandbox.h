/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tf_sandbox.h — a private world of network namespaces ("hosts").
 *
 * A world belongs to one process.  Unprivileged, tf_world_new() unshares a
 * user namespace (the caller becomes root inside it) and a scratch network
 * namespace; as real root it only unshares the scratch network namespace.
 * Either way the process never works in the initial network namespace and
 * keeps no handle to it.  Each host is an anonymous network namespace held
 * by an fd: when the process dies, every namespace, link and route of the
 * world dies with it.
 *
 * Sockets belong to the namespace they were created in, so a socket made
 * inside host X (tf_host_socket(), or any code run by tf_host_run()) stays
 * in X whatever the thread does afterwards.
 *
 * Returns 0 or a negative errno; nothing here prints or exits.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tf_world tf_world;
typedef struct tf_host tf_host;
struct nl_sock;

/*
 * Why a sandbox cannot be made here, or 0 when it can: probes without side
 * effects (user.max_user_namespaces, kernel.unprivileged_userns_clone,
 * kernel.apparmor_restrict_unprivileged_userns) and writes a sentence into
 * `why`.  Call it after tf_world_new() failed to turn the errno into a
 * reason a person can act on.
 */
int tf_sandbox_explain(int err, char *why, size_t n);

int  tf_world_new(tf_world **ret);
void tf_world_free(tf_world *w);                 /* accepts NULL */
static inline void tf_world_freep(tf_world **w) { tf_world_free(*w); }
bool tf_world_in_userns(const tf_world *w);      /* true when unprivileged path taken */

/* A new host (network namespace, loopback up).  Owned by the world;
 * names are unique within the world (-EEXIST). */
int tf_host_new(tf_world *w, const char *name, tf_host **ret);
tf_host *tf_world_host(const tf_world *w, const char *name); /* NULL if none */
const char *tf_host_name(const tf_host *h);
int tf_host_nsfd(const tf_host *h);

/* Move the calling thread into host h for good. */
int tf_host_enter(tf_host *h);
/* Run fn(arg) inside host h and come back to the previous namespace.
 * Returns fn's return value, or a negative errno if switching failed. */
int tf_host_run(tf_host *h, int (*fn)(void *arg), void *arg);
/* socket(2) inside host h, always with SOCK_CLOEXEC. Returns fd or -errno. */
int tf_host_socket(tf_host *h, int domain, int type, int protocol);
/* The route-netlink socket bound in host h (owned by the host). */
struct nl_sock *tf_host_nl(tf_host *h);

/* Per-host sysctls, "net.ipv4.tcp_retries2" or "net/ipv4/tcp_retries2".
 * Only net.* keys are accepted (-EINVAL otherwise): they are per network
 * namespace, so writing them never touches the machine. */
int tf_host_sysctl_set(tf_host *h, const char *key, const char *value);
int tf_host_sysctl_set_int(tf_host *h, const char *key, long value);
int tf_host_sysctl_get(tf_host *h, const char *key, char *buf, size_t n);
int tf_host_sysctl_get_int(tf_host *h, const char *key, long *value);
/* -ENOENT when this kernel has no such sysctl: the probe for features. */
bool tf_host_sysctl_exists(tf_host *h, const char *key);

#ifdef __cplusplus
}
#endif
