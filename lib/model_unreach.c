/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* model_unreach.c — being written. */
#include "tf_model.h"
