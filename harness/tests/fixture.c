/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fixtures and variants (a test of the harness): each TF_CASE_F runs once
 * per variant, setup before the body, with the variant's data. */
#include "tf_test.h"

TF_FIXTURE(numbers) { int value; bool set_up; };
TF_FIXTURE_VARIANT(numbers) { int n; const char *family; };
TF_VARIANT(numbers, one, .n = 1, .family = "ipv4");
TF_VARIANT(numbers, two, .n = 2, .family = "ipv6");
TF_FIXTURE_SETUP(numbers)
{
	self->value = variant->n;
	self->set_up = true;
}
TF_FIXTURE_TEARDOWN(numbers) {}

TF_CASE_F(numbers, sees_its_variant)
{
	tf_diag("family", "%s", variant->family);
	tf_expect_int("setup ran", self->set_up, 1);
	tf_expect_int("value from the variant", self->value, variant->n);
}

TF_FIXTURE(alone) { int x; };
TF_FIXTURE_VARIANT(alone) { int unused; };
TF_FIXTURE_SETUP(alone) { self->x = variant ? -1 : 7; }
TF_FIXTURE_TEARDOWN(alone) {}

TF_CASE_F(alone, no_variant_runs_once)
{
	tf_expect_int("setup ran with no variant", self->x, 7);
}
