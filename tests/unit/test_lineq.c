/*
 * Host tests of the line queue (lib/lineq.c): entries come out whole and in order, a write
 * cut off goes on where it stopped, a full queue drops entries and says how many lines where
 * they were.
 * Build: make build/host/test_lineq
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lib/lineq.h"

static struct lineq q;
static char out[LINEQ_ENTRIES * LINEQ_ENTRY_MAX * 2];
static size_t out_len;

static int setup(void **state)
{
	(void)state;
	lineq_init(&q);
	out_len = 0;
	out[0] = '\0';
	return 0;
}

/* The consumer: write up to max characters (all, for SIZE_MAX); returns how many. */
static size_t drain(size_t max)
{
	size_t n = 0;
	char c;

	while (n < max && (c = lineq_peek(&q)) != '\0') {
		out[out_len++] = c;
		out[out_len] = '\0';
		lineq_advance(&q);
		n++;
	}
	return n;
}

static void test_lines_come_out_whole_and_in_order(void **state)
{
	(void)state;
	assert_false(lineq_pending(&q));
	assert_int_equal(lineq_peek(&q), '\0');
	assert_true(lineq_printf(&q, "# TimeTrackerStats at %s s: %d", "1.000", 7));
	assert_true(lineq_printf(&q, "second"));
	assert_true(lineq_pending(&q));
	drain(SIZE_MAX);
	assert_string_equal(out, "# TimeTrackerStats at 1.000 s: 7\nsecond\n");
	assert_false(lineq_pending(&q));
	/* an empty line is a newline */
	assert_true(lineq_printf(&q, "%s", ""));
	drain(SIZE_MAX);
	assert_string_equal(out, "# TimeTrackerStats at 1.000 s: 7\nsecond\n\n");
}

/* The producer interrupts the consumer in the middle of a line; then the consumer is cut
 * off, and another consumer (kmain's flush) goes on from the same place. */
static void test_a_write_cut_off_goes_on_where_it_stopped(void **state)
{
	(void)state;
	lineq_printf(&q, "abcdef");
	assert_int_equal(drain(3), 3);
	lineq_printf(&q, "ghi");
	assert_int_equal(drain(5), 5);          /* "def\ng" */
	assert_true(lineq_pending(&q));
	drain(SIZE_MAX);
	assert_string_equal(out, "abcdef\nghi\n");
}

/* A line's slot is given back only after its newline: until then the queue is still full. */
static void test_a_slot_is_free_only_once_its_line_is_out(void **state)
{
	(void)state;
	for (unsigned i = 0; i < LINEQ_ENTRIES; i++)
		assert_true(lineq_printf(&q, "line %u", i));
	drain(strlen("line 0"));
	assert_false(lineq_printf(&q, "no room yet"));
	assert_int_equal(q.dropped, 1);
}

static void test_drops_are_told_where_they_were(void **state)
{
	char expected[128];

	(void)state;
	for (unsigned i = 0; i < LINEQ_ENTRIES; i++)
		assert_true(lineq_printf(&q, "line %u", i));
	assert_false(lineq_printf(&q, "dropped 1"));
	/* one slot free: not enough for the note and the line, so this one goes too */
	drain(strlen("line 0\n"));
	assert_false(lineq_printf(&q, "dropped 2"));
	drain(strlen("line 1\n"));
	assert_true(lineq_printf(&q, "after"));
	assert_int_equal(q.dropped, 2);
	out_len = 0;
	drain(SIZE_MAX);
	snprintf(expected, sizeof(expected), "line 2\n");
	assert_memory_equal(out, expected, strlen(expected));
	snprintf(expected, sizeof(expected), "line %u\n" LINEQ_DROPPED_FMT "\nafter\n",
		 LINEQ_ENTRIES - 1, 2u, (unsigned)LINEQ_ENTRIES);
	assert_true(out_len >= strlen(expected));
	assert_string_equal(out + out_len - strlen(expected), expected);
}

/* An entry of two lines comes out as two lines, and is dropped as two. */
static void test_an_entry_of_two_lines_is_queued_and_dropped_whole(void **state)
{
	char expected[128];

	(void)state;
	assert_true(lineq_printf(&q, "first %d\nsecond %d", 1, 2));
	drain(SIZE_MAX);
	assert_string_equal(out, "first 1\nsecond 2\n");
	for (unsigned i = 0; i < LINEQ_ENTRIES; i++)
		assert_true(lineq_printf(&q, "a%u\nb%u", i, i));
	assert_false(lineq_printf(&q, "c\nd"));
	assert_false(lineq_printf(&q, "e"));
	assert_int_equal(q.dropped, 3);
	drain(SIZE_MAX);
	lineq_close(&q);
	out_len = 0;
	drain(SIZE_MAX);
	snprintf(expected, sizeof(expected), LINEQ_DROPPED_FMT "\n", 3u, (unsigned)LINEQ_ENTRIES);
	assert_string_equal(out, expected);
}

/* Drops after the last line are told when the producer is done. */
static void test_close_tells_of_drops_after_the_last_line(void **state)
{
	char expected[128];

	(void)state;
	lineq_close(&q);
	assert_false(lineq_pending(&q));
	for (unsigned i = 0; i < LINEQ_ENTRIES + 3; i++)
		lineq_printf(&q, "x");
	drain(SIZE_MAX);
	out_len = 0;
	lineq_close(&q);
	drain(SIZE_MAX);
	snprintf(expected, sizeof(expected), LINEQ_DROPPED_FMT "\n", 3u, (unsigned)LINEQ_ENTRIES);
	assert_string_equal(out, expected);
	assert_int_equal(q.dropped, 3);
	/* told once */
	out_len = 0;
	out[0] = '\0';
	lineq_close(&q);
	drain(SIZE_MAX);
	assert_string_equal(out, "");
}

static void test_a_line_too_long_is_cut_and_counted(void **state)
{
	char big[LINEQ_ENTRY_MAX + 50];

	(void)state;
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_true(lineq_printf(&q, "%s", big));
	drain(SIZE_MAX);
	assert_int_equal(out_len, LINEQ_ENTRY_MAX);      /* LINE_MAX - 1 characters and '\n' */
	assert_int_equal(out[out_len - 1], '\n');
	assert_int_equal(q.truncated, 1);
}

/* The counters run on past the slots many times over. */
static void test_wraps_around(void **state)
{
	char line[32];

	(void)state;
	for (unsigned i = 0; i < 10 * LINEQ_ENTRIES + 5; i++) {
		out_len = 0;
		assert_true(lineq_printf(&q, "n%u", i));
		drain(SIZE_MAX);
		snprintf(line, sizeof(line), "n%u\n", i);
		assert_string_equal(out, line);
	}
	assert_int_equal(q.dropped, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_lines_come_out_whole_and_in_order, setup),
		cmocka_unit_test_setup(test_a_write_cut_off_goes_on_where_it_stopped, setup),
		cmocka_unit_test_setup(test_a_slot_is_free_only_once_its_line_is_out, setup),
		cmocka_unit_test_setup(test_drops_are_told_where_they_were, setup),
		cmocka_unit_test_setup(test_an_entry_of_two_lines_is_queued_and_dropped_whole, setup),
		cmocka_unit_test_setup(test_close_tells_of_drops_after_the_last_line, setup),
		cmocka_unit_test_setup(test_a_line_too_long_is_cut_and_counted, setup),
		cmocka_unit_test_setup(test_wraps_around, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
