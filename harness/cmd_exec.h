/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcpfate exec — run a real client (and server) in a sandboxed topology,
 * break the network under it, and report when, or whether, the client
 * notices.  argv[0] is "exec".  Exit: 0 ok or skipped, 1 not ok, 2 bad usage.
 */
#pragma once

int tf_cmd_exec(int argc, char **argv);
