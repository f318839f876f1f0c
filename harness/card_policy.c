/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The card's policy: a few rules, parsed strictly (a typo is an error,
 * never a rule silently ignored). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "card_policy.h"

static const char *const names[CC_N] = {
	[CC_CONNECT] = "connect",
	[CC_SENDING] = "dead-peer-sending",
	[CC_IDLE] = "dead-peer-idle",
	[CC_CRASH] = "server-crash",
	[CC_STALLED] = "stalled-peer",
	[CC_SURVIVE] = "survive",
};

const char *card_class_name(enum card_class c)
{
	return c < CC_N ? names[c] : "?";
}

void card_policy_init(card_policy *p)
{
	memset(p, 0, sizeof *p);
	for (int i = 0; i < CC_N; i++)
		p->bound_ms[i] = -1;
}

/* "5s", "500ms", "2m", "1.5" (seconds) -> ms; -EINVAL otherwise. */
static int duration_ms(const char *s, int64_t *ret)
{
	char *end;
	double v, mult = 1000;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || !isfinite(v))
		return -EINVAL;
	if (strcmp(end, "ms") == 0)
		mult = 1;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		mult = 60000;
	else if (*end && strcmp(end, "s") != 0)
		return -EINVAL;
	v *= mult;
	if (!(v > 0) || v > 3600e3)
		return -EINVAL;
	*ret = (int64_t)llround(v);
	return 0;
}

static int rule(card_policy *p, char *r, char *err, size_t errlen)
{
	char *op, *lhs, *rhs, *e;
	int64_t ms;

	while (*r == ' ' || *r == '\t')
		r++;
	e = r + strlen(r);
	while (e > r && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	if (!*r)
		return 0;
	if (strcmp(r, "never-hang") == 0) {
		p->never_hang = true;
		p->n_rules++;
		return 0;
	}
	if (strcmp(r, "survive") == 0) {
		p->survive = true;
		p->n_rules++;
		return 0;
	}
	op = strstr(r, "<=");
	if (!op) {
		snprintf(err, errlen, "'%s': expected 'CLASS <= DURATION', 'survive' or 'never-hang'", r);
		return -EINVAL;
	}
	*op = 0;
	lhs = r;
	rhs = op + 2;
	while (*rhs == ' ' || *rhs == '\t')
		rhs++;
	e = lhs + strlen(lhs);
	while (e > lhs && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = 0;
	for (int c = 0; c < CC_N; c++) {
		if (strcmp(lhs, names[c]) != 0)
			continue;
		if (c == CC_SURVIVE) {
			snprintf(err, errlen, "'survive' takes no duration");
			return -EINVAL;
		}
		if (duration_ms(rhs, &ms) < 0) {
			snprintf(err, errlen, "'%s <= %s': the duration must be like 5s, 500ms or 2m "
			         "(more than 0, at most 1 h)", lhs, rhs);
			return -EINVAL;
		}
		p->bound_ms[c] = ms;
		p->n_rules++;
		return 0;
	}
	snprintf(err, errlen, "unknown class '%s' (connect, dead-peer-sending, dead-peer-idle, "
	         "server-crash, stalled-peer)", lhs);
	return -EINVAL;
}

int card_policy_parse(card_policy *p, const char *text, char *err, size_t errlen)
{
	char *copy = strdup(text ? text : ""), *save = NULL, *line;
	char dummy[8];
	int r = 0;

	if (!err) {
		err = dummy;
		errlen = sizeof dummy;
	}
	if (!copy)
		return -ENOMEM;
	/* lines first: a comment may hold ',' or ';' */
	for (line = strtok_r(copy, "\n", &save); line && r == 0; line = strtok_r(NULL, "\n", &save)) {
		char *hash = strchr(line, '#'), *save2 = NULL, *one;
		if (hash)
			*hash = 0;
		for (char *c = line; *c; c++)
			if ((unsigned char)*c < 0x20 && *c != '\t' && *c != '\r') {
				snprintf(err, errlen, "a control character in the policy");
				free(copy);
				return -EINVAL;
			}
		for (one = strtok_r(line, ";,", &save2); one && r == 0; one = strtok_r(NULL, ";,", &save2))
			r = rule(p, one, err, errlen);
	}
	free(copy);
	return r;
}

int card_policy_load(card_policy *p, const char *path, char *err, size_t errlen)
{
	char buf[65537];
	ssize_t n;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-r));
		return r;
	}
	while ((n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)n;
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r < 0 || len >= sizeof buf - 1) {
		snprintf(err, errlen, "cannot read %s: %s", path, r < 0 ? strerror(-r) : "larger than 64 KiB");
		return r < 0 ? r : -EFBIG;
	}
	buf[len] = 0;
	if (memchr(buf, 0, len)) {
		snprintf(err, errlen, "%s: not a text file", path);
		return -EINVAL;
	}
	return card_policy_parse(p, buf, err, errlen);
}
