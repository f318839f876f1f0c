/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpfate model — print the schedule the kernel's rules (tf_model.h) give
 * for a set of knobs: retransmissions, SYN retries, keepalive probes, or the
 * hypothetical tcp_retries2 budget table.  No network is touched.
 * argv[0] is "model".  Exit: 0 ok (also --help), 1 the model cannot answer,
 * 2 bad usage.
 */
#pragma once

int tf_cmd_model(int argc, char **argv);
