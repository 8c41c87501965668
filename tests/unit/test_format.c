/*
 * Host unit tests for lib/format.c.
 *
 * Build and run from the repository root:
 *   gcc -std=c11 -Wall -Wextra -Werror -I. tests/unit/test_config.c kernel/config.c lib/format.c lib/string.c -lcmocka -o build/host/test_config
 *   gcc -std=c11 -Wall -Wextra -Werror -I. tests/unit/test_format.c lib/format.c -lcmocka -o build/host/test_format
 *   gcc -std=c11 -Wall -Wextra -Werror -I. tests/unit/test_stats.c acct/stats.c -lcmocka -o build/host/test_stats
 *   build/host/test_format
 *
 * On the x86-64 host long is 64 bits (it is 32 bits in the kernel), so the %l tests check that
 * the formatter reads a long as a long and not as an int.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <string.h>

#include "lib/format.h"

static char buf[256];

/* Format into buf and check both the text and the returned length. */
#define CHECK(expected, ...)                                                    \
	do {                                                                    \
		int n_ = ksnprintf(buf, sizeof(buf), __VA_ARGS__);             \
		assert_string_equal(buf, expected);                             \
		assert_int_equal(n_, strlen(expected));                         \
	} while (0)

static void test_plain(void **state)
{
	(void)state;
	CHECK("hello, world", "hello, world");
	CHECK("100%", "100%%");
	CHECK("%%", "%%%%");
	CHECK("a\tb\n", "a\tb\n");
}

static void test_signed(void **state)
{
	(void)state;
	CHECK("0", "%d", 0);
	CHECK("42", "%d", 42);
	CHECK("-42", "%d", -42);
	CHECK("42", "%i", 42);
	CHECK("-7", "%i", -7);
	CHECK("2147483647", "%d", INT_MAX);
	CHECK("-2147483648", "%d", INT_MIN);
	CHECK("x=-1,y=2", "x=%d,y=%d", -1, 2);
}

static void test_unsigned(void **state)
{
	(void)state;
	CHECK("0", "%u", 0u);
	CHECK("4294967295", "%u", UINT_MAX);
	CHECK("deadbeef", "%x", 0xdeadbeefu);
	CHECK("DEADBEEF", "%X", 0xdeadbeefu);
	CHECK("0", "%x", 0u);
	CHECK("ffffffff", "%x", UINT_MAX);
	CHECK("abc123", "%x", 0xabc123u);
}

