/*
 * Command-line parsing (docs/cmdline.md describes the syntax for users).
 *
 * The words go through the key table of kernel/config_keys.c: it says which keys there are,
 * what kind of value each takes (read by kernel/config_values.c, or kernel/config_task.c for
 * task=) and where the value goes.  What is left here is what no single key can decide: a key
 * given twice, and the checks between keys once every word is read.
 *
 * The kernel cannot ask the user to try again, so a bad command line ends the run.  That makes
 * the error message the whole user interface: each one names the word that failed, says what
 * is wrong with it and what would be accepted, on a single line that fits a `Bail out!` line.
 */
#include <stdarg.h>

#include "kernel/config_keys.h"
#include "lib/format.h"
#include "lib/string.h"

int config_fail(struct parser *ps, struct span word, const struct config_key *k,
		const char *fmt, ...)
{
	struct strbuf sb = { ps->err, ps->errlen, 0 };
	va_list ap;
	char *c;

	if (!ps->err || ps->errlen == 0)
		return -1;

	sb_printf(&sb, "%.*s: ", SPAN_ARGS(word));
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	if (k) {
		sb_printf(&sb, "; ");
		config_key_rule(&sb, k);
	}

	/*
	 * Words are quoted back, and a word may hold any byte the boot loader passed on.  Replace
	 * control characters (a newline above all) and non-ASCII bytes, so the message stays one
	 * printable line on any serial console.
	 */
	for (c = ps->err; *c; c++) {
		unsigned char u = (unsigned char)*c;

		if (u < 0x20 || u > 0x7e)
			*c = '?';
	}
	return -1;
}

/* "hz, duration, task, ...": the names of the keys that have all of flags. */
static const char *key_names(char *buf, size_t n, unsigned flags)
{
	struct strbuf sb = { buf, n, 0 };
	const char *sep = "";
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < KEY_COUNT; i++) {
		if ((config_keys[i].flags & flags) == flags) {
			sb_printf(&sb, "%s%s", sep, config_keys[i].name);
			sep = ", ";
		}
	}
	return buf;
}

static int parse_word(struct parser *ps, struct span word, bool first)
{
	struct span key = { word.s, 0 };
	struct span value;
	const struct config_key *k;
	char names[128];
	uint64_t v;
	unsigned id;

	while (key.len < word.len && word.s[key.len] != '=')
		key.len++;
	if (key.len == word.len) {
		/* GRUB and QEMU's -kernel put the image path first. */
		if (first)
			return 0;
		return config_fail(ps, word, NULL, "not key=value");
	}
	value.s = word.s + key.len + 1;
	value.len = word.len - key.len - 1;

	for (id = 0; id < KEY_COUNT && !span_is(key, config_keys[id].name); id++)
		;
	if (id == KEY_COUNT)
		return config_fail(ps, word, NULL, "unknown key '%.*s'; known keys: %s",
				   SPAN_ARGS(key), key_names(names, sizeof(names), 0));
	k = &config_keys[id];

	/* A key that sets one value, given again, is more likely a typo than intent. */
	if ((ps->given & (1u << id)) && !(k->flags & KEY_REPEATS))
		return config_fail(ps, word, NULL, "%s is already set; only %s may be given more than once",
				   k->name, key_names(names, sizeof(names), KEY_REPEATS));
	if (value.len == 0)
		return config_fail(ps, word, k, "empty value");

	if (k->kind == KIND_TASK) {
		if (config_read_task(ps, word, value))
			return -1;
	} else {
		if (config_read_value(ps, word, "", k, value, &v))
			return -1;
		config_store(ps->cfg, k, v);
		if ((k->flags & KEY_ACCOUNTING) && v != k->neutral && !ps->accounting_word.s)
			ps->accounting_word = word;
	}
	ps->given |= 1u << id;
	ps->words[id] = word;
	return 0;
}

/*
 * The tick sources that narrow hz='s range, and the rate each ticks at without hz=.  The local
 * APIC and HPET timers divide fast clocks and take anything in the range of the key itself.
 */
static const struct rate_rule {
	uint32_t min, max, def;
	bool pow2;
	const char *device, *why;
} rate_rules[] = {
	[TIMER_PIT] = {
		CONFIG_HZ_MIN, CONFIG_HZ_MAX, CONFIG_HZ_DEFAULT, false,
		"PIT", "the PIT cannot tick slower than 18.2 Hz",
	},
	/* RS selects 32768 >> (RS - 1) */
	[TIMER_RTC] = {
		CONFIG_RTC_HZ_MIN, CONFIG_RTC_HZ_MAX, CONFIG_RTC_HZ_DEFAULT, true,
		"RTC", "the RTC divides 32768 Hz by powers of two",
	},
};

/* hz and timer may come in either order, so this runs after all words are read. */
static int check_rate(struct parser *ps)
{
	struct config *cfg = ps->cfg;
	const struct rate_rule *r;

	if ((unsigned)cfg->timer >= sizeof(rate_rules) / sizeof(rate_rules[0]) ||
	    !rate_rules[cfg->timer].device)
		return 0;
	r = &rate_rules[cfg->timer];
	if (!(ps->given & (1u << KEY_HZ))) {
		cfg->hz = r->def;
		return 0;
	}
	if (cfg->hz >= r->min && cfg->hz <= r->max && !(r->pow2 && (cfg->hz & (cfg->hz - 1))))
		return 0;
	return config_fail(ps, ps->words[KEY_HZ], NULL, "not a rate of the %s; with timer=%s hz takes %s from %u to %u (%s)",
			   r->device, config_timer_name(cfg->timer),
			   r->pow2 ? "a power of two" : "an integer", (unsigned)r->min,
			   (unsigned)r->max, r->why);
}

/*
 * Some keys change how the accounting run keeps or reports time, and suite=devices has no
 * accounting run: asking for both is a mistake.  suite may come after them, so this runs after
 * all words are read; it quotes the first such word.
 */
static int check_suite(struct parser *ps)
{
	if (ps->cfg->suite != SUITE_DEVICES || !ps->accounting_word.s)
		return 0;
	return config_fail(ps, ps->accounting_word, NULL,
			   "suite=devices runs no workload; use suite=all or suite=accounting");
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int config_parse(struct config *cfg, const char *cmdline, char *err, size_t errlen)
{
	struct parser ps;
	const char *p = cmdline ? cmdline : "";
	bool first = true;

	kmemset(&ps, 0, sizeof(ps));
	ps.cfg = cfg;
	ps.err = err;
	ps.errlen = errlen;
	if (err && errlen)
		err[0] = '\0';

	config_defaults(cfg);

	for (;;) {
		struct span word;

		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		word.s = p;
		while (*p && !is_blank(*p))
			p++;
		word.len = (size_t)(p - word.s);

		if (parse_word(&ps, word, first))
			goto bad;
		first = false;
	}
	if (check_rate(&ps) || config_check_periods(&ps) || check_suite(&ps))
		goto bad;
	return 0;

bad:
	/* Never leave a half-parsed configuration behind for a caller that ignores the -1. */
	config_defaults(cfg);
	return -1;
}
