/*
 * Host tests of the MC146818 time-of-day decoding (lib/rtc_decode.c): BCD and binary,
 * 12- and 24-hour clocks, the century, and second counts across a leap day.
 * Build: make build/host/test_rtc_decode
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include "lib/rtc_decode.h"

static const struct rtc_format BCD24 = { .binary = false, .hour24 = true };
static const struct rtc_format BCD12 = { .binary = false, .hour24 = false };
static const struct rtc_format BIN24 = { .binary = true, .hour24 = true };
static const struct rtc_format BIN12 = { .binary = true, .hour24 = false };

static void test_bcd(void **state)
{
	(void)state;
	assert_int_equal(rtc_bcd_to_bin(0x00), 0);
	assert_int_equal(rtc_bcd_to_bin(0x59), 59);
	assert_int_equal(rtc_bcd_to_bin(0x99), 99);
	assert_int_equal(rtc_bin_to_bcd(0), 0x00);
	assert_int_equal(rtc_bin_to_bcd(47), 0x47);
	assert_true(rtc_bcd_valid(0x09));
	assert_false(rtc_bcd_valid(0x0a));
	assert_false(rtc_bcd_valid(0xa0));
	for (unsigned v = 0; v < 100; v++)
		assert_int_equal(rtc_bcd_to_bin(rtc_bin_to_bcd((uint8_t)v)), v);
}

static void test_field_rejects_bad_bcd_only_in_bcd_mode(void **state)
{
	uint8_t out;

	(void)state;
	assert_false(rtc_decode_field(0x3a, BCD24, &out));
	assert_true(rtc_decode_field(0x3a, BIN24, &out));
	assert_int_equal(out, 0x3a);
}

/* Every hour of the day through both encodings and both data modes, and back. */
static void test_hour_round_trip(void **state)
{
	const struct rtc_format formats[] = { BCD24, BCD12, BIN24, BIN12 };
	uint8_t h;

	(void)state;
	for (unsigned i = 0; i < 4; i++) {
		for (uint8_t hour = 0; hour < 24; hour++) {
			assert_true(rtc_decode_hour(rtc_encode_hour(hour, formats[i]), formats[i], &h));
			assert_int_equal(h, hour);
		}
	}
}

static void test_twelve_hour_clock(void **state)
{
	uint8_t h;

	(void)state;
	assert_true(rtc_decode_hour(0x12, BCD12, &h));                  /* 12 AM */
	assert_int_equal(h, 0);
	assert_true(rtc_decode_hour(0x01, BCD12, &h));                  /* 1 AM */
	assert_int_equal(h, 1);
	assert_true(rtc_decode_hour(RTC_HOUR_PM | 0x12, BCD12, &h));    /* 12 PM */
	assert_int_equal(h, 12);
	assert_true(rtc_decode_hour(RTC_HOUR_PM | 0x11, BCD12, &h));    /* 11 PM */
	assert_int_equal(h, 23);
	assert_true(rtc_decode_hour(RTC_HOUR_PM | 11, BIN12, &h));
	assert_int_equal(h, 23);
	assert_false(rtc_decode_hour(0x00, BCD12, &h));                 /* no hour 0 at 12 h */
	assert_false(rtc_decode_hour(0x13, BCD12, &h));
	assert_false(rtc_decode_hour(0x24, BCD24, &h));
	/* in 24-hour mode bit 7 is not a PM flag: 0x80 | x is out of range */
	assert_false(rtc_decode_hour(RTC_HOUR_PM | 0x01, BCD24, &h));
	assert_int_equal(rtc_encode_hour(0, BCD12), 0x12);
	assert_int_equal(rtc_encode_hour(13, BCD12), RTC_HOUR_PM | 0x01);
}

static void test_year_and_century(void **state)
{
	(void)state;
	assert_int_equal(rtc_full_year(24, 20, true), 2024);
	assert_int_equal(rtc_full_year(99, 19, true), 1999);
	assert_int_equal(rtc_full_year(5, 0, false), 2005);     /* no century register */
	assert_true(rtc_leap_year(2024));
	assert_true(rtc_leap_year(2000));
	assert_false(rtc_leap_year(2100));
	assert_int_equal(rtc_days_in_month(2024, 2), 29);
	assert_int_equal(rtc_days_in_month(2023, 2), 28);
	assert_int_equal(rtc_days_in_month(2024, 13), 0);
}

/*
 * Decode raw in format f and compare the whole time of day, written as ISO 8601: every field is
 * held, and a failure reads as the two dates.
 */