static void test_length_modifiers(void **state)
{
	(void)state;
	CHECK("9223372036854775807", "%ld", LONG_MAX);
	CHECK("-9223372036854775808", "%ld", LONG_MIN);
	CHECK("18446744073709551615", "%lu", ULONG_MAX);
	CHECK("ffffffffffffffff", "%lx", ULONG_MAX);
	CHECK("-9223372036854775808", "%lld", (long long)INT64_MIN);
	CHECK("9223372036854775807", "%lli", (long long)INT64_MAX);
	CHECK("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
	CHECK("123456789ABCDEF0", "%llX", 0x123456789abcdef0ULL);
	CHECK("18446744073709551615", "%zu", SIZE_MAX);
	CHECK("ffffffffffffffff", "%zx", SIZE_MAX);
	CHECK("-1", "%zd", (ptrdiff_t)-1);
	/* a long argument between ints must not shift the ones after it */
	CHECK("1 -2 3", "%d %ld %d", 1, -2L, 3);
	CHECK("1 4294967296 3", "%d %llu %d", 1, 4294967296ULL, 3);
}

static void test_width(void **state)
{
	(void)state;
	CHECK("   42", "%5d", 42);
	CHECK("42   ", "%-5d", 42);
	CHECK("00042", "%05d", 42);
	CHECK("  -42", "%5d", -42);
	CHECK("-0042", "%05d", -42);
	CHECK("-42  ", "%-5d", -42);
	CHECK("12345", "%3d", 12345);           /* a width never truncates */
	CHECK("    ff", "%6x", 255u);
	CHECK("0000FF", "%06X", 255u);
	CHECK("-9223372036854775808", "%5lld", (long long)INT64_MIN);
	CHECK("0000000000000000000000042", "%025llu", 42ULL);
	CHECK("|   ab|", "|%5s|", "ab");
	CHECK("|ab   |", "|%-5s|", "ab");
	CHECK("|  x|", "|%3c|", 'x');
	CHECK("|x  |", "|%-3c|", 'x');
	CHECK("%", "%%");
}

static void test_star(void **state)
{
	(void)state;
	CHECK("    7", "%*d", 5, 7);
	CHECK("7    ", "%-*d", 5, 7);
	CHECK("00007", "%0*d", 5, 7);
	CHECK("7    |", "%*d|", -5, 7);         /* negative '*' width means left-justify */
	CHECK("ab", "%.*s", 2, "abcdef");
	CHECK("abcdef", "%.*s", -1, "abcdef");  /* negative precision: as if none */
	CHECK("   ab", "%*.*s", 5, 2, "abcdef");
	CHECK("ab   |7", "%*.*s|%d", -5, 2, "abcdef", 7);
}

/* A spec with a string argument and what it gives: a width pads it, a precision cuts it. */
struct string_case {
	const char *want, *fmt, *arg;
};

static void test_strings(void **state)
{
	static const struct string_case cases[] = {
		{ "abc", "%s", "abc" },
		{ "", "%s", "" },
		{ "ab", "%.2s", "abcdef" },
		{ "", "%.0s", "abcdef" },
		{ "abc", "%.10s", "abc" },
		{ "   ab", "%5.2s", "abcdef" },
		{ "ab   ", "%-5.2s", "abcdef" },
	};
	/* not NUL-terminated: a precision must stop the read */
	const char raw[3] = { 'x', 'y', 'z' };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(cases[i].want, cases[i].fmt, cases[i].arg);
	CHECK("xyz", "%.3s", raw);
	CHECK("xy", "%.*s", 2, raw);
	CHECK("a-b", "%c-%c", 'a', 'b');
	CHECK("[hello]", "[%s]", "hello");
}

static void test_pointer(void **state)
{
	(void)state;
	CHECK("0x1234", "%p", (void *)0x1234);
	CHECK("0x0", "%p", (void *)NULL);
	CHECK("0xdeadbeefcafe", "%p", (void *)0xdeadbeefcafeULL);
	CHECK("    0x1234", "%10p", (void *)0x1234);
	CHECK("0x1234    ", "%-10p", (void *)0x1234);
}

/*
 * Combinations GCC's format checker warns about (they are undefined or odd in ISO C), but
 * which our formatter gives a defined meaning, plus deliberate mistakes in format strings.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
#pragma GCC diagnostic ignored "-Wformat-zero-length"
#pragma GCC diagnostic ignored "-Wformat-overflow"
static void test_odd_specs(void **state)
{
	(void)state;
	CHECK("", "");
	CHECK("(null)", "%s", (char *)NULL);
	CHECK("  (null)", "%8s", (char *)NULL);
	CHECK("(nu", "%.3s", (char *)NULL);
	CHECK("42   ", "%-05d", 42);              /* '-' wins over '0' */
	CHECK("42   ", "%0-5d", 42);
	CHECK("0x00001234", "%010p", (void *)0x1234);   /* zeros go after 0x */
	CHECK("   ab", "%05s", "ab");              /* '0' only pads numbers */
	CHECK("    x", "%05c", 'x');
	CHECK("%q", "%q", 1);                      /* unknown conversion is shown as written */
	CHECK("abc%", "abc%");                     /* a lone '%' at the end */
	CHECK("abc%", "abc%5");                    /* an unfinished spec at the end */
	CHECK("x", "%lc", 'x');                    /* a length on %c is ignored */
}

static void test_width_cap(void **state)
{
	int n;

	(void)state;
	/* absurd widths are capped at 4096 so a typo cannot flood the serial port */
	n = ksnprintf(NULL, 0, "%99999999999d", 1);
	assert_int_equal(n, 4096);
	n = ksnprintf(NULL, 0, "%4294967297d", 1);      /* 2^32 + 1 must not wrap to 1 */
	assert_int_equal(n, 4096);
	n = ksnprintf(NULL, 0, "%*d", INT_MAX, 1);
	assert_int_equal(n, 4096);
	n = ksnprintf(NULL, 0, "%*d", INT_MIN, 1);
	assert_int_equal(n, 4096);
}
#pragma GCC diagnostic pop

static void test_truncation(void **state)
{
	char small[8];
	int n;

	(void)state;
	/* returns the full length, writes n - 1 characters and the NUL, touches nothing past n */
	memset(small, 'Z', sizeof(small));
	n = ksnprintf(small, 5, "hello world");
	assert_int_equal(n, 11);
	assert_string_equal(small, "hell");
	assert_int_equal(small[5], 'Z');

	memset(small, 'Z', sizeof(small));
	n = ksnprintf(small, 1, "hello");
	assert_int_equal(n, 5);
	assert_int_equal(small[0], '\0');
	assert_int_equal(small[1], 'Z');

	/* n == 0 writes nothing at all, so buf may be NULL: the usual way to measure */
	memset(small, 'Z', sizeof(small));
	assert_int_equal(ksnprintf(small, 0, "hello"), 5);
	assert_int_equal(small[0], 'Z');
	assert_int_equal(ksnprintf(NULL, 0, "%d-%s", -12345, "xyz"), 10);

	/* exact fit, and one short of it */
	memset(small, 'Z', sizeof(small));
	assert_int_equal(ksnprintf(small, 8, "%07d", 42), 7);
	assert_string_equal(small, "0000042");
	assert_int_equal(ksnprintf(small, 7, "%07d", 42), 7);
	assert_string_equal(small, "000004");

	/* truncation inside a padded field and inside a number */
	assert_int_equal(ksnprintf(small, 4, "%8s", "x"), 8);
	assert_string_equal(small, "   ");
	assert_int_equal(ksnprintf(small, 4, "%lld", (long long)INT64_MIN), 20);
	assert_string_equal(small, "-92");
}

