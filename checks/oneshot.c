/*
 * The one-shot half of the tick-source interface, checked the same way for every device that
 * offers it: arm a delay through tick_source.arm_oneshot, take the interrupt, and see that it
 * came once and not before the delay.  The device files (checks/pit.c, checks/apic.c,
 * checks/hpet.c) look closer at each device; this one holds the interface to its contract.
 *
 * The delay is measured from a TSC reading taken before arm_oneshot() to one taken in the
 * handler, so it can only come out longer than the device's: the one thing that can make a
 * sound device look early is the TSC's calibration error, which the bound allows for.
 */
#include "checks/checks.h"
#include "checks/measure.h"
#include "kernel/report.h"
#include "kernel/tick.h"
#include "kernel/x86.h"
#include "drivers/hpet.h"
#include "drivers/lapic.h"
#include "drivers/pit8254.h"

#define DELAY_NS        1000000ull      /* 1 ms: well above every device's resolution */
#define SHOTS           5
#define WAIT_MS         20              /* give up on a shot after 20 ms */
#define QUIET_MS        3               /* after a shot, watch 3 ms for a second interrupt */

static const struct tick_source *src;
static unsigned stragglers;

static void interrupt(struct trapframe *tf)
{
	uint64_t now = rdtsc();
	/* asked before the ack, which may clear what says the shot came due */
	bool raised = !src->oneshot_due || src->oneshot_due();

	(void)tf;
	if (src->ack)
		(void)src->ack();
	shot_interrupt_by(now, raised);
}

/*
 * After the series: a shot that came due just before stop() is still pending (a stop does not
 * take back an interrupt the device already raised), so it is taken and acknowledged here
 * rather than by nobody.  An unowned local APIC vector is counted as a stray, and an
 * unacknowledged HPET or RTC keeps its line asserted.
 */
static void straggler(struct trapframe *tf)
{
	(void)tf;
	if (src->ack)
		(void)src->ack();
	stragglers++;
}

static int arm(void *why)
{
	return src->arm_oneshot(DELAY_NS, why, 96);
}

static void disarm(void *why)
{
	(void)why;
	src->stop();
}

/* The earliest a sound device can fire by our TSC: the delay, less the TSC's uncertainty. */
static uint64_t earliest_ns(void)
{
	return DELAY_NS - DELAY_NS * tsc_uncertainty_ppm() / 1000000;
}

static void check_one(const struct tick_source *s, const char *absent)
{
	char why[96] = "";
	struct shot_plan plan = {
		.arm = arm, .disarm = disarm, .ctx = why, .wait = tsc_from_ms(WAIT_MS),
		.quiet = tsc_from_ms(QUIET_MS), .due = s->oneshot_due,
		.expired = s->oneshot_expired,
	};
	struct shot_series r = { .wanted = SHOTS };
	struct claim c;

	claim_open(&c, "%s one-shot through the tick-source interface fires once, never early",
		   s->name);
	claim_needs(&c, !absent, absent);
	if (!absent) {
		src = s;
		tick_source_connect(s, interrupt);
		shot_series_fire(&plan, SHOTS, tsc_from_counts(earliest_ns(), NS_PER_S),
				 tsc_from_counts(DELAY_NS, NS_PER_S), 0, &r);
		cli();
		s->stop();
		stragglers = 0;
		tick_source_connect(s, straggler);
		irq_drain_ms(QUIET_MS);
		tick_source_connect(s, 0);
	}
	if (!claim_judge_shots(&c, &r, true))
		return;
	report_yaml_u64("delay_ns", DELAY_NS);
	report_yaml_u64("earliest_allowed_ns", earliest_ns());
	report_yaml_u64("taken_after_stop", stragglers);
	if (why[0])
		report_yaml("refused", "%s", why);
	claim_close();
}

void oneshot_checks(const char *hpet_why, const char *lapic_why)
{
	check_one(&pit_tick_source, 0);
	check_one(&lapic_tick_source, lapic_why);
	check_one(&hpet_tick_source, hpet_why);
}
