/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tf_proc, new → set: the program, its environment, stdio, its view of
 * /etc/hosts, its hostname and directory, each checked when set (nothing
 * runs until tf_proc_start(), exec.c).  See tf_exec.h.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_private.h"
#include "tf_util.h"


static char **strv_dup(char *const v[], size_t *n_out)
{
	size_t n = 0;
	char **c;

	while (v[n])
		n++;
	c = calloc(n + 1, sizeof *c);
	if (!c)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		c[i] = strdup(v[i]);
		if (!c[i]) {
			while (i--)
				free(c[i]);
			free(c);
			return NULL;
		}
	}
	if (n_out)
		*n_out = n;
	return c;
}

void tf__strv_free(char **v)
{
	if (!v)
		return;
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

int tf_proc_new(tf_host *h, char *const argv[], tf_proc **ret)
{
	tf_proc *p;

	if (!h || !argv || !argv[0] || !argv[0][0] || !ret)
		return -EINVAL;
	p = calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	p->host = h;
	p->argv = strv_dup(argv, NULL);
	if (!p->argv) {
		free(p);
		return -ENOMEM;
	}
	p->stdio[0] = TF_PROC_NULL;
	p->stdio[1] = p->stdio[2] = TF_PROC_INHERIT;
	p->pid = -1;
	p->pidfd = p->status_fd = -1;
	p->fds[0] = p->fds[1] = p->fds[2] = -1;
	p->start_ns = p->exit_ns = -1;
	*ret = p;
	return 0;
}

int tf_proc_new_shell(tf_host *h, const char *command, tf_proc **ret)
{
	char *argv[] = { "/bin/sh", "-c", (char *)command, NULL };

	if (!command || !*command)
		return -EINVAL;
	return tf_proc_new(h, argv, ret);
}

static bool valid_env_name(const char *s)
{
	if (!s || !(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

int tf_proc_setenv(tf_proc *p, const char *name, const char *value)
{
	size_t nl;
	char *kv, **e;

	if (!p || !value || !valid_env_name(name))
		return -EINVAL;
	if (p->started)
		return -EBUSY;
	nl = strlen(name);
	if (asprintf(&kv, "%s=%s", name, value) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_env; i++)
		if (strncmp(p->env[i], name, nl) == 0 && p->env[i][nl] == '=') {
			free(p->env[i]);
			p->env[i] = kv;
			return 0;
		}
	e = realloc(p->env, (p->n_env + 2) * sizeof *e);
	if (!e) {
		free(kv);
		return -ENOMEM;
	}
	p->env = e;
	p->env[p->n_env++] = kv;
	p->env[p->n_env] = NULL;
	return 0;
}

int tf_proc_set_stdio(tf_proc *p, int fd, tf_proc_stdio mode)
{
	if (!p || fd < 0 || fd > 2 || (mode != TF_PROC_NULL && mode != TF_PROC_INHERIT &&
	                               mode != TF_PROC_PIPE && mode != TF_PROC_PTY) ||
	    (mode == TF_PROC_PTY && fd == 0))
		return -EINVAL;
	if (p->started)
		return -EBUSY;
	p->stdio[fd] = mode;
	return 0;
}

static bool valid_hostname(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > max || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

int tf_proc_add_host_entry(tf_proc *p, const char *name, const char *addr)
{
	unsigned char buf[sizeof(struct in6_addr)];
	char line[320];
	int n;
	char *h;

	if (!p || !valid_hostname(name, 253) || !addr ||
	    (inet_pton(AF_INET, addr, buf) != 1 && inet_pton(AF_INET6, addr, buf) != 1))
		return -EINVAL;
	if (p->started)
		return -EBUSY;
	n = snprintf(line, sizeof line, "%s\t%s\n", addr, name);
	if (n < 0 || (size_t)n >= sizeof line)
		return -EINVAL;
	h = realloc(p->hosts, p->hosts_len + (size_t)n + 1);
	if (!h)
		return -ENOMEM;
	memcpy(h + p->hosts_len, line, (size_t)n + 1);
	p->hosts = h;
	p->hosts_len += (size_t)n;
	return 0;
}

int tf_proc_set_topo_names_af(tf_proc *p, const tf_topo *t, int family)
{
	const char *client, *server, *router = NULL;
	char fq[64];
	int r;

	if (!p || !t || (family != AF_INET && family != AF_INET6))
		return -EINVAL;
	if (p->host != tf_topo_client(t) && p->host != tf_topo_server(t) &&
	    p->host != tf_topo_router(t))
		return -EINVAL;
	client = tf_topo_addr(t, TF_NODE_CLIENT, family);
	server = tf_topo_addr(t, TF_NODE_SERVER, family);
	if (!client || !server)
		return -EINVAL;
	/* The router has an address on each side (tf_topo.h, "path"): the
	 * server reaches it on its own link, everyone else on the client's. */
	if (tf_topo_router(t))
		router = tf_topo_addr(t, p->host == tf_topo_server(t) ? TF_NODE_ROUTER_SERVER
		                                                      : TF_NODE_ROUTER_CLIENT, family);
	const char *names[] = { "client", "server", "router" };
	const char *addrs[] = { client, server, router };
	for (size_t i = 0; i < 3; i++) {
		if (!addrs[i])
			continue;
		snprintf(fq, sizeof fq, "%s.tcpfate.test", names[i]);
		if ((r = tf_proc_add_host_entry(p, names[i], addrs[i])) < 0 ||
		    (r = tf_proc_add_host_entry(p, fq, addrs[i])) < 0)
			return r;
	}
	if ((r = tf_proc_setenv(p, "TCPFATE_CLIENT", client)) < 0 ||
	    (r = tf_proc_setenv(p, "TCPFATE_SERVER", server)) < 0 ||
	    (router && (r = tf_proc_setenv(p, "TCPFATE_ROUTER", router)) < 0) ||
	    (r = tf_proc_setenv(p, "TCPFATE_FAMILY", family == AF_INET6 ? "ipv6" : "ipv4")) < 0 ||
	    (r = tf_proc_setenv(p, "TCPFATE_HOST", tf_host_name(p->host))) < 0)
		return r;
	return 0;
}

int tf_proc_set_topo_names(tf_proc *p, const tf_topo *t)
{
	return tf_proc_set_topo_names_af(p, t, AF_INET);
}

int tf_proc_set_hostname(tf_proc *p, const char *name)
{
	if (!p || !valid_hostname(name, 64))
		return -EINVAL;
	if (p->started)
		return -EBUSY;
	snprintf(p->hostname, sizeof p->hostname, "%s", name);
	return 0;
}

int tf_proc_set_cwd(tf_proc *p, const char *dir)
{
	char *d;

	if (!p || !dir || !*dir)
		return -EINVAL;
	if (p->started)
		return -EBUSY;
	d = strdup(dir);
	if (!d)
		return -ENOMEM;
	free(p->cwd);
	p->cwd = d;
	return 0;
}

const char *tf_proc_error(const tf_proc *p) { return p ? p->err : ""; }
