/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
#include <stdbool.h>
/* tcpfate run (list_only false) / tcpfate list; argv[0] is the command. */
int tf_cmd_run(int argc, char **argv, bool list_only);
