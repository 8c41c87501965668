/*
 * Host tests of the pure parts of drivers/acpi.c: the table checksum and the \_S5 decoder,
 * on hand-assembled AML.  Build: make build/host/test_acpi
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "drivers/acpi.h"

#define NAME_OP 0x08
#define PKG_OP  0x12
#define BYTE    0x0a
#define S5      '_', 'S', '5', '_'

static int s5(const uint8_t *aml, size_t len, uint8_t *a, uint8_t *b)
{
	*a = *b = 0xee;
	return acpi_parse_s5(aml, len, a, b);
}

/* \_S5 is found in aml and gives the two SLP_TYP values a and b. */
static void expect_s5(const uint8_t *aml, size_t len, uint8_t want_a, uint8_t want_b)
{
	uint8_t a, b;

	assert_true(s5(aml, len, &a, &b));
	assert_int_equal(a, want_a);
	assert_int_equal(b, want_b);
}

/* What QEMU's DSDT has: Name (_S5, Package (4) { Zero, Zero, Zero, Zero }) */
static void test_s5_zero_ops(void **state)
{
	const uint8_t aml[] = { 0x10, NAME_OP, S5, PKG_OP, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00 };

	(void)state;
	expect_s5(aml, sizeof(aml), 0, 0);
}

/* Byte constants, a root prefix and a two-byte PkgLength (bits 7:6 = 1) */
static void test_s5_byte_prefix_root_and_long_pkglength(void **state)
{
	const uint8_t aml[] = { NAME_OP, '\\', S5, PKG_OP, 0x40 | 0x0a, 0x00, 0x02,
				BYTE, 0x07, BYTE, 0x05 };

	(void)state;
	expect_s5(aml, sizeof(aml), 7, 5);
}

/* "_S5_" that is not a Name (here a reference inside other code) is skipped; a OneOp counts */
static void test_s5_skips_non_name_occurrence(void **state)
{
	const uint8_t aml[] = { 0x70, S5, 0x60, NAME_OP, S5, PKG_OP, 0x04, 0x02, 0x01, 0x00 };

	(void)state;
	expect_s5(aml, sizeof(aml), 1, 0);
}

static void test_s5_rejects_what_needs_an_interpreter(void **state)
{
	/* elements computed by a method call, not constants */
	const uint8_t computed[] = { NAME_OP, S5, PKG_OP, 0x06, 0x02, 0x14, 0x01, 0x02, 0x03 };
	/* a Name that is not a package */
	const uint8_t not_pkg[] = { NAME_OP, S5, BYTE, 0x05 };
	const uint8_t none[] = { NAME_OP, '_', 'S', '4', '_', PKG_OP, 0x04, 0x02, 0x00, 0x00 };
	uint8_t a, b;

	(void)state;
	assert_false(s5(computed, sizeof(computed), &a, &b));
	assert_false(s5(not_pkg, sizeof(not_pkg), &a, &b));
	assert_false(s5(none, sizeof(none), &a, &b));
}

/* Cut short at every length: never true, never a read past the end (ASan would catch it). */
static void test_s5_truncated(void **state)
{
	const uint8_t aml[] = { NAME_OP, S5, PKG_OP, 0x08, 0x04, BYTE, 0x07, BYTE, 0x05 };
	uint8_t a, b;

	(void)state;
	for (size_t len = 0; len < sizeof(aml) - 1; len++) {
		uint8_t copy[sizeof(aml)];

		for (size_t i = 0; i < len; i++)
			copy[i] = aml[i];
		assert_false(s5(copy, len, &a, &b));
	}
	expect_s5(aml, sizeof(aml), 7, 5);
}

static void test_checksum(void **state)
{
	uint8_t t[8] = { 'R', 'S', 'D', 'T', 1, 2, 3, 0 };
	uint8_t sum = 0;

	(void)state;
	for (int i = 0; i < 7; i++)
		sum += t[i];
	t[7] = (uint8_t)-sum;
	assert_true(acpi_checksum_ok(t, sizeof(t)));
	t[4] ^= 0x10;
	assert_false(acpi_checksum_ok(t, sizeof(t)));
	assert_true(acpi_checksum_ok(t, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s5_zero_ops),
		cmocka_unit_test(test_s5_byte_prefix_root_and_long_pkglength),
		cmocka_unit_test(test_s5_skips_non_name_occurrence),
		cmocka_unit_test(test_s5_rejects_what_needs_an_interpreter),
		cmocka_unit_test(test_s5_truncated),
		cmocka_unit_test(test_checksum),
	};

	return cmocka_run_group_tests_name("acpi", tests, NULL, NULL);
}
