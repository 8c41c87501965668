/*
 * The key table: every key of the command line with its kind, range or words, default and help.
 * Parsing, the checks for keys given twice, the error messages, the defaults and the host test
 * of docs/cmdline.md all read it, so a key is added or changed here and nowhere else.
 */
#include <stdarg.h>

#include "kernel/config_keys.h"
#include "lib/format.h"
#include "lib/string.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* config_store() writes enums as 32-bit values. */
_Static_assert(sizeof(enum fault_kind) == 4 && sizeof(enum timer_kind) == 4 &&
	       sizeof(enum irq_route) == 4 && sizeof(enum suite_kind) == 4 &&
	       sizeof(enum lostticks_mode) == 4 && sizeof(enum sponge_mode) == 4 &&
	       sizeof(enum idle_mode) == 4 && sizeof(enum clock_kind) == 4,
	       "an enum of struct config is not 32 bits wide");

static const char *const fault_names[] = {
	[FAULT_NONE] = "none", [FAULT_UD] = "ud", [FAULT_DE] = "de", [FAULT_PF] = "pf",
	[FAULT_GP] = "gp", [FAULT_STACK] = "stack", [FAULT_TRIPLE] = "triple",
	[FAULT_TICK] = "tick",
};

static const char *const timer_names[] = {
	[TIMER_PIT] = "pit", [TIMER_RTC] = "rtc", [TIMER_LAPIC] = "lapic", [TIMER_HPET] = "hpet",
};

static const char *const irq_names[] = {
	[IRQ_ROUTE_DEFAULT] = "default", [IRQ_ROUTE_PIC] = "pic", [IRQ_ROUTE_IOAPIC] = "ioapic",
};

static const char *const suite_names[] = {
	[SUITE_ALL] = "all", [SUITE_DEVICES] = "devices", [SUITE_ACCOUNTING] = "accounting",
};

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

#define FIELD(f) .offset = offsetof(struct config, f), .size = sizeof(((struct config *)0)->f)
#define WORDS(names) .words = names, .max = ARRAY_SIZE(names) - 1
/* A key that picks one word: the key, its field of struct config and its words by one name. */
#define WORD_KEY(name, flags, ...) \
	{ #name, KIND_WORD, flags, FIELD(name), WORDS(name##_names), __VA_ARGS__ }

const struct config_key config_keys[KEY_COUNT] = {
	[KEY_HZ] = {
		"hz", KIND_UINT, 0, FIELD(hz), .min = CONFIG_HZ_ABS_MIN, .max = CONFIG_HZ_MAX,
		.def = CONFIG_HZ_DEFAULT, .help = "ticks per second; timer= narrows it",
	},
	[KEY_DURATION] = {
		"duration", KIND_TIME, 0, FIELD(duration_us), .min = CONFIG_DURATION_MIN_US,
		.max = CONFIG_DURATION_MAX_US, .def = CONFIG_DURATION_DEFAULT_US,
		.help = "how long the tasks run",
	},
	[KEY_TASK] = {
		"task", KIND_TASK, KEY_REPEATS, .max = CONFIG_MAX_TASKS,
		.help = "one task of the workload",
	},
	/* "none" and "default" are what the key's absence is called, not values to give. */
	[KEY_FAULT] = WORD_KEY(fault, 0, .min = FAULT_UD, .def = FAULT_NONE,
			       .help = "the fault to provoke"),
	[KEY_TIMER] = WORD_KEY(timer, 0, .def = TIMER_PIT,
			       .help = "the device that ticks"),
	[KEY_IRQ] = WORD_KEY(irq, 0, .min = IRQ_ROUTE_PIC, .def = IRQ_ROUTE_DEFAULT,
			     .help = "how ISA interrupts reach the CPU"),
	[KEY_SUITE] = WORD_KEY(suite, 0, .def = SUITE_ALL,
			       .help = "which checks to make"),
	/* These three change only how the accounting run keeps or reports time. */
	[KEY_LOSTTICKS] = WORD_KEY(lostticks, KEY_ACCOUNTING, .def = LOSTTICKS_IGNORE,
				   .neutral = LOSTTICKS_IGNORE,
				   .help = "what tick time does about merged ticks"),
	[KEY_SPONGE] = WORD_KEY(sponge, KEY_ACCOUNTING, .def = SPONGE_OFF, .neutral = SPONGE_OFF,
				.help = "who is charged for catch-up ticks"),
	[KEY_IDLE] = WORD_KEY(idle, 0, .def = IDLE_HALT,
			      .help = "what the idle task does"),
	[KEY_CLOCK] = WORD_KEY(clock, 0, .def = CLOCK_TSC,
			       .help = "what tick time is compared with"),
	/* A word of its own rather than 0s, which would read as "a line all the time". */
	[KEY_STATS] = {
		"stats", KIND_TIME, KEY_ACCOUNTING, FIELD(stats_us), .min = CONFIG_STATS_MIN_US,
		.max = CONFIG_STATS_MAX_US, .off = "off", .def = CONFIG_STATS_DEFAULT_US,
		.neutral = 0, .help = "time between two stats lines",
	},
	/* 0 is outside the range, so the rest of the kernel can tell "not given" from a value. */
	[KEY_W] = {
		"w", KIND_DECIMAL, 0, FIELD(w_ppm), .min = CONFIG_W_MIN_PPM,
		.max = CONFIG_W_MAX_PPM, .decimals = CONFIG_W_DECIMALS, .def = 0,
		.help = "the correction factor",
	},
};

static const char *word_name(const struct config_key *k, unsigned v)
{
	return v <= k->max ? k->words[v] : "?";
}

/* The names of kernel/config.h, read from the keys' own words. */
#define NAME_FN(fn, type, key) \
	const char *fn(type v) { return word_name(&config_keys[key], v); }

NAME_FN(config_fault_name, enum fault_kind, KEY_FAULT)
NAME_FN(config_timer_name, enum timer_kind, KEY_TIMER)
NAME_FN(config_irq_name, enum irq_route, KEY_IRQ)
NAME_FN(config_suite_name, enum suite_kind, KEY_SUITE)
NAME_FN(config_lostticks_name, enum lostticks_mode, KEY_LOSTTICKS)
NAME_FN(config_sponge_name, enum sponge_mode, KEY_SPONGE)
NAME_FN(config_idle_name, enum idle_mode, KEY_IDLE)
NAME_FN(config_clock_name, enum clock_kind, KEY_CLOCK)

bool span_is(struct span sp, const char *lit)
{
	return sp.len == kstrlen(lit) && kstrncmp(sp.s, lit, sp.len) == 0;
}

void config_store(struct config *cfg, const struct config_key *k, uint64_t v)
{
	char *field = (char *)cfg + k->offset;
	uint32_t v32 = (uint32_t)v;

	/* through kmemcpy, since the field may be an enum rather than a uint32_t */
	if (k->size == sizeof(v))
		kmemcpy(field, &v, sizeof(v));
	else
		kmemcpy(field, &v32, sizeof(v32));
}

static void set_task(struct task_spec *t, const char *name, uint32_t weight)
{
	kmemset(t, 0, sizeof(*t));
	kmemcpy(t->name, name, kstrlen(name));
	t->kind = TASK_SPIN;
	t->weight = weight;
}

void config_defaults(struct config *cfg)
{
	unsigned i;

	kmemset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < KEY_COUNT; i++) {
		if (config_keys[i].kind != KIND_TASK)
			config_store(cfg, &config_keys[i], config_keys[i].def);
	}

	/*
	 * Without task= words there is still something to measure: two spinners whose 2:1
	 * weights should show up as a 2:1 split of their time.  No duty task by default: one that
	 * wakes on a tick and sleeps before the next is charged by sampling only for the ticks it
	 * happens to straddle, and the report rightly calls that out (docs/cmdline.md).
	 */
	set_task(&cfg->tasks[0], "a", 2);
	set_task(&cfg->tasks[1], "b", 1);
	cfg->ntasks = 2;
}

