/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal to the model (model.c, model_unreach.c); not installed. */
#pragma once

#include <stddef.h>

#include "tf_model.h"

struct tf_schedule {
	tf_sched_event *ev;
	size_t n, cap;
	int err;
};
