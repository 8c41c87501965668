/* Host tests of lib/calib.c.  Build: make build/host/test_calib */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/calib.h"

static void pick(const uint64_t *err, unsigned n, unsigned want_best, unsigned want_second)
{
	unsigned b = 99, s = 99;

	calib_pick(err, n, &b, &s);
	assert_int_equal(b, want_best);
	assert_int_equal(s, want_second);
}

static void test_pick(void **state)
{
	(void)state;
	pick((const uint64_t[]){ 50, 60 }, 2, 0, 1);
	pick((const uint64_t[]){ 60, 50 }, 2, 1, 0);
	/* the disturbed windows (huge bounds) lose whatever their values */
	pick((const uint64_t[]){ 348044, 40, 388662, 45 }, 4, 1, 3);
	/* a new best pushes the old best to second */
	pick((const uint64_t[]){ 30, 90, 20, 25 }, 4, 2, 3);
	pick((const uint64_t[]){ 30, 90, 80, 10 }, 4, 3, 0);
	/* ties go to the earlier window */
	pick((const uint64_t[]){ 7, 7, 7 }, 3, 0, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick),
	};

	return cmocka_run_group_tests_name("calib", tests, NULL, NULL);
}