/*
 * kvsnprintf with a va_list passed on by a variadic caller: ksnprintf is just that caller, so
 * the test reaches kvsnprintf through it rather than through a copy of it.
 */
static void test_kvsnprintf(void **state)
{
	(void)state;
	assert_int_equal(ksnprintf(buf, sizeof(buf), "%s=%d %llx", "k", -3, 0xffULL), 7);
	assert_string_equal(buf, "k=-3 ff");
	assert_int_equal(ksnprintf(buf, 3, "%d", 123456), 6);
	assert_string_equal(buf, "12");
}

/* A sink that records what fmt_vformat sends it, the way the kernel's UART sink would. */
struct capture {
	char text[64];
	int calls;
};

static void capture_putc(void *arg, char c)
{
	struct capture *cap = arg;

	if (cap->calls < (int)sizeof(cap->text) - 1)
		cap->text[cap->calls] = c;
	cap->calls++;
}

static int vformat_wrap(struct capture *cap, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = fmt_vformat(capture_putc, cap, fmt, ap);
	va_end(ap);
	return r;
}

static void test_vformat_sink(void **state)
{
	struct capture cap;
	int n;

	(void)state;
	memset(&cap, 0, sizeof(cap));
	n = vformat_wrap(&cap, "tick %u of %-4s|%c", 7u, "run", '!');
	assert_string_equal(cap.text, "tick 7 of run |!");
	assert_int_equal(n, 16);
	assert_int_equal(cap.calls, 16);        /* one call per character, none for the NUL */

	memset(&cap, 0, sizeof(cap));
	assert_int_equal(vformat_wrap(&cap, ""), 0);
	assert_int_equal(cap.calls, 0);
}

/* A fixed-point value (value / 10^digits) and how fmt_fixed() writes it. */
struct fixed_case {
	int64_t value;
	unsigned digits;
	const char *want;
};

static void test_fixed(void **state)
{
	static const struct fixed_case cases[] = {
		/* the sign, before any zeros */
		{ 5, 3, "0.005" },
		{ -5, 3, "-0.005" },
		{ 1234, 0, "1234" },
		{ -1234, 0, "-1234" },
		{ -66667, 4, "-6.6667" },
		/* zero, and zeros kept after the point */
		{ 0, 0, "0" },
		{ 0, 3, "0.000" },
		{ 1000, 3, "1.000" },
		{ 999, 3, "0.999" },
		{ 123, 2, "1.23" },
		{ 10, 1, "1.0" },
		{ -1, 1, "-0.1" },
		{ 6670010, 3, "6670.010" },
		/* many digits, and the ends of int64_t */
		{ 1, 9, "0.000000001" },
		{ 2394455123LL, 6, "2394.455123" },
		{ 5, 20, "0.00000000000000000005" },
		{ INT64_MIN, 0, "-9223372036854775808" },
		{ INT64_MIN, 9, "-9223372036.854775808" },
		{ INT64_MAX, 18, "9.223372036854775807" },
		{ INT64_MAX, 19, "0.9223372036854775807" },
	};
	char b[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = fmt_fixed(b, sizeof(b), cases[i].value, cases[i].digits);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%lld with %u digits: \"%s\", not \"%s\"", (long long)cases[i].value,
				 cases[i].digits, got, cases[i].want);
	}
}

static void test_fixed_truncation(void **state)
{
	char b[16];

	(void)state;
	/* returns buf, NUL-terminated and cut to n - 1 characters */
	memset(b, 'Z', sizeof(b));
	assert_ptr_equal(fmt_fixed(b, 4, -66667, 4), b);
	assert_string_equal(b, "-6.");
	assert_int_equal(b[4], 'Z');

	memset(b, 'Z', sizeof(b));
	fmt_fixed(b, 3, 5, 3);
	assert_string_equal(b, "0.");

	memset(b, 'Z', sizeof(b));
	fmt_fixed(b, 1, 5, 3);
	assert_string_equal(b, "");
	assert_int_equal(b[1], 'Z');

	/* n == 0: nothing written */
	memset(b, 'Z', sizeof(b));
	assert_ptr_equal(fmt_fixed(b, 0, 5, 3), b);
	assert_int_equal(b[0], 'Z');

	/* an absurd frac_digits fills the buffer with zeros and stops */
	fmt_fixed(b, sizeof(b), 5, 4000000000u);
	assert_string_equal(b, "0.0000000000000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_signed),
		cmocka_unit_test(test_unsigned),
		cmocka_unit_test(test_length_modifiers),
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_star),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_pointer),
		cmocka_unit_test(test_odd_specs),
		cmocka_unit_test(test_width_cap),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_kvsnprintf),
		cmocka_unit_test(test_vformat_sink),
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_fixed_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
