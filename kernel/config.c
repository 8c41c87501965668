/*
 * Command-line parsing (docs/cmdline.md describes the syntax for users).
 *
 * The kernel cannot ask the user to try again, so a bad command line ends the run.  That makes
 * the error message the whole user interface: each one names the word that failed, says what
 * is wrong with it and what would be accepted, on a single line that fits a `Bail out!` line.
 */
#include <stdarg.h>
#include <stdbool.h>

#include "kernel/config.h"
#include "kernel/format.h"
#include "kernel/string.h"

#define TASK_USAGE "use NAME:spin[:WEIGHT] or NAME:duty:PCT:PERIOD[:WEIGHT]"
/* Takes CONFIG_NAME_MAX as its argument. */
#define NAME_RULE "NAME is 1 to %d characters from a-z, 0-9 and _"

/* A duty task's period must cover this many ticks, or its on/off pattern cannot be seen. */
#define MIN_PERIOD_TICKS 2

/* Most fields a task= value can have: NAME:duty:PCT:PERIOD:WEIGHT. */
#define TASK_FIELDS_MAX 5

/*
 * A piece of the command line.  Words are not NUL-terminated (the command line is read-only and
 * we have no allocator to copy them), so they travel as pointer and length and are printed
 * with "%.*s".
 */
struct span {
	const char *s;
	size_t len;
};

/* A word longer than this is cut short in messages; the message is truncated long before. */
#define SPAN_PRINT_MAX 1024
#define SPAN_ARGS(sp) ((sp).len < SPAN_PRINT_MAX ? (int)(sp).len : SPAN_PRINT_MAX), (sp).s

struct parser {
	struct config *cfg;
	char *err;
	size_t errlen;
	bool seen_hz;
	bool seen_timer;
	bool seen_irq;
	bool seen_suite;
	struct span hz_word;            /* for the per-timer range check at the end */
	bool seen_duration;
	bool seen_fault;
	bool seen_task;
	bool seen_lostticks;
	bool seen_sponge;
	bool seen_idle;
	bool seen_clock;
	bool seen_stats;
	bool seen_w;
	/* The first word that only the accounting run uses, for check_suite. */
	struct span accounting_word;
	/* The word that gave each task, so the final cross-check can quote it. */
	struct span task_words[CONFIG_MAX_TASKS];
};

static const char *const fault_names[] = {
	[FAULT_NONE] = "none",
	[FAULT_UD] = "ud",
	[FAULT_DE] = "de",
	[FAULT_PF] = "pf",
	[FAULT_GP] = "gp",
};

const char *config_fault_name(enum fault_kind f)
{
	if ((unsigned)f < sizeof(fault_names) / sizeof(fault_names[0]))
		return fault_names[f];
	return "?";
}

static bool span_is(struct span sp, const char *lit)
{
	return sp.len == kstrlen(lit) && kstrncmp(sp.s, lit, sp.len) == 0;
}

static void set_task(struct task_spec *t, const char *name, enum task_kind kind,
		     uint32_t weight, uint32_t duty_pct, uint64_t period_us)
{
	size_t i;

	kmemset(t, 0, sizeof(*t));
	for (i = 0; i < CONFIG_NAME_MAX && name[i]; i++)
		t->name[i] = name[i];
	t->kind = kind;
	t->weight = weight;
	t->duty_pct = duty_pct;
	t->period_us = period_us;
}

void config_defaults(struct config *cfg)
{
	kmemset(cfg, 0, sizeof(*cfg));
	cfg->hz = CONFIG_HZ_DEFAULT;
	cfg->timer = TIMER_PIT;
	cfg->irq = IRQ_ROUTE_DEFAULT;
	cfg->duration_us = CONFIG_DURATION_DEFAULT_US;
	cfg->fault = FAULT_NONE;
	cfg->lostticks = LOSTTICKS_IGNORE;
	cfg->sponge = SPONGE_OFF;
	cfg->idle = IDLE_HALT;
	cfg->clock = CLOCK_TSC;
	cfg->stats_us = CONFIG_STATS_DEFAULT_US;

	/*
	 * Without task= words there is still something to measure: two spinners whose 2:1
	 * weights should show up as a 2:1 split of their time.  No duty task by default: one that
	 * wakes on a tick and sleeps before the next is charged by sampling only for the ticks it
	 * happens to straddle, and the report rightly calls that out (docs/cmdline.md).
	 */
	set_task(&cfg->tasks[0], "a", TASK_SPIN, 2, 0, 0);
	set_task(&cfg->tasks[1], "b", TASK_SPIN, 1, 0, 0);
	cfg->ntasks = 2;
}

