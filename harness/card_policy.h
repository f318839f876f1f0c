/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * card_policy.h — a timeout policy the card checks every row against.
 *
 * One rule a line (a file), or rules separated by ';' or ',' (the command
 * line); '#' starts a comment:
 *
 *   connect <= 5s              a silent server must fail connect() in 5 s
 *   dead-peer-sending <= 15s   a dead peer noticed in 15 s while sending
 *   dead-peer-idle <= 30s      ... while waiting idle for an answer
 *   server-crash <= 1s         a killed server (FIN/RST) noticed in 1 s
 *   stalled-peer <= 20s        a frozen server or a closed window
 *   survive                    a blip (cable out and back) or loss/delay
 *                              must not make the client give up
 *   never-hang                 every other row: notice within the limit
 *
 * Durations: a number with s, ms or m (bare: seconds), 0 < d <= 3600 s.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum card_class {
	CC_CONNECT,
	CC_SENDING,
	CC_IDLE,
	CC_CRASH,
	CC_STALLED,
	CC_SURVIVE,
	CC_N,
};

typedef struct card_policy {
	int64_t bound_ms[CC_N];    /* -1: no rule for the class */
	bool survive;              /* the "survive" rule */
	bool never_hang;
	unsigned n_rules;
} card_policy;

const char *card_class_name(enum card_class c);
void card_policy_init(card_policy *p);
/* Add the rules in `text` (a file's contents or a --policy-rule).  On a bad
 * rule: -EINVAL, and `err` (if not NULL) says which and why. */
int card_policy_parse(card_policy *p, const char *text, char *err, size_t errlen);
/* Read a policy file (at most 64 KiB). */
int card_policy_load(card_policy *p, const char *path, char *err, size_t errlen);
