/*
 * Run configuration: what the kernel command line asked for.
 *
 * The command line is a list of key=value words (see docs/cmdline.md).  Parsing is pure C with no
 * hardware access, so the same code is built into the kernel and into the host unit tests.
 */
#ifndef TICKGUEST_CONFIG_H
#define TICKGUEST_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_TASKS   8    /* workload tasks; idle is extra */
#define CONFIG_NAME_MAX    8    /* characters in a task name, without the NUL */

/* Limits of the keys, shared by the parser, its error messages and docs/cmdline.md. */
#define CONFIG_HZ_ABS_MIN  1        /* any tick source; each timer= narrows it: */
#define CONFIG_HZ_MIN      19       /* PIT: 1193182 / 65536 = 18.2 Hz is the slowest it can tick */
#define CONFIG_HZ_MAX      10000
#define CONFIG_HZ_DEFAULT  100
#define CONFIG_RTC_HZ_MIN  2        /* RTC periodic interrupt: powers of two, 2 .. 8192 Hz */
#define CONFIG_RTC_HZ_MAX  8192
#define CONFIG_RTC_HZ_DEFAULT 128   /* the power of two nearest the default 100 Hz */
#define CONFIG_DURATION_MIN_US      100000ULL        /* 100 ms */
#define CONFIG_DURATION_MAX_US      3600000000ULL    /* 1 hour */
#define CONFIG_DURATION_DEFAULT_US  5000000ULL       /* 5 s */
#define CONFIG_WEIGHT_MIN  1
#define CONFIG_WEIGHT_MAX  100
#define CONFIG_DUTY_MIN    1
#define CONFIG_DUTY_MAX    100
#define CONFIG_PERIOD_MIN_US        1000ULL          /* further limited to >= 2 ticks */
#define CONFIG_PERIOD_MAX_US        10000000ULL      /* 10 s */
#define CONFIG_STATS_MIN_US         100000ULL        /* 100 ms */
#define CONFIG_STATS_MAX_US         3600000000ULL    /* 1 hour */
#define CONFIG_STATS_DEFAULT_US     1000000ULL       /* 1 s */
#define CONFIG_W_DECIMALS  6            /* w is kept in millionths (ppm), so 6 decimals at most */
#define CONFIG_W_MIN_PPM   10000        /* 0.01 */
#define CONFIG_W_MAX_PPM   100000000    /* 100 */

enum task_kind {
	TASK_SPIN,      /* always runnable */
	TASK_DUTY,      /* spins duty_pct % of each period, sleeps the rest */
};

struct task_spec {
	char name[CONFIG_NAME_MAX + 1];
	enum task_kind kind;
	uint32_t weight;        /* quantum, in ticks */
	uint32_t duty_pct;      /* TASK_DUTY only */
	uint64_t period_us;     /* TASK_DUTY only */
};

enum fault_kind {
	FAULT_NONE,
	FAULT_UD,       /* invalid opcode (ud2) */
	FAULT_DE,       /* divide error */
	FAULT_PF,       /* page fault: read through a null pointer */
	FAULT_GP,       /* general protection: load a bad segment selector */
	FAULT_STACK,    /* stack overflow into the guard page: a double fault */
	FAULT_TRIPLE,   /* an IDT of limit 0: the CPU shuts down, no verdict can be printed */
	FAULT_TICK,     /* the tick's interrupt masked once it runs: the watchdog ends the run */
};

/* The device that ticks (timer=) and how its interrupt is routed (irq=). */
enum timer_kind {
	TIMER_PIT,
	TIMER_RTC,
	TIMER_LAPIC,
	TIMER_HPET,
};

enum irq_route {
	IRQ_ROUTE_DEFAULT,      /* the IOAPIC when the MADT lists one, else the 8259s */
	IRQ_ROUTE_PIC,
	IRQ_ROUTE_IOAPIC,
};

/* Which checks a run makes (suite=). */
enum suite_kind {
	SUITE_ALL,              /* the timer devices, then the accounting run */
	SUITE_DEVICES,          /* only the timer device checks: no workload runs */
	SUITE_ACCOUNTING,       /* only the accounting run on the chosen tick source */
};

/* What the tick handler does with ticks the device merged (lostticks=). */
enum lostticks_mode {
	LOSTTICKS_IGNORE,       /* tick time simply falls behind */
	LOSTTICKS_COMPENSATE,   /* add them to tick time once they are known to be lost */
};

/* Who is charged for catch-up ticks (sponge=). */
enum sponge_mode {
	SPONGE_OFF,             /* whoever a catch-up tick interrupts, like any other tick */
	SPONGE_RUN,             /* a top-priority task runs while tick time is behind */
	SPONGE_CHARGE,          /* the tick handler charges them to the sponge directly */
};

/* What the idle task does (idle=). */
enum idle_mode {
	IDLE_HALT,              /* hlt until the next interrupt */
	IDLE_POLL,              /* spin reading the TSC, so stolen time shows in idle too */
};

/* The reference clock tick time is compared with (clock=). */
enum clock_kind {
	CLOCK_TSC,
	CLOCK_PMTIMER,
	CLOCK_HPET,
};

struct config {
	enum suite_kind suite;
	uint32_t hz;
	enum timer_kind timer;
	enum irq_route irq;
	uint64_t duration_us;
	unsigned ntasks;
	struct task_spec tasks[CONFIG_MAX_TASKS];
	enum fault_kind fault;
	enum lostticks_mode lostticks;
	enum sponge_mode sponge;
	enum idle_mode idle;
	enum clock_kind clock;
	uint64_t stats_us;      /* reference time between two stats lines; 0: off */
	uint32_t w_ppm;         /* correction factor w in millionths; 0: not given */
};

/* Fill in the defaults, including the default workload (used when no task= is given). */
void config_defaults(struct config *cfg);

/*
 * Room for every message of config_parse about a word of ordinary length (tests/unit/
 * test_config.c holds one of each to it); a message about a longer word is cut at the end.
 */
#define CONFIG_ERR_LEN 160

/*
 * Parse a multiboot command line into cfg (which config_parse first sets to the defaults).
 * The first word is skipped when it has no '=': both GRUB and QEMU's -kernel loader put the
 * image path there.  Returns 0, or -1 with one human-readable line (no trailing newline) in err
 * naming the key, the value and what is allowed.
 */
int config_parse(struct config *cfg, const char *cmdline, char *err, size_t errlen);

/* Names as written on the command line ("ud", "rtc", "ioapic", ...). */
const char *config_fault_name(enum fault_kind f);
const char *config_timer_name(enum timer_kind t);
const char *config_irq_name(enum irq_route r);
const char *config_suite_name(enum suite_kind s);
const char *config_lostticks_name(enum lostticks_mode m);
const char *config_sponge_name(enum sponge_mode m);
const char *config_idle_name(enum idle_mode m);
const char *config_clock_name(enum clock_kind c);

#endif