/*
 * Record an error: "WORD: " followed by the formatted rest.  The buffer may be too small for
 * either part; ksnprintf truncates safely, and we only append after what actually fit.
 */
static int fail(struct parser *ps, struct span word, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *ps, struct span word, const char *fmt, ...)
{
	va_list ap;
	size_t used;
	char *c;

	if (!ps->err || ps->errlen == 0)
		return -1;

	used = (size_t)ksnprintf(ps->err, ps->errlen, "%.*s: ", SPAN_ARGS(word));
	if (used >= ps->errlen)
		used = ps->errlen - 1;
	va_start(ap, fmt);
	kvsnprintf(ps->err + used, ps->errlen - used, fmt, ap);
	va_end(ap);

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

/* Write a time in the largest unit that shows it exactly: 100000 us is "100ms". */
static const char *time_str(char *buf, size_t n, uint64_t us)
{
	if (us != 0 && us % 1000000 == 0)
		ksnprintf(buf, n, "%llus", (unsigned long long)(us / 1000000));
	else if (us != 0 && us % 1000 == 0)
		ksnprintf(buf, n, "%llums", (unsigned long long)(us / 1000));
	else
		ksnprintf(buf, n, "%lluus", (unsigned long long)us);
	return buf;
}

enum num_status {
	NUM_OK,
	NUM_BAD,        /* empty, or not only decimal digits */
	NUM_OVERFLOW,   /* more than 64 bits */
};

/* Decimal digits only: no sign, no spaces, no 0x.  Too big is reported, not wrapped. */
static enum num_status parse_uint(struct span sp, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (sp.len == 0)
		return NUM_BAD;
	for (i = 0; i < sp.len; i++) {
		unsigned d;

		if (sp.s[i] < '0' || sp.s[i] > '9')
			return NUM_BAD;
		d = (unsigned)(sp.s[i] - '0');
		if (v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			return NUM_OVERFLOW;
		v = v * 10 + d;
	}
	*out = v;
	return NUM_OK;
}

enum decimal_status {
	DEC_OK,
	DEC_BAD,                /* not digits with at most one '.' */
	DEC_SIGN,               /* starts with + or - */
	DEC_EXPONENT,           /* 1e3, 2.5E-1 */
	DEC_NO_WHOLE,           /* .5 */
	DEC_NO_FRACTION,        /* 1. */
	DEC_TOO_PRECISE,        /* more decimals than allowed */
	DEC_OVERFLOW,           /* more than 64 bits once scaled */
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * A decimal such as 1, 1.25 or 0.8, scaled by 10^decimals: 1.25 with 6 decimals is 1250000.
 * Digits, then optionally a '.' and more digits; each part non-empty, so "1." and ".5" are
 * refused rather than guessed.  decimals must be small enough for 10^decimals to fit 64 bits.
 */
static enum decimal_status parse_decimal(struct span sp, unsigned decimals, uint64_t *out)
{
	struct span whole = { sp.s, 0 };
	struct span frac = { sp.s, 0 };
	bool dot = false;
	uint64_t w, f = 0, scale = 1;
	size_t i;

	if (sp.len && (sp.s[0] == '+' || sp.s[0] == '-'))
		return DEC_SIGN;
	while (whole.len < sp.len && is_digit(sp.s[whole.len]))
		whole.len++;
	i = whole.len;
	if (i < sp.len && sp.s[i] == '.') {
		dot = true;
		frac.s = sp.s + i + 1;
		while (i + 1 + frac.len < sp.len && is_digit(frac.s[frac.len]))
			frac.len++;
		i += 1 + frac.len;
	}
	if (i < sp.len)
		return (sp.s[i] == 'e' || sp.s[i] == 'E') && (whole.len || frac.len) ?
		       DEC_EXPONENT : DEC_BAD;
	if (whole.len == 0)
		return dot && frac.len ? DEC_NO_WHOLE : DEC_BAD;
	if (dot && frac.len == 0)
		return DEC_NO_FRACTION;
	if (frac.len > decimals)
		return DEC_TOO_PRECISE;

	for (i = 0; i < decimals; i++)
		scale *= 10;
	if (frac.len && parse_uint(frac, &f) != NUM_OK)
		return DEC_BAD;
	for (i = frac.len; i < decimals; i++)
		f *= 10;
	if (parse_uint(whole, &w) != NUM_OK || w > (UINT64_MAX - f) / scale)
		return DEC_OVERFLOW;
	*out = w * scale + f;
	return DEC_OK;
}

/* Write a value scaled by 10^decimals with no more decimals than it needs: 10000 is "0.01". */
static const char *decimal_str(char *buf, size_t n, uint64_t v, unsigned decimals)
{
	uint64_t scale = 1;
	int shown = (int)decimals;
	uint64_t frac;
	unsigned i;

	for (i = 0; i < decimals; i++)
		scale *= 10;
	frac = v % scale;
	if (frac == 0) {
		ksnprintf(buf, n, "%llu", (unsigned long long)(v / scale));
		return buf;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		shown--;
	}
	ksnprintf(buf, n, "%llu.%0*llu", (unsigned long long)(v / scale), shown,
		  (unsigned long long)frac);
	return buf;
}

enum time_status {
	TIME_OK,
	TIME_BAD,       /* does not start with a digit */
	TIME_NO_UNIT,
	TIME_BAD_UNIT,
	TIME_OVERFLOW,
};

/* A time is digits followed at once by a unit.  "10" alone is refused rather than guessed. */
static enum time_status parse_time(struct span sp, uint64_t *us)
{
	struct span digits = { sp.s, 0 };
	struct span unit;
	uint64_t v, scale;

	while (digits.len < sp.len && sp.s[digits.len] >= '0' && sp.s[digits.len] <= '9')
		digits.len++;
	unit.s = sp.s + digits.len;
	unit.len = sp.len - digits.len;

	if (digits.len == 0)
		return TIME_BAD;
	if (parse_uint(digits, &v) != NUM_OK)
		return TIME_OVERFLOW;
	if (unit.len == 0)
		return TIME_NO_UNIT;

	if (span_is(unit, "us"))
		scale = 1;
	else if (span_is(unit, "ms"))
		scale = 1000;
	else if (span_is(unit, "s"))
		scale = 1000000;
	else
		return TIME_BAD_UNIT;

	if (v > UINT64_MAX / scale)
		return TIME_OVERFLOW;
	*us = v * scale;
	return TIME_OK;
}

/*
 * Parse an integer field of a task= word.  label names the field in the message ("weight")
 * and rule says what is allowed ("WEIGHT is an integer from 1 to 100 ...").
 */
static int check_uint(struct parser *ps, struct span word, const char *label, struct span text,
		      uint64_t min, uint64_t max, const char *rule, uint32_t *out)
{
	uint64_t v;
	enum num_status st = parse_uint(text, &v);

	if (st == NUM_BAD)
		return fail(ps, word, "%s '%.*s' is not a number; %s", label, SPAN_ARGS(text), rule);
	if (st == NUM_OVERFLOW || v < min || v > max)
		return fail(ps, word, "%s '%.*s' is out of range; %s", label, SPAN_ARGS(text), rule);
	*out = (uint32_t)v;
	return 0;
}

/* Like check_uint for a time; label may be "" when the value is the whole of key=value. */
static int check_time(struct parser *ps, struct span word, const char *label, struct span text,
		      uint64_t min, uint64_t max, const char *rule, uint64_t *out)
{
	uint64_t us;
	struct span unit = text;

	switch (parse_time(text, &us)) {
	case TIME_OK:
		if (us >= min && us <= max) {
			*out = us;
			return 0;
		}
		/* fall through */
	case TIME_OVERFLOW:
		return fail(ps, word, "%s'%.*s' is out of range; %s", label, SPAN_ARGS(text), rule);
	case TIME_NO_UNIT:
		return fail(ps, word, "%s'%.*s' needs a unit; %s", label, SPAN_ARGS(text), rule);
	case TIME_BAD_UNIT:
		while (unit.len && *unit.s >= '0' && *unit.s <= '9') {
			unit.s++;
			unit.len--;
		}
		return fail(ps, word, "%s'%.*s' has an unknown unit '%.*s' (use us, ms or s); %s",
			    label, SPAN_ARGS(text), SPAN_ARGS(unit), rule);
	case TIME_BAD:
	default:
		return fail(ps, word, "%s'%.*s' is not a time; %s", label, SPAN_ARGS(text), rule);
	}
}

/* Every key but task sets one value; a second one is more likely a typo than intent. */
static int once(struct parser *ps, struct span word, const char *key, bool *seen)
{
	if (*seen)
		return fail(ps, word, "%s is already set; only task may be given more than once",
			    key);
	*seen = true;
	return 0;
}

static int parse_hz(struct parser *ps, struct span word, struct span value)
{
	uint64_t v;
	enum num_status st;

	if (once(ps, word, "hz", &ps->seen_hz))
		return -1;
	ps->hz_word = word;

	/* Only the absolute range here: timer= may come later and narrows it (check_rate). */
	st = parse_uint(value, &v);
	if (st == NUM_BAD)
		return fail(ps, word, "not a number; hz takes an integer from %d to %d (ticks per second; timer= narrows it)",
			    CONFIG_HZ_ABS_MIN, CONFIG_HZ_MAX);
	if (st == NUM_OVERFLOW || v < CONFIG_HZ_ABS_MIN || v > CONFIG_HZ_MAX)
		return fail(ps, word, "out of range; hz takes an integer from %d to %d (ticks per second; timer= narrows it)",
			    CONFIG_HZ_ABS_MIN, CONFIG_HZ_MAX);
	ps->cfg->hz = (uint32_t)v;
	return 0;
}

static const char *const timer_names[] = {
	[TIMER_PIT] = "pit", [TIMER_RTC] = "rtc", [TIMER_LAPIC] = "lapic", [TIMER_HPET] = "hpet",
};

static const char *const irq_names[] = {
	[IRQ_ROUTE_DEFAULT] = "default", [IRQ_ROUTE_PIC] = "pic", [IRQ_ROUTE_IOAPIC] = "ioapic",
};

const char *config_timer_name(enum timer_kind t)
{
	return (unsigned)t < sizeof(timer_names) / sizeof(timer_names[0]) ? timer_names[t] : "?";
}

const char *config_irq_name(enum irq_route r)
{
	return (unsigned)r < sizeof(irq_names) / sizeof(irq_names[0]) ? irq_names[r] : "?";
}

static int parse_timer(struct parser *ps, struct span word, struct span value)
{
	if (once(ps, word, "timer", &ps->seen_timer))
		return -1;
	for (unsigned t = 0; t < sizeof(timer_names) / sizeof(timer_names[0]); t++) {
		if (span_is(value, timer_names[t])) {
			ps->cfg->timer = (enum timer_kind)t;
			return 0;
		}
	}
	return fail(ps, word, "unknown timer '%.*s'; timer takes one of pit, rtc, lapic, hpet",
		    SPAN_ARGS(value));
}

static const char *const suite_names[] = {
	[SUITE_ALL] = "all", [SUITE_DEVICES] = "devices", [SUITE_ACCOUNTING] = "accounting",
};

const char *config_suite_name(enum suite_kind k)
{
	return (unsigned)k < sizeof(suite_names) / sizeof(suite_names[0]) ? suite_names[k] : "?";
}

static int parse_suite(struct parser *ps, struct span word, struct span value)
{
	if (once(ps, word, "suite", &ps->seen_suite))
		return -1;
	for (unsigned k = 0; k < sizeof(suite_names) / sizeof(suite_names[0]); k++) {
		if (span_is(value, suite_names[k])) {
			ps->cfg->suite = (enum suite_kind)k;
			return 0;
		}
	}
	return fail(ps, word, "unknown suite '%.*s'; suite takes all, devices or accounting",
		    SPAN_ARGS(value));
}

static int parse_irq(struct parser *ps, struct span word, struct span value)
{
	if (once(ps, word, "irq", &ps->seen_irq))
		return -1;
	/* "default" is the absence of irq=, so it is not accepted as a value. */
	for (unsigned r = IRQ_ROUTE_DEFAULT + 1; r < sizeof(irq_names) / sizeof(irq_names[0]); r++) {
		if (span_is(value, irq_names[r])) {
			ps->cfg->irq = (enum irq_route)r;
			return 0;
		}
	}
	return fail(ps, word, "unknown interrupt routing '%.*s'; irq takes pic or ioapic",
		    SPAN_ARGS(value));
}

/*
 * Which rates the chosen tick source can produce; depends on hz and timer given in any order,
 * so it runs after all words are read.  The local APIC and HPET timers divide fast clocks and
 * manage anything in the absolute range.
 */
static int check_rate(struct parser *ps)
{
	struct config *cfg = ps->cfg;

	switch (cfg->timer) {
	case TIMER_PIT:
		if (cfg->hz < CONFIG_HZ_MIN)
			return fail(ps, ps->hz_word, "out of range; hz takes an integer from %d to %d (the PIT cannot tick slower than 18.2 Hz)",
				    CONFIG_HZ_MIN, CONFIG_HZ_MAX);
		break;
	case TIMER_RTC:
		if (!ps->seen_hz) {
			cfg->hz = CONFIG_RTC_HZ_DEFAULT;
			break;
		}
		/* RS selects 32768 >> (RS - 1): powers of two only */
		if (cfg->hz < CONFIG_RTC_HZ_MIN || cfg->hz > CONFIG_RTC_HZ_MAX ||
		    (cfg->hz & (cfg->hz - 1)))
			return fail(ps, ps->hz_word, "not a rate of the RTC; with timer=rtc hz takes a power of two from %d to %d",
				    CONFIG_RTC_HZ_MIN, CONFIG_RTC_HZ_MAX);
		break;
	case TIMER_LAPIC:
	case TIMER_HPET:
		break;
	}
	return 0;
}

static int parse_duration(struct parser *ps, struct span word, struct span value)
{
	char lo[24], hi[24], rule[96];

	if (once(ps, word, "duration", &ps->seen_duration))
		return -1;

	ksnprintf(rule, sizeof(rule), "duration takes a time from %s to %s, such as 500ms or 10s",
		  time_str(lo, sizeof(lo), CONFIG_DURATION_MIN_US),
		  time_str(hi, sizeof(hi), CONFIG_DURATION_MAX_US));
	return check_time(ps, word, "", value, CONFIG_DURATION_MIN_US, CONFIG_DURATION_MAX_US, rule,
			  &ps->cfg->duration_us);
}

static int parse_fault(struct parser *ps, struct span word, struct span value)
{
	unsigned f;

	if (once(ps, word, "fault", &ps->seen_fault))
		return -1;

	/* FAULT_NONE is the absence of fault=, so it is not accepted as a value. */
	for (f = FAULT_NONE + 1; f < sizeof(fault_names) / sizeof(fault_names[0]); f++) {
		if (span_is(value, fault_names[f])) {
			ps->cfg->fault = (enum fault_kind)f;
			return 0;
		}
	}
	return fail(ps, word, "unknown fault '%.*s'; fault takes one of ud, de, pf, gp",
		    SPAN_ARGS(value));
}

/* The index of value in names[], or -1 when it is none of them. */
static int name_index(struct span value, const char *const names[], unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (span_is(value, names[i]))
			return (int)i;
	}
	return -1;
}

static const char *const lostticks_names[] = {
	[LOSTTICKS_IGNORE] = "ignore", [LOSTTICKS_COMPENSATE] = "compensate",
};

static const char *const sponge_names[] = {
	[SPONGE_OFF] = "off", [SPONGE_RUN] = "run", [SPONGE_CHARGE] = "charge",
};

static const char *const idle_names[] = {
	[IDLE_HALT] = "halt", [IDLE_POLL] = "poll",
};

static const char *const clock_names[] = {
	[CLOCK_TSC] = "tsc", [CLOCK_PMTIMER] = "pmtimer", [CLOCK_HPET] = "hpet",
};

const char *config_lostticks_name(enum lostticks_mode m)
{
	return (unsigned)m < sizeof(lostticks_names) / sizeof(lostticks_names[0]) ?
	       lostticks_names[m] : "?";
}

const char *config_sponge_name(enum sponge_mode m)
{
	return (unsigned)m < sizeof(sponge_names) / sizeof(sponge_names[0]) ? sponge_names[m] : "?";
}

const char *config_idle_name(enum idle_mode m)
{
	return (unsigned)m < sizeof(idle_names) / sizeof(idle_names[0]) ? idle_names[m] : "?";
}

const char *config_clock_name(enum clock_kind c)
{
	return (unsigned)c < sizeof(clock_names) / sizeof(clock_names[0]) ? clock_names[c] : "?";
}

static void note_accounting_word(struct parser *ps, struct span word)
{
	if (!ps->accounting_word.s)
		ps->accounting_word = word;
}

/*
 * The keys that pick one word from a list: lostticks=, sponge=, idle=, clock=.  Each names its
 * words, says what a word is for the error message, and which word asks nothing of the
 * accounting run (any other is an error with suite=devices).
 */
struct choice_key {
	const char *key;
	const char *what;               /* "unknown <what> 'x'" */
	const char *const *names;
	unsigned nnames;
	const char *allowed;            /* "<key> takes <allowed>" */
	int neutral;                    /* the word that asks nothing of the run; -1: none */
};

#define CHOICES(names) names, sizeof(names) / sizeof(names[0])

static const struct choice_key lostticks_key = {
	"lostticks", "lostticks mode", CHOICES(lostticks_names), "ignore or compensate",
	LOSTTICKS_IGNORE,
};
static const struct choice_key sponge_key = {
	"sponge", "sponge mode", CHOICES(sponge_names), "off, run or charge", SPONGE_OFF,
};
static const struct choice_key idle_key = {
	"idle", "idle mode", CHOICES(idle_names), "halt or poll", -1,
};
static const struct choice_key clock_key = {
	"clock", "reference clock", CHOICES(clock_names), "tsc, pmtimer or hpet", -1,
};

/* Parse value as one of k's words; returns its index, or -1.  seen is the key's once() flag. */
static int parse_choice(struct parser *ps, struct span word, struct span value,
			const struct choice_key *k, bool *seen)
{
	int m;

	if (once(ps, word, k->key, seen))
		return -1;
	m = name_index(value, k->names, k->nnames);
	if (m < 0)
		return fail(ps, word, "unknown %s '%.*s'; %s takes %s", k->what, SPAN_ARGS(value),
			    k->key, k->allowed);
	if (k->neutral >= 0 && m != k->neutral)
		note_accounting_word(ps, word);
	return m;
}

/* The enum fields, through an int: parse_choice() checked the range. */
static int parse_enum_choice(struct parser *ps, struct span word, struct span value,
			     const struct choice_key *k, bool *seen, void *field)
{
	int m = parse_choice(ps, word, value, k, seen);

	if (m < 0)
		return -1;
	if (k == &lostticks_key)
		*(enum lostticks_mode *)field = (enum lostticks_mode)m;
	else if (k == &sponge_key)
		*(enum sponge_mode *)field = (enum sponge_mode)m;
	else if (k == &idle_key)
		*(enum idle_mode *)field = (enum idle_mode)m;
	else
		*(enum clock_kind *)field = (enum clock_kind)m;
	return 0;
}

static int parse_stats(struct parser *ps, struct span word, struct span value)
{
	char lo[24], hi[24], rule[96];

	if (once(ps, word, "stats", &ps->seen_stats))
		return -1;
	/* A word of its own rather than 0s, which would read as "a line all the time". */
	if (span_is(value, "off")) {
		ps->cfg->stats_us = 0;
		return 0;
	}
	note_accounting_word(ps, word);
	ksnprintf(rule, sizeof(rule), "stats takes a time from %s to %s, such as 500ms or 2s, or off",
		  time_str(lo, sizeof(lo), CONFIG_STATS_MIN_US),
		  time_str(hi, sizeof(hi), CONFIG_STATS_MAX_US));
	return check_time(ps, word, "", value, CONFIG_STATS_MIN_US, CONFIG_STATS_MAX_US, rule,
			  &ps->cfg->stats_us);
}

/*
 * The correction factor w: host CPU use over the busy share the guest reports.  A value near 1
 * is the common case, so it is written as a decimal and kept in millionths.
 */
static int parse_w(struct parser *ps, struct span word, struct span value)
{
	char lo[24], hi[24], rule[96];
	struct span before_dot = { value.s, value.len ? value.len - 1 : 0 };     /* for "1." */
	uint64_t ppm;

	if (once(ps, word, "w", &ps->seen_w))
		return -1;

	ksnprintf(rule, sizeof(rule), "w takes a decimal from %s to %s with at most %d decimals, such as 1.25",
		  decimal_str(lo, sizeof(lo), CONFIG_W_MIN_PPM, CONFIG_W_DECIMALS),
		  decimal_str(hi, sizeof(hi), CONFIG_W_MAX_PPM, CONFIG_W_DECIMALS),
		  CONFIG_W_DECIMALS);
	if (value.len == 0)
		return fail(ps, word, "empty value; %s", rule);

	switch (parse_decimal(value, CONFIG_W_DECIMALS, &ppm)) {
	case DEC_OK:
		if (ppm >= CONFIG_W_MIN_PPM && ppm <= CONFIG_W_MAX_PPM) {
			ps->cfg->w_ppm = (uint32_t)ppm;
			return 0;
		}
		/* fall through */
	case DEC_OVERFLOW:
		return fail(ps, word, "'%.*s' is out of range; %s", SPAN_ARGS(value), rule);
	case DEC_SIGN:
		return fail(ps, word, "'%.*s' has a sign; %s", SPAN_ARGS(value), rule);
	case DEC_EXPONENT:
		return fail(ps, word, "'%.*s' has an exponent (write the number out); %s",
			    SPAN_ARGS(value), rule);
	case DEC_NO_WHOLE:
		return fail(ps, word, "'%.*s' has no digits before the '.' (write 0%.*s); %s",
			    SPAN_ARGS(value), SPAN_ARGS(value), rule);
	case DEC_NO_FRACTION:
		return fail(ps, word, "'%.*s' has no digits after the '.' (write %.*s); %s",
			    SPAN_ARGS(value), SPAN_ARGS(before_dot), rule);
	case DEC_TOO_PRECISE:
		return fail(ps, word, "'%.*s' has more than %d decimals; %s", SPAN_ARGS(value),
			    CONFIG_W_DECIMALS, rule);
	case DEC_BAD:
	default:
		return fail(ps, word, "'%.*s' is not a decimal number; %s", SPAN_ARGS(value), rule);
	}
}

static int check_name(struct parser *ps, struct span word, struct span name)
{
	size_t i;

	if (name.len == 0)
		return fail(ps, word, "empty task name; " NAME_RULE, CONFIG_NAME_MAX);
	if (name.len > CONFIG_NAME_MAX)
		return fail(ps, word, "task name '%.*s' is too long; " NAME_RULE, SPAN_ARGS(name),
			    CONFIG_NAME_MAX);
	for (i = 0; i < name.len; i++) {
		char c = name.s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return fail(ps, word, "task name '%.*s' contains '%c'; " NAME_RULE,
				    SPAN_ARGS(name), c, CONFIG_NAME_MAX);
	}
	if (span_is(name, "idle"))
		return fail(ps, word, "task name 'idle' is reserved for the idle task; choose another NAME");
	return 0;
}

/* Split at ':' into up to max fields; returns how many fields there are, even beyond max. */
static size_t split_fields(struct span sp, struct span *f, size_t max)
{
	size_t n = 0;
	size_t start = 0;
	size_t i;

	for (i = 0; i <= sp.len; i++) {
		if (i == sp.len || sp.s[i] == ':') {
			if (n < max) {
				f[n].s = sp.s + start;
				f[n].len = i - start;
			}
			n++;
			start = i + 1;
		}
	}
	return n;
}

static int parse_task(struct parser *ps, struct span word, struct span value)
{
	struct config *cfg = ps->cfg;
	struct span f[TASK_FIELDS_MAX];
	struct task_spec t;
	size_t nf, weight_field = 0;
	unsigned i;
	char lo[24], hi[24], rule[80];

	kmemset(&t, 0, sizeof(t));
	t.weight = 1;

	if (value.len == 0)
		return fail(ps, word, "empty value; " TASK_USAGE);
	nf = split_fields(value, f, TASK_FIELDS_MAX);
	if (check_name(ps, word, f[0]))
		return -1;
	kmemcpy(t.name, f[0].s, f[0].len);

	if (nf < 2)
		return fail(ps, word, "missing task kind; " TASK_USAGE);

	if (span_is(f[1], "spin")) {
		t.kind = TASK_SPIN;
		if (nf > 3)
			return fail(ps, word, "too many fields for a spin task; use NAME:spin[:WEIGHT]");
		if (nf == 3)
			weight_field = 2;
	} else if (span_is(f[1], "duty")) {
		t.kind = TASK_DUTY;
		if (nf < 4)
			return fail(ps, word, "a duty task needs both PCT and PERIOD; use NAME:duty:PCT:PERIOD[:WEIGHT]");
		if (nf > TASK_FIELDS_MAX)
			return fail(ps, word, "too many fields for a duty task; use NAME:duty:PCT:PERIOD[:WEIGHT]");
		ksnprintf(rule, sizeof(rule),
			  "PCT is an integer from %d to %d (percent of each period spent spinning)",
			  CONFIG_DUTY_MIN, CONFIG_DUTY_MAX);
		if (check_uint(ps, word, "duty percentage", f[2], CONFIG_DUTY_MIN, CONFIG_DUTY_MAX,
			       rule, &t.duty_pct))
			return -1;
		ksnprintf(rule, sizeof(rule), "PERIOD is a time from %s to %s, such as 50ms",
			  time_str(lo, sizeof(lo), CONFIG_PERIOD_MIN_US),
			  time_str(hi, sizeof(hi), CONFIG_PERIOD_MAX_US));
		if (check_time(ps, word, "period ", f[3], CONFIG_PERIOD_MIN_US, CONFIG_PERIOD_MAX_US,
			       rule, &t.period_us))
			return -1;
		if (nf == 5)
			weight_field = 4;
	} else {
		return fail(ps, word, "unknown task kind '%.*s'; " TASK_USAGE, SPAN_ARGS(f[1]));
	}

	if (weight_field) {
		ksnprintf(rule, sizeof(rule), "WEIGHT is an integer from %d to %d (ticks per turn)",
			  CONFIG_WEIGHT_MIN, CONFIG_WEIGHT_MAX);
		if (check_uint(ps, word, "weight", f[weight_field], CONFIG_WEIGHT_MIN,
			       CONFIG_WEIGHT_MAX, rule, &t.weight))
			return -1;
	}

	/* The first task= replaces the default workload instead of adding to it. */
	if (!ps->seen_task) {
		ps->seen_task = true;
		cfg->ntasks = 0;
	}
	for (i = 0; i < cfg->ntasks; i++) {
		if (kstrcmp(cfg->tasks[i].name, t.name) == 0)
			return fail(ps, word, "task '%s' is already defined; task names must be unique",
				    t.name);
	}
	if (cfg->ntasks == CONFIG_MAX_TASKS)
		return fail(ps, word, "too many tasks; at most %d task= words are allowed",
			    CONFIG_MAX_TASKS);

	ps->task_words[cfg->ntasks] = word;
	cfg->tasks[cfg->ntasks++] = t;
	return 0;
}

static int parse_word(struct parser *ps, struct span word, bool first)
{
	struct span key = { word.s, 0 };
	struct span value;

	while (key.len < word.len && word.s[key.len] != '=')
		key.len++;
	if (key.len == word.len) {
		/* GRUB and QEMU's -kernel put the image path first. */
		if (first)
			return 0;
		return fail(ps, word, "not key=value");
	}
	value.s = word.s + key.len + 1;
	value.len = word.len - key.len - 1;

	if (span_is(key, "hz"))
		return parse_hz(ps, word, value);
	if (span_is(key, "duration"))
		return parse_duration(ps, word, value);
	if (span_is(key, "task"))
		return parse_task(ps, word, value);
	if (span_is(key, "fault"))
		return parse_fault(ps, word, value);
	if (span_is(key, "timer"))
		return parse_timer(ps, word, value);
	if (span_is(key, "irq"))
		return parse_irq(ps, word, value);
	if (span_is(key, "suite"))
		return parse_suite(ps, word, value);
	if (span_is(key, "lostticks"))
		return parse_enum_choice(ps, word, value, &lostticks_key, &ps->seen_lostticks,
					 &ps->cfg->lostticks);
	if (span_is(key, "sponge"))
		return parse_enum_choice(ps, word, value, &sponge_key, &ps->seen_sponge,
					 &ps->cfg->sponge);
	if (span_is(key, "idle"))
		return parse_enum_choice(ps, word, value, &idle_key, &ps->seen_idle,
					 &ps->cfg->idle);
	if (span_is(key, "clock"))
		return parse_enum_choice(ps, word, value, &clock_key, &ps->seen_clock,
					 &ps->cfg->clock);
	if (span_is(key, "stats"))
		return parse_stats(ps, word, value);
	if (span_is(key, "w"))
		return parse_w(ps, word, value);
	return fail(ps, word, "unknown key '%.*s'; known keys: hz, duration, task, fault, timer, irq, suite, lostticks, sponge, idle, clock, stats, w",
		    SPAN_ARGS(key));
}

/*
 * A duty task switches between spinning and sleeping within each period, and the scheduler
 * only sees that at ticks; a period shorter than two ticks would be sampled as noise.  This
 * depends on two keys (hz and task) given in any order, so it runs after all words are read.
 */
static int check_periods(struct parser *ps)
{
	struct config *cfg = ps->cfg;
	unsigned i;

	for (i = 0; i < cfg->ntasks; i++) {
		const struct task_spec *t = &cfg->tasks[i];
		uint64_t min_us;
		char period[24], min[24];

		if (t->kind != TASK_DUTY ||
		    t->period_us * cfg->hz >= MIN_PERIOD_TICKS * 1000000ULL)
			continue;

		/* The smallest period, rounded up to a whole microsecond, that passes the test. */
		min_us = (MIN_PERIOD_TICKS * 1000000ULL + cfg->hz - 1) / cfg->hz;
		time_str(period, sizeof(period), t->period_us);
		time_str(min, sizeof(min), min_us);
		/* The default workload has no duty task, so t came from a task= word. */
		return fail(ps, ps->task_words[i], "period %s is shorter than %d ticks at hz=%u; PERIOD must be at least %s at this hz",
			    period, MIN_PERIOD_TICKS, (unsigned)cfg->hz, min);
	}
	return 0;
}

/*
 * sponge=run|charge, lostticks=compensate and stats=TIME change how the accounting run keeps or
 * reports time, and suite=devices has no accounting run: asking for both is a mistake.  suite
 * may come after them, so this runs after all words are read; it quotes the first such word.
 */
static int check_suite(struct parser *ps)
{
	if (ps->cfg->suite != SUITE_DEVICES || !ps->accounting_word.s)
		return 0;
	return fail(ps, ps->accounting_word,
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
	if (check_rate(&ps) || check_periods(&ps) || check_suite(&ps))
		goto bad;
	return 0;

bad:
	/* Never leave a half-parsed configuration behind for a caller that ignores the -1. */
	config_defaults(cfg);
	return -1;
}
