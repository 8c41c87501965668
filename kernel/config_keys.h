/*
 * The command line's key table, and what the parser's files share (kernel/config.c runs the
 * words through the table, kernel/config_values.c and kernel/config_task.c read each kind of
 * value).  The rest of the kernel sees kernel/config.h only; the host tests read the table too,
 * so that docs/cmdline.md is checked against it rather than against a copy.
 */
#ifndef TICKGUEST_CONFIG_KEYS_H
#define TICKGUEST_CONFIG_KEYS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/config.h"

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

bool span_is(struct span sp, const char *lit);

/* Each kind has one reader and one wording of its errors, whichever key it serves. */
enum key_kind {
	KIND_UINT,      /* decimal digits, min to max */
	KIND_TIME,      /* digits and a unit (us, ms, s), kept in microseconds, min to max */
	KIND_DECIMAL,   /* digits with an optional fraction, kept scaled by 10^decimals */
	KIND_WORD,      /* one of words[], kept as its index */
	KIND_TASK,      /* NAME:spin... or NAME:duty...: one more task of the workload */
};

/* The order is that of docs/cmdline.md and of the "known keys" list in the errors. */
enum key_id {
	KEY_HZ,
	KEY_DURATION,
	KEY_TASK,
	KEY_FAULT,
	KEY_TIMER,
	KEY_IRQ,
	KEY_SUITE,
	KEY_LOSTTICKS,
	KEY_SPONGE,
	KEY_IDLE,
	KEY_CLOCK,
	KEY_STATS,
	KEY_W,
	KEY_COUNT
};

#define KEY_REPEATS     (1u << 0)       /* may be given more than once */
#define KEY_ACCOUNTING  (1u << 1)       /* any value but .neutral is an error with suite=devices */

/*
 * One key, or one field of a task= value (which reads the same kinds and words its errors the
 * same way).  The value goes to the field at offset, of size 4 (uint32_t or an enum) or 8.
 */
struct config_key {
	const char *name;
	enum key_kind kind;
	unsigned flags;
	size_t offset, size;
	uint64_t min, max;              /* the values it takes, as stored */
	unsigned decimals;              /* DECIMAL */
	const char *const *words;       /* WORD: names of 0 to max; those below min name the */
					/* key's absence (fault=none) and are not accepted */
	const char *off;                /* a word that stores 0, or NULL */
	uint64_t def;                   /* the default, as stored; TASK: see config_defaults */
	uint64_t neutral;               /* KEY_ACCOUNTING: the value that asks nothing of it */
	const char *help;               /* what it is for, in a few words: ends its errors */
};

extern const struct config_key config_keys[KEY_COUNT];

/* What a task= value looks like, for its errors and the task key's rule. */
#define CONFIG_TASK_USAGE "NAME:spin[:WEIGHT] or NAME:duty:PCT:PERIOD[:WEIGHT]"

/* The number fields of a task= value (PCT, PERIOD, WEIGHT), read and refused like keys. */
extern const struct config_key config_task_fields[];
extern const size_t config_ntask_fields;

/* A NUL-terminated buffer that is appended to and never overflows; the text is cut instead. */
struct strbuf {
	char *s;
	size_t n;
	size_t used;
};

void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap);

/* One value of k as a user writes it ("5s", "0.01", "pit"); v is one that k can hold. */
void config_key_value(struct strbuf *sb, const struct config_key *k, uint64_t v);
/* Text for the allowed values: "1 to 10000", "100ms to 3600s", "pit, rtc, lapic or hpet". */
void config_key_range(struct strbuf *sb, const struct config_key *k);
/* "hz takes an integer from 1 to 10000 (ticks per second; timer= narrows it)" */
void config_key_rule(struct strbuf *sb, const struct config_key *k);
/* The default as a user writes it, or false when it is no value of the key (fault=none). */
bool config_key_default(struct strbuf *sb, const struct config_key *k);

/* Set the field of cfg that k names; v is one of its values. */
void config_store(struct config *cfg, const struct config_key *k, uint64_t v);

/* A time in the largest unit that shows it exactly, 100000 us as "100ms"; a decimal as "0.01". */
const char *config_time_str(char *buf, size_t n, uint64_t us);
const char *config_decimal_str(char *buf, size_t n, uint64_t v, unsigned decimals);

_Static_assert(KEY_COUNT <= 32, "struct parser keeps the keys given in 32 bits");

struct parser {
	struct config *cfg;
	char *err;
	size_t errlen;
	uint32_t given;                         /* bit KEY_*: that key was given */
	struct span words[KEY_COUNT];           /* the word that gave it (task: the last one) */
	struct span accounting_word;            /* the first that needs an accounting run */
	struct span task_words[CONFIG_MAX_TASKS];
};

/*
 * Record the error "WORD: <fmt>", then "; <rule of k>" when k is not NULL, as one printable
 * line.  Returns -1, so a reader can return what it returns.
 */
int config_fail(struct parser *ps, struct span word, const struct config_key *k,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Read text as a value of k (any kind but TASK) into *out; label names a task field in the
 * message ("weight "), and is "" for a key's whole value.  0, or -1 with the error recorded.
 */
int config_read_value(struct parser *ps, struct span word, const char *label,
		      const struct config_key *k, struct span text, uint64_t *out);

/* A task= value: appended to the workload, which the first one empties. */
int config_read_task(struct parser *ps, struct span word, struct span value);

/* Once every word is read: each duty task's period against hz. */
int config_check_periods(struct parser *ps);

#endif
