/*
 * Reading a value of each kind of key (kernel/config_keys.h).  A kind's reader only turns text
 * into a number or says what is wrong with the text; the word for 0, the range and the wording
 * of the error are the same for every kind, so every key is refused the same way:
 *
 *	WORD: 'TEXT' <what is wrong>; KEY takes <what is allowed> (<what it is for>)
 *
 * Nothing is guessed: a number too big is out of range rather than wrapped, a time needs its
 * unit, a decimal needs digits on both sides of its point.
 */
#include "kernel/config_keys.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Decimal digits only: no sign, no spaces, no 0x.  A number too big for 64 bits saturates to
 * UINT64_MAX, which no range reaches, so it is refused as out of range and never wraps.
 */
static bool parse_uint(struct span sp, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (sp.len == 0)
		return false;
	for (i = 0; i < sp.len; i++) {
		unsigned d;

		if (!is_digit(sp.s[i]))
			return false;
		d = (unsigned)(sp.s[i] - '0');
		v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
	}
	*out = v;
	return true;
}

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static bool read_uint(const struct config_key *k, struct span text, uint64_t *v,
		      struct strbuf *why)
{
	(void)k;
	if (parse_uint(text, v))
		return true;
	sb_printf(why, "is not a number");
	return false;
}

/* Digits followed at once by a unit; "10" alone is refused rather than guessed. */
static bool read_time(const struct config_key *k, struct span text, uint64_t *us,
		      struct strbuf *why)
{
	struct span digits = { text.s, 0 };
	struct span unit;
	uint64_t v;

	(void)k;
	while (digits.len < text.len && is_digit(text.s[digits.len]))
		digits.len++;
	unit.s = text.s + digits.len;
	unit.len = text.len - digits.len;

	if (!parse_uint(digits, &v))
		sb_printf(why, "is not a time");
	else if (unit.len == 0)
		sb_printf(why, "needs a unit");
	else if (span_is(unit, "us"))
		*us = v;
	else if (span_is(unit, "ms"))
		*us = mul_sat(v, 1000);
	else if (span_is(unit, "s"))
		*us = mul_sat(v, 1000000);
	else
		sb_printf(why, "has an unknown unit '%.*s' (use us, ms or s)", SPAN_ARGS(unit));
	return why->used == 0;
}

/*
 * A decimal such as 1, 1.25 or 0.8, scaled by 10^decimals: 1.25 with 6 decimals is 1250000.
 * Digits, then optionally a '.' and more digits; each part non-empty, so "1." and ".5" are
 * refused rather than guessed.  decimals must be small enough for 10^decimals to fit 64 bits.
 */
static bool read_decimal(const struct config_key *k, struct span text, uint64_t *out,
			 struct strbuf *why)
{
	struct span whole = { text.s, 0 };
	struct span frac = { text.s, 0 };
	bool dot = false;
	uint64_t w = 0, f = 0, scale = 1;
	size_t i;

	while (whole.len < text.len && is_digit(text.s[whole.len]))
		whole.len++;
	i = whole.len;
	if (i < text.len && text.s[i] == '.') {
		dot = true;
		frac.s = text.s + i + 1;
		while (i + 1 + frac.len < text.len && is_digit(frac.s[frac.len]))
			frac.len++;
		i += 1 + frac.len;
	}

	if (text.len && (text.s[0] == '+' || text.s[0] == '-'))
		sb_printf(why, "has a sign");
	else if (i < text.len && (text.s[i] == 'e' || text.s[i] == 'E') && (whole.len || frac.len))
		sb_printf(why, "has an exponent (write the number out)");
	else if (i < text.len || (whole.len == 0 && frac.len == 0))
		sb_printf(why, "is not a decimal number");
	else if (whole.len == 0)
		sb_printf(why, "has no digits before the '.' (write 0%.*s)", SPAN_ARGS(text));
	else if (dot && frac.len == 0)
		sb_printf(why, "has no digits after the '.' (write %.*s)", SPAN_ARGS(whole));
	else if (frac.len > k->decimals)
		sb_printf(why, "has more than %u decimals", k->decimals);
	if (why->used)
		return false;

	for (i = 0; i < k->decimals; i++)
		scale *= 10;
	/* both parts are digits by now, and frac no more than decimals of them */
	if (frac.len)
		parse_uint(frac, &f);
	for (i = frac.len; i < k->decimals; i++)
		f *= 10;
	parse_uint(whole, &w);
	w = mul_sat(w, scale);
	*out = w > UINT64_MAX - f ? UINT64_MAX : w + f;
	return true;
}

/* Only the words from min to max are values; the ones before name the key's absence. */
static bool read_word(const struct config_key *k, struct span text, uint64_t *v,
		      struct strbuf *why)
{
	uint64_t i;

	for (i = k->min; i <= k->max; i++) {
		if (span_is(text, k->words[i])) {
			*v = i;
			return true;
		}
	}
	sb_printf(why, "is unknown");
	return false;
}

typedef bool (*read_fn)(const struct config_key *k, struct span text, uint64_t *v,
			struct strbuf *why);

static const read_fn readers[] = {
	[KIND_UINT] = read_uint,
	[KIND_TIME] = read_time,
	[KIND_DECIMAL] = read_decimal,
	[KIND_WORD] = read_word,
};

int config_read_value(struct parser *ps, struct span word, const char *label,
		      const struct config_key *k, struct span text, uint64_t *out)
{
	char buf[64];
	struct strbuf why = { buf, sizeof(buf), 0 };
	uint64_t v = 0;

	buf[0] = '\0';
	if (k->off && span_is(text, k->off)) {
		*out = 0;
		return 0;
	}
	if ((unsigned)k->kind >= sizeof(readers) / sizeof(readers[0]) || !readers[k->kind])
		return config_fail(ps, word, NULL, "internal error: %s is not a plain value",
				   k->name);
	if (!readers[k->kind](k, text, &v, &why))
		return config_fail(ps, word, k, "%s'%.*s' %s", label, SPAN_ARGS(text), buf);
	if (v < k->min || v > k->max)
		return config_fail(ps, word, k, "%s'%.*s' is out of range", label, SPAN_ARGS(text));
	*out = v;
	return 0;
}
