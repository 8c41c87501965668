/*
 * Tick sources and reference clocks: the two interfaces every timer device sits behind.
 *
 * A tick source is something that interrupts us (Linux calls it a clock event device): the
 * scheduler and the sampling accounting only ever see ticks from it.  A reference clock is
 * something we read (Linux's clocksource): a free-running counter that keeps real time and
 * against which ticks, and the TSC, are measured.  One device can be both (the PIT, the HPET).
 */
#ifndef TICKGUEST_TICK_H
#define TICKGUEST_TICK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "acct/tick_account.h"
#include "lib/tickclock.h"
#include "lib/tickstat.h"

#define TICK_CAP_PERIODIC (1u << 0)
#define TICK_CAP_ONESHOT  (1u << 1)

/*
 * How many times a caller arms a one-shot the device refused before giving up.  A refusal
 * needs the vCPU held off for the whole delay between reading the counter and writing the
 * comparator, which a loaded host does now and then (under TCG an HPET access waits for
 * QEMU's main loop lock, and the main loop thread for a CPU): a rare, independent event per
 * try, so eight in a row is a device that never arms, not bad luck.
 */
#define TICK_ONESHOT_ARM_TRIES 8

struct trapframe;

struct tick_source {
	const char *name;
	unsigned irq;                   /* ISA IRQ line it interrupts on (unless connect is set) */
	unsigned caps;                  /* TICK_CAP_* */
	/* Program periodic interrupts at hz; returns 0, or -1 with the reason in why. */
	int (*start_periodic)(uint32_t hz, char *why, size_t whylen);
	void (*stop)(void);
	/*
	 * Device-level acknowledge, in the interrupt handler (NULL when the device needs none).
	 * Returns false when the interrupt was not a tick: the RTC shares its line between the
	 * periodic interrupt and the update and alarm interrupts.
	 */
	bool (*ack)(void);
	/* The period actually programmed, in picoseconds (devices round the requested rate). */
	uint64_t (*period_ps)(void);
	/*
	 * What start_periodic(hz) would program, worked out without touching the device: 0 with
	 * one line for the banner in buf, or -1 with the reason start_periodic would give.  The
	 * run's banner is printed before the device checks, which reprogram every device, so it
	 * cannot wait for the start.  Routing is not the device's: the HPET's route is printed
	 * with it by the caller (hpet_describe_route).
	 */
	int (*plan_periodic)(uint32_t hz, char *buf, size_t len);
	/*
	 * For a device that interrupts on a vector of its own instead of an ISA IRQ line (the
	 * local APIC timer): route its interrupt to fn, or disconnect it when fn is NULL.  The
	 * device owns its vector and its end-of-interrupt.  NULL for ISA devices, which
	 * tick_start() connects with irq_register(irq).
	 */
	void (*connect)(void (*fn)(struct trapframe *tf));
	/*
	 * TICK_CAP_ONESHOT only: one interrupt no sooner than delay_ns from now (the device
	 * rounds up to its own resolution).  Returns 0, or -1 with the reason in why.  stop()
	 * cancels it.  A device whose comparator matches only on equality (the HPET) refuses
	 * when its deadline passed before the write landed; the caller arms again, up to
	 * TICK_ONESHOT_ARM_TRIES times in all.
	 */
	int (*arm_oneshot)(uint64_t delay_ns, char *why, size_t whylen);
	/*
	 * TICK_CAP_ONESHOT, optional: whether the armed shot has come due by the device's own
	 * output, where the interrupt is that output: the PIT's IRQ 0 is its OUT pin's rising
	 * edge, so an interrupt taken while OUT is low was not raised by the shot (an edge left
	 * from before the arm, or one the emulator put on the line).  NULL where an interrupt
	 * before the device's own deadline could be the device's fault: the HPET and the local
	 * APIC raise theirs from a comparator, and their checks call that early.
	 */
	bool (*oneshot_due)(void);
	/*
	 * TICK_CAP_ONESHOT, optional: whether the device's own count has reached the shot's
	 * deadline, whatever became of its interrupt (the local APIC's TCCR at 0, the HPET's
	 * counter past its comparator, the PIT's OUT high).  A wait that ends with no interrupt
	 * though the count ran out was let down by the delivery, not the device: QEMU raises
	 * these interrupts from its main loop, which a loaded host can hold off while the vCPU
	 * runs on unrobbed.  Never used to excuse an early interrupt.
	 */
	bool (*oneshot_expired)(void);
};

struct refclock {
	const char *name;
	uint64_t freq_hz;
	unsigned width;                 /* bits in the raw counter */
	uint64_t (*read_raw)(void);
	/* wrap extension state, see refclock_read() */
	uint64_t last_raw;
	uint64_t wraps;
};

/*
 * Read a reference clock extended to 64 bits (lib/refclock.c).  A narrow counter must be read
 * at least once per wrap period (4.69 s for a 24-bit ACPI PM timer), or wraps go uncounted.
 */
uint64_t refclock_read(struct refclock *c);
/* Start the extension at the counter's present value, no wrap counted: a driver's init. */
void refclock_restart(struct refclock *c);

/* How the tick is kept (from the command line: lostticks=, stats=, sponge=). */
struct tick_options {
	bool compensate;                /* add ticks judged lost to tick time */
	uint64_t stats_us;              /* a TimeTrackerStats line this often; 0: none */
	/* For the accounting decision (acct/tick_account.h): the TSC's rate, and where plain
	 * sampling sends catch-up ticks with sponge=charge (NULL otherwise). */
	uint64_t tsc_hz;
	struct acct *catchup_sink;
};

/* Tick bookkeeping, fed by the tick source's interrupt (kernel/tick.c). */
struct tick_state {
	const struct tick_source *src;
	struct refclock *ref;
	struct tick_options opt;
	uint64_t count;                 /* ticks since tick_start() */
	uint64_t start_ref;             /* reference clock at tick_start() */
	uint64_t first_ref, last_ref;   /* reference clock at the first and the latest tick */
	uint64_t period_ps;             /* the period the device was programmed with */
	uint64_t period_ref;            /* the same in reference-clock counts */
	struct tick_stats stats;        /* interval classification against period_ref */
	/* Tick time against the reference, from the second tick on (the first may have waited
	 * behind start-up with interrupts off, so it cannot be the origin). */
	struct tickclock clock;
	/* What each tick is worth to the accounting, decided from the clock (tick_account.h). */
	struct tick_account acct;
	/* The TimeTrackerStats interval in progress */
	uint64_t stats_next_ns, stats_from_ns, stats_from_tick_ns, stats_from_count;
	int64_t stats_max_behind_ns;    /* the most behind any tick of the interval found it */
	uint64_t stats_lines;
};

int tick_start(const struct tick_source *src, struct refclock *ref, uint32_t hz,
	       const struct tick_options *opt, char *why, size_t whylen);
void tick_stop(void);
const struct tick_state *tick_state(void);
/* The programmed period in counts of a clock running at hz (after tick_start). */
uint64_t tick_period_in(uint64_t hz);

/* Route a tick source's interrupt to fn, or away when fn is NULL (connect, else its ISA IRQ). */
void tick_source_connect(const struct tick_source *src, void (*fn)(struct trapframe *tf));

#endif