static void expect_tod(const struct rtc_raw *raw, struct rtc_format f, const char *want)
{
	struct rtc_tod t;
	char got[32];

	assert_true(rtc_decode_tod(raw, f, &t));
	snprintf(got, sizeof(got), "%04u-%02u-%02uT%02u:%02u:%02u", (unsigned)t.year,
		 (unsigned)t.month, (unsigned)t.day, (unsigned)t.hour, (unsigned)t.minute,
		 (unsigned)t.second);
	assert_string_equal(got, want);
}

/* What QEMU shows for -rtc base=2024-02-29T23:59:58: BCD, 24 h, century byte 0x20. */
static const struct rtc_raw leap_day = { .seconds = 0x58, .minutes = 0x59, .hours = 0x23,
					 .day_of_month = 0x29, .month = 0x02, .year = 0x24,
					 .century = 0x20, .has_century = true };

static void test_decode_leap_day_bcd(void **state)
{
	(void)state;
	expect_tod(&leap_day, BCD24, "2024-02-29T23:59:58");
}

static void test_decode_binary_12h_without_century(void **state)
{
	const struct rtc_raw raw = { .seconds = 7, .minutes = 30, .hours = RTC_HOUR_PM | 12,
				     .day_of_month = 31, .month = 12, .year = 99 };

	(void)state;
	expect_tod(&raw, BIN12, "2099-12-31T12:30:07");
}

/* A byte of struct rtc_raw, and a value for it. */
struct raw_field {
	size_t offset;
	uint8_t value;
};

static void test_decode_rejects_impossible_dates(void **state)
{
	/* the leap day at midnight and at 23:59:58, one field at a time made impossible */
	static const struct raw_field bad[] = {
		{ offsetof(struct rtc_raw, year), 0x23 },       /* 2023 is no leap year */
		{ offsetof(struct rtc_raw, seconds), 0x60 },
		{ offsetof(struct rtc_raw, month), 0x13 },
		{ offsetof(struct rtc_raw, month), 0x00 },
		{ offsetof(struct rtc_raw, day_of_month), 0x00 },
		{ offsetof(struct rtc_raw, century), 0x2a },    /* bad BCD in the century */
	};
	struct rtc_raw days[2] = { leap_day, leap_day };
	struct rtc_tod t;

	(void)state;
	days[0].seconds = days[0].minutes = days[0].hours = 0x00;
	expect_tod(&days[0], BCD24, "2024-02-29T00:00:00");
	expect_tod(&days[1], BCD24, "2024-02-29T23:59:58");
	for (size_t d = 0; d < 2; d++) {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct rtc_raw raw = days[d];

			((uint8_t *)&raw)[bad[i].offset] = bad[i].value;
			if (rtc_decode_tod(&raw, BCD24, &t))
				fail_msg("day %zu: byte %zu = 0x%02x was accepted", d, bad[i].offset,
					 bad[i].value);
		}
	}
}

static void test_seconds_across_leap_day_and_epoch(void **state)
{
	const struct rtc_tod epoch = { 1970, 1, 1, 0, 0, 0 };
	const struct rtc_tod before = { 2024, 2, 29, 23, 59, 59 };
	const struct rtc_tod after = { 2024, 3, 1, 0, 0, 0 };
	const struct rtc_tod y2k = { 2000, 1, 1, 0, 0, 0 };
	const struct rtc_tod new_year = { 2023, 12, 31, 23, 59, 59 };
	const struct rtc_tod next_year = { 2024, 1, 1, 0, 0, 0 };

	(void)state;
	assert_int_equal(rtc_tod_seconds(&epoch), 0);
	assert_int_equal(rtc_tod_seconds(&y2k), 946684800);
	assert_int_equal(rtc_tod_seconds(&after) - rtc_tod_seconds(&before), 1);
	assert_int_equal(rtc_tod_seconds(&next_year) - rtc_tod_seconds(&new_year), 1);
	assert_int_equal(rtc_tod_seconds(&after), 1709251200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bcd),
		cmocka_unit_test(test_field_rejects_bad_bcd_only_in_bcd_mode),
		cmocka_unit_test(test_hour_round_trip),
		cmocka_unit_test(test_twelve_hour_clock),
		cmocka_unit_test(test_year_and_century),
		cmocka_unit_test(test_decode_leap_day_bcd),
		cmocka_unit_test(test_decode_binary_12h_without_century),
		cmocka_unit_test(test_decode_rejects_impossible_dates),
		cmocka_unit_test(test_seconds_across_leap_day_and_epoch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