void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
{
	int len;

	if (sb->n == 0)
		return;
	len = kvsnprintf(sb->s + sb->used, sb->n - sb->used, fmt, ap);
	sb->used += (size_t)len;
	if (sb->used >= sb->n)
		sb->used = sb->n - 1;
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(sb, fmt, ap);
	va_end(ap);
}

const char *config_time_str(char *buf, size_t n, uint64_t us)
{
	if (us != 0 && us % 1000000 == 0)
		ksnprintf(buf, n, "%llus", (unsigned long long)(us / 1000000));
	else if (us != 0 && us % 1000 == 0)
		ksnprintf(buf, n, "%llums", (unsigned long long)(us / 1000));
	else
		ksnprintf(buf, n, "%lluus", (unsigned long long)us);
	return buf;
}

const char *config_decimal_str(char *buf, size_t n, uint64_t v, unsigned decimals)
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

void config_key_value(struct strbuf *sb, const struct config_key *k, uint64_t v)
{
	char buf[32];

	switch (k->kind) {
	case KIND_UINT:
		sb_printf(sb, "%llu", (unsigned long long)v);
		break;
	case KIND_TIME:
		sb_printf(sb, "%s", v == 0 && k->off ? k->off : config_time_str(buf, sizeof(buf), v));
		break;
	case KIND_DECIMAL:
		sb_printf(sb, "%s", config_decimal_str(buf, sizeof(buf), v, k->decimals));
		break;
	case KIND_WORD:
		sb_printf(sb, "%s", word_name(k, (unsigned)v));
		break;
	case KIND_TASK:
		break;
	}
}

void config_key_range(struct strbuf *sb, const struct config_key *k)
{
	unsigned i;

	switch (k->kind) {
	case KIND_UINT:
	case KIND_TIME:
	case KIND_DECIMAL:
		config_key_value(sb, k, k->min);
		sb_printf(sb, " to ");
		config_key_value(sb, k, k->max);
		break;
	case KIND_WORD:
		for (i = k->min; i <= k->max; i++)
			sb_printf(sb, "%s%s", i == k->min ? "" : i == k->max ? " or " : ", ",
				  k->words[i]);
		break;
	case KIND_TASK:
		sb_printf(sb, "up to %llu tasks", (unsigned long long)k->max);
		break;
	}
}

void config_key_rule(struct strbuf *sb, const struct config_key *k)
{
	static const char *const what[] = {
		[KIND_UINT] = "an integer from ", [KIND_TIME] = "a time from ",
		[KIND_DECIMAL] = "a decimal from ", [KIND_WORD] = "", [KIND_TASK] = "",
	};

	sb_printf(sb, "%s takes %s", k->name, what[k->kind]);
	if (k->kind == KIND_TASK)
		sb_printf(sb, "%s", CONFIG_TASK_USAGE);
	else
		config_key_range(sb, k);
	if (k->kind == KIND_TIME && k->off)
		sb_printf(sb, ", or %s", k->off);
	if (k->kind == KIND_DECIMAL)
		sb_printf(sb, " with at most %u decimals", k->decimals);
	sb_printf(sb, " (%s)", k->help);
}

bool config_key_default(struct strbuf *sb, const struct config_key *k)
{
	bool shown;

	/* a default out of the range is what the key's absence means: fault=none, irq=default */
	shown = k->kind != KIND_TASK &&
		((k->def == 0 && k->off) || (k->def >= k->min && k->def <= k->max));
	if (shown)
		config_key_value(sb, k, k->def);
	return shown;
}
