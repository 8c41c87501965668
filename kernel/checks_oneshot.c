/*
 * The one-shot half of the tick-source interface, checked the same way for every device that
 * offers it: arm a delay, take the interrupt, and see that it came once and not before the
 * delay.  The device-specific checks (checks_pit.c, checks_apic.c, checks_refclocks.c) look
 * closer at each device; this one holds the interface to its contract.
 *
 * The measured delay runs from a TSC reading taken before arm_oneshot() to one taken in the
 * handler, so it can only be longer than the device's: the one thing that can make a sound
 * device look early is the TSC's own calibration error, which the bound allows for.
 */
#include "kernel/checks_oneshot.h"
#include "kernel/report.h"
#include "kernel/string.h"
#include "kernel/tick.h"
#include "kernel/x86.h"
#include "drivers/hpet.h"
#include "drivers/lapic.h"
#include "drivers/pit8254.h"
#include "drivers/tsc.h"

#define ONESHOT_DELAY_NS   1000000ull   /* 1 ms: well above every device's resolution */
#define ONESHOT_SHOTS      5
#define ONESHOT_WAIT_NS    20000000ull  /* give up on a shot after 20 ms */
#define ONESHOT_QUIET_NS   3000000ull   /* after a shot, watch 3 ms for a second interrupt */

static struct oneshot_result {
	const struct tick_source *src;
	const char *absent;
	char why[96];           /* arm_oneshot()'s refusal, when a shot was never armed */
	unsigned armed, fired_once, extra;
	unsigned arm_retries;   /* refusals followed by an arm that took */
	uint64_t min_ns, max_ns;
} results[3];
static unsigned nresults;

static const struct tick_source *current;
static volatile unsigned irqs;
static volatile uint64_t fired_at;

static void oneshot_interrupt(struct trapframe *tf)
{
	(void)tf;
	if (current->ack)
		(void)current->ack();
	if (irqs++ == 0)
		fired_at = rdtsc();
}

/*
 * Arm one shot and wait it out; returns the armed-to-fired time in TSC cycles, or 0.  A
 * refused arm is tried again (kernel/tick.h), the delay measured from the try that took.  A
 * refusal means the deadline was reached around the time it was written, so the device may
 * have raised the interrupt after all: wait the quiet time with interrupts on before the next
 * try, so that stale interrupt lands here and not in the next shot, where it would look early.
 */
static uint64_t shoot(struct oneshot_result *r)
{
	uint64_t t0, deadline;
	char why[sizeof(r->why)];

	for (unsigned tries = 1;; tries++) {
		cli();
		irqs = 0;
		t0 = rdtsc();
		if (r->src->arm_oneshot(ONESHOT_DELAY_NS, why, sizeof(why)) == 0)
			break;
		sti();
		tsc_spin_until(rdtsc() + ONESHOT_QUIET_NS * tsc_refclock.freq_hz / 1000000000ull);
		if (tries == TICK_ONESHOT_ARM_TRIES) {
			kmemcpy(r->why, why, sizeof(r->why));
			return 0;
		}
		r->arm_retries++;
	}
	r->armed++;
	sti();
	deadline = t0 + ONESHOT_WAIT_NS * tsc_refclock.freq_hz / 1000000000ull;
	while (irqs == 0 && (int64_t)(rdtsc() - deadline) < 0)
		cpu_relax();
	if (irqs == 0)
		return 0;
	tsc_spin_until(fired_at + ONESHOT_QUIET_NS * tsc_refclock.freq_hz / 1000000000ull);
	if (irqs > 1)
		r->extra += irqs - 1;
	return fired_at - t0;
}

static void measure_one(const struct tick_source *src, const char *absent)
{
	struct oneshot_result *r = &results[nresults++];

	r->src = src;
	r->absent = absent;
	if (absent)
		return;
	current = src;
	tick_source_connect(src, oneshot_interrupt);
	/* One shot unmeasured: switching a route may deliver a stale edge (docs/hpet.md). */
	(void)shoot(r);
	r->armed = r->extra = r->arm_retries = 0;
	r->why[0] = '\0';
	for (unsigned i = 0; i < ONESHOT_SHOTS; i++) {
		uint64_t ns = tsc_ns(shoot(r));

		if (ns == 0)
			continue;
		r->fired_once++;
		if (r->fired_once == 1 || ns < r->min_ns)
			r->min_ns = ns;
		if (ns > r->max_ns)
			r->max_ns = ns;
	}
	cli();
	src->stop();
	tick_source_connect(src, 0);
	sti();
	tsc_spin_until(rdtsc() + ONESHOT_QUIET_NS * tsc_refclock.freq_hz / 1000000000ull);
	cli();
}

void oneshot_measure(const char *hpet_why, const char *lapic_why)
{
	measure_one(&pit_tick_source, 0);
	measure_one(&lapic_tick_source, lapic_why);
	measure_one(&hpet_tick_source, hpet_why);
}

void oneshot_report_checks(void)
{
	for (unsigned i = 0; i < nresults; i++) {
		const struct oneshot_result *r = &results[i];
		/* the TSC may run slow by its uncertainty, shortening what we measure */
		uint64_t earliest = ONESHOT_DELAY_NS -
				    ONESHOT_DELAY_NS * tsc_uncertainty_ppm() / 1000000;

		if (r->absent) {
			report_skip(r->absent, "%s one-shot through the tick-source interface fires once, "
				    "never early", r->src->name);
			continue;
		}
		report_check(r->armed == ONESHOT_SHOTS && r->fired_once == ONESHOT_SHOTS &&
			     r->extra == 0 && r->min_ns >= earliest,
			     "%s one-shot through the tick-source interface fires once, never early",
			     r->src->name);
		report_yaml_begin();
		report_yaml_u64("delay_ns", ONESHOT_DELAY_NS);
		report_yaml_u64("earliest_allowed_ns", earliest);
		report_yaml_u64("shots", ONESHOT_SHOTS);
		report_yaml_u64("armed", r->armed);
		report_yaml_u64("fired_once", r->fired_once);
		report_yaml_u64("extra_interrupts", r->extra);
		report_yaml_u64("arm_retries", r->arm_retries);
		if (r->fired_once) {
			report_yaml_u64("armed_to_fired_min_ns", r->min_ns);
			report_yaml_u64("armed_to_fired_max_ns", r->max_ns);
		}
		if (r->why[0])
			report_yaml("refused", "%s", r->why);
		report_yaml_end();
	}
}
