/*
 * The tick: the one interrupt the scheduler and the sampling accounting are driven by.
 *
 * The handler does the minimum: acknowledge the device, read the reference clock, classify
 * the interval, and hand the tick to the scheduler.  Everything else (rates, shares) is worked
 * out from these counters after the run.
 */
#include "kernel/tick.h"
#include "kernel/irq.h"
#include "sched/sched.h"

static struct tick_state ts;

static void tick_interrupt(struct trapframe *tf)
{
	uint64_t now;

	(void)tf;
	if (ts.src->ack && !ts.src->ack())
		return;
	now = refclock_read(ts.ref);
	/*
	 * The first tick may have waited, pending, while the kernel finished starting up with
	 * interrupts off, so the interval it ends belongs to the kernel, not to the device.
	 */
	if (ts.count == 0)
		ts.first_ref = now;
	else if (ts.count > 1)
		tick_stats_add(&ts.stats, now - ts.last_ref, ts.period_ref);
	ts.last_ref = now;
	ts.count++;
	sched_tick(now);
}

int tick_start(const struct tick_source *src, struct refclock *ref, uint32_t hz,
	       char *why, size_t whylen)
{
	ts = (struct tick_state){ .src = src, .ref = ref };
	if (src->start_periodic(hz, why, whylen) < 0)
		return -1;
	/* period_ps * freq / 1e12, split so that neither factor overflows 64 bits */
	/* Kept here: a device may forget its period once stopped, and the report comes after. */
	ts.period_ps = src->period_ps();
	ts.period_ref = ts.period_ps / 1000000 * ref->freq_hz / 1000000 +
			ts.period_ps % 1000000 * ref->freq_hz / 1000000000000ull;
	tick_source_connect(src, tick_interrupt);
	return 0;
}

void tick_stop(void)
{
	ts.src->stop();
	tick_source_connect(ts.src, 0);
}

void tick_source_connect(const struct tick_source *src, void (*fn)(struct trapframe *tf))
{
	if (src->connect)
		src->connect(fn);
	else if (fn)
		irq_register(src->irq, fn);
	else
		irq_unregister(src->irq);
}

const struct tick_state *tick_state(void)
{
	return &ts;
}
