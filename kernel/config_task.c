/*
 * The task kind of key: task=NAME:spin[:WEIGHT] or task=NAME:duty:PCT:PERIOD[:WEIGHT].
 *
 * Its number fields are described like keys (kernel/config_keys.h), so they are read by the
 * same readers and refused in the same words as hz= or duration=.
 */
#include "kernel/config_keys.h"
#include "lib/format.h"
#include "lib/string.h"

/* Takes CONFIG_NAME_MAX as its argument. */
#define NAME_RULE "NAME is 1 to %d characters from a-z, 0-9 and _"

/* Most fields a task= value can have: NAME:duty:PCT:PERIOD:WEIGHT. */
#define TASK_FIELDS_MAX 5

/* A duty task's period must cover this many ticks, or its on/off pattern cannot be seen. */
#define MIN_PERIOD_TICKS 2

enum { FIELD_PCT, FIELD_PERIOD, FIELD_WEIGHT };

const struct config_key config_task_fields[] = {
	[FIELD_PCT] = {
		"PCT", KIND_UINT, 0, .min = CONFIG_DUTY_MIN, .max = CONFIG_DUTY_MAX,
		.help = "percent of each period spent spinning",
	},
	[FIELD_PERIOD] = {
		"PERIOD", KIND_TIME, 0, .min = CONFIG_PERIOD_MIN_US, .max = CONFIG_PERIOD_MAX_US,
		.help = "one spin-and-sleep cycle",
	},
	[FIELD_WEIGHT] = {
		"WEIGHT", KIND_UINT, 0, .min = CONFIG_WEIGHT_MIN, .max = CONFIG_WEIGHT_MAX,
		.def = 1, .help = "ticks per turn",
	},
};

const size_t config_ntask_fields = sizeof(config_task_fields) / sizeof(config_task_fields[0]);

static const char *const reserved[] = { "idle", "sponge", "console" };

static int check_name(struct parser *ps, struct span word, struct span name)
{
	size_t i;

	if (name.len == 0)
		return config_fail(ps, word, NULL, "empty task name; " NAME_RULE, CONFIG_NAME_MAX);
	if (name.len > CONFIG_NAME_MAX)
		return config_fail(ps, word, NULL, "task name '%.*s' is too long; " NAME_RULE,
				   SPAN_ARGS(name), CONFIG_NAME_MAX);
	for (i = 0; i < name.len; i++) {
		char c = name.s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return config_fail(ps, word, NULL, "task name '%.*s' contains '%c'; " NAME_RULE,
					   SPAN_ARGS(name), c, CONFIG_NAME_MAX);
	}
	/* the kernel's own tasks have rows of their own in the accounting table */
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (span_is(name, reserved[i]))
			return config_fail(ps, word, NULL, "task name '%s' is reserved for the kernel's "
					   "%s task; choose another NAME", reserved[i], reserved[i]);
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

static int read_field(struct parser *ps, struct span word, const char *label, unsigned field,
		      struct span text, uint64_t *out)
{
	return config_read_value(ps, word, label, &config_task_fields[field], text, out);
}

/* The kind and its fields, from f[1] on; nf counts all the fields, the name too. */
static int read_kind(struct parser *ps, struct span word, const struct span *f, size_t nf,
		     struct task_spec *t)
{
	const struct config_key *task = &config_keys[KEY_TASK];
	size_t weight_field = 0;
	uint64_t v;

	if (nf < 2)
		return config_fail(ps, word, task, "missing task kind");
	if (span_is(f[1], "spin")) {
		t->kind = TASK_SPIN;
		if (nf > 3)
			return config_fail(ps, word, NULL, "too many fields for a spin task; use NAME:spin[:WEIGHT]");
		if (nf == 3)
			weight_field = 2;
	} else if (span_is(f[1], "duty")) {
		t->kind = TASK_DUTY;
		if (nf < 4)
			return config_fail(ps, word, NULL, "a duty task needs both PCT and PERIOD; use NAME:duty:PCT:PERIOD[:WEIGHT]");
		if (nf > TASK_FIELDS_MAX)
			return config_fail(ps, word, NULL, "too many fields for a duty task; use NAME:duty:PCT:PERIOD[:WEIGHT]");
		if (read_field(ps, word, "duty percentage ", FIELD_PCT, f[2], &v))
			return -1;
		t->duty_pct = (uint32_t)v;
		if (read_field(ps, word, "period ", FIELD_PERIOD, f[3], &t->period_us))
			return -1;
		if (nf == 5)
			weight_field = 4;
	} else {
		return config_fail(ps, word, task, "unknown task kind '%.*s'", SPAN_ARGS(f[1]));
	}

	t->weight = (uint32_t)config_task_fields[FIELD_WEIGHT].def;
	if (weight_field) {
		if (read_field(ps, word, "weight ", FIELD_WEIGHT, f[weight_field], &v))
			return -1;
		t->weight = (uint32_t)v;
	}
	return 0;
}

int config_read_task(struct parser *ps, struct span word, struct span value)
{
	struct config *cfg = ps->cfg;
	struct span f[TASK_FIELDS_MAX];
	struct task_spec t;
	size_t nf;
	unsigned i;

	kmemset(&t, 0, sizeof(t));
	nf = split_fields(value, f, TASK_FIELDS_MAX);
	if (check_name(ps, word, f[0]))
		return -1;
	kmemcpy(t.name, f[0].s, f[0].len);
	if (read_kind(ps, word, f, nf, &t))
		return -1;

	/* The first task= replaces the default workload instead of adding to it. */
	if (!(ps->given & (1u << KEY_TASK)))
		cfg->ntasks = 0;
	for (i = 0; i < cfg->ntasks; i++) {
		if (kstrcmp(cfg->tasks[i].name, t.name) == 0)
			return config_fail(ps, word, NULL, "task '%s' is already defined; task names must be unique",
					   t.name);
	}
	if (cfg->ntasks == CONFIG_MAX_TASKS)
		return config_fail(ps, word, NULL, "too many tasks; at most %d task= words are allowed",
				   CONFIG_MAX_TASKS);

	ps->task_words[cfg->ntasks] = word;
	cfg->tasks[cfg->ntasks++] = t;
	return 0;
}

/*
 * A duty task switches between spinning and sleeping within each period, and the scheduler
 * only sees that at ticks; a period shorter than two ticks would be sampled as noise.  This
 * depends on two keys (hz and task) given in any order, so it runs after all words are read.
 */
int config_check_periods(struct parser *ps)
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
		config_time_str(period, sizeof(period), t->period_us);
		config_time_str(min, sizeof(min), min_us);
		/* The default workload has no duty task, so t came from a task= word. */
		return config_fail(ps, ps->task_words[i], NULL, "period %s is shorter than %d ticks at hz=%u; PERIOD must be at least %s at this hz",
				   period, MIN_PERIOD_TICKS, (unsigned)cfg->hz, min);
	}
	return 0;
}
