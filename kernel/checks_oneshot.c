/*
 * The one-shot half of the tick-source interface, checked the same way for every device that
 * offers it: arm a delay, take the interrupt, and see that it came once and not before the
 * delay.  The device-specific checks (checks_pit.c, checks_apic.c, checks_refclocks.c) look
 * closer at each device; this one holds the interface to its contract.
 *
 * The measured delay runs from a TSC reading taken before arm_oneshot() to one taken in the
 * handler, so it can only be longer than the device's: the one thing that can make a sound
 * device look early is the TSC's own calibration error, which the bound allows for.
 *
 * A host that takes the CPU can only delay a shot: it cannot make one early, nor make a second
 * interrupt.  So every shot counts for "once" and "never early", but only a shot whose wait
 * the host left alone (kernel/window.h: no step of it over the steal threshold) counts for
 * "fires": a shot that missed its wait in a window the host took says nothing about the device
 * (QEMU's timer thread, which raises the interrupt, may have been held off too, and that the
 * guest cannot see).  Robbed shots are shot again, up to WINDOW_TRIES times each; a claim with
 * fewer clean shots than ONESHOT_SHOTS is not judged.
 */
#include "kernel/checks_oneshot.h"
#include "kernel/format.h"
#include "kernel/report.h"
#include "kernel/string.h"
#include "kernel/tick.h"
#include "kernel/x86.h"
#include "drivers/hpet.h"
#include "drivers/lapic.h"
#include "drivers/pit8254.h"
#include "drivers/tsc.h"
#include "kernel/window.h"

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
	unsigned clean, robbed; /* shots whose wait the host left alone, and the others */
	unsigned early;         /* shots that fired before the delay could have passed */
	uint64_t min_ns, max_ns;
	struct window_steal worst;      /* the robbed shot with the longest stolen step */
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

/* The earliest a sound device can fire by our TSC: the delay, less the TSC's uncertainty. */
static uint64_t earliest_ns(void)
{
	return ONESHOT_DELAY_NS - ONESHOT_DELAY_NS * tsc_uncertainty_ppm() / 1000000;
}

/*
 * Arm one shot and wait it out; returns the armed-to-fired time in TSC cycles, or 0, and the
 * wait's stolen time in *steal.  A refused arm is tried again (kernel/tick.h), the delay
 * measured from the try that took.  A refusal means the deadline was reached around the time
 * it was written, so the device may have raised the interrupt after all: wait the quiet time
 * with interrupts on before the next try, so that stale interrupt lands here and not in the
 * next shot, where it would look early.
 */
static uint64_t shoot(struct oneshot_result *r, struct window_steal *steal)
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
	window_begin();
	sti();
	deadline = t0 + ONESHOT_WAIT_NS * tsc_refclock.freq_hz / 1000000000ull;
	while (irqs == 0 && (int64_t)(rdtsc() - deadline) < 0) {
		window_probe();
		cpu_relax();
	}
	*steal = window_end();
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
	struct window_steal steal;

	r->src = src;
	r->absent = absent;
	if (absent)
		return;
	current = src;
	tick_source_connect(src, oneshot_interrupt);
	/* One shot unmeasured: switching a route may deliver a stale edge (docs/hpet.md). */
	(void)shoot(r, &steal);
	r->armed = r->extra = r->arm_retries = 0;
	r->why[0] = '\0';
	for (unsigned i = 0; r->clean < ONESHOT_SHOTS && i < ONESHOT_SHOTS * WINDOW_TRIES; i++) {
		uint64_t ns;
		bool clean;

		steal = (struct window_steal){ 0, 0, 0 };
		ns = tsc_ns(shoot(r, &steal));
		clean = steal.gaps == 0;

		r->clean += clean;
		r->robbed += !clean;
		if (!clean && steal.longest > r->worst.longest)
			r->worst = steal;
		if (ns == 0) {
			if (r->why[0])
				break;          /* never armed: no point in more */
			continue;
		}
		r->early += ns < earliest_ns();
		if (!clean)
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
		const char *claim = "%s one-shot through the tick-source interface fires once, never "
				    "early";
		/* a failure steal cannot explain stands; a missed wait stands only if clean */
		bool bad = r->why[0] || r->extra || r->early ||
			   (r->clean && r->fired_once < r->clean);
		char why[160];

		if (r->absent) {
			report_skip(r->absent, claim, r->src->name);
			continue;
		}
		if (!bad && r->clean < ONESHOT_SHOTS) {
			ksnprintf(why, sizeof(why), "not judged: the host took the CPU in %u of %u shots' "
				  "waits (longest step %llu us), %u clean", r->robbed, r->robbed + r->clean,
				  (unsigned long long)(tsc_ns(r->worst.longest) / 1000), r->clean);
			report_skip(why, claim, r->src->name);
		} else {
			report_check(!bad, claim, r->src->name);
		}
		report_yaml_begin();
		report_yaml_u64("delay_ns", ONESHOT_DELAY_NS);
		report_yaml_u64("earliest_allowed_ns", earliest_ns());
		report_yaml_u64("shots", ONESHOT_SHOTS);
		report_yaml_u64("armed", r->armed);
		report_yaml_u64("clean_shots", r->clean);
		report_yaml_u64("robbed_shots", r->robbed);
		report_yaml_u64("fired_once", r->fired_once);
		report_yaml_u64("early", r->early);
		report_yaml_u64("extra_interrupts", r->extra);
		report_yaml_u64("arm_retries", r->arm_retries);
		if (r->robbed)
			report_yaml_fixed("robbed_longest_step_ms",
					  (int64_t)(tsc_ns(r->worst.longest) / 1000), 3);
		if (r->fired_once) {
			report_yaml_u64("armed_to_fired_min_ns", r->min_ns);
			report_yaml_u64("armed_to_fired_max_ns", r->max_ns);
		}
		if (r->why[0])
			report_yaml("refused", "%s", r->why);
		report_yaml_end();
	}
}
