/*
 * Reading a reference clock as a 64-bit count, whatever the width of its hardware counter.
 *
 * Pure code (it only calls the clock's read_raw), so the host unit tests can drive it with a
 * fake counter: tests/unit/test_refclock.c.
 *
 * A counter narrower than 64 bits wraps to zero; the extension counts those wraps.  It can only
 * see a wrap as "the counter went backwards since the last read", so two reads further apart
 * than one wrap period lose a whole wrap without a trace.  The periods that matter here: the
 * 24-bit ACPI PM timer wraps every 2^24 / 3.579545 MHz = 4.69 s, a 32-bit one every 20 min, a
 * 32-bit HPET at 100 MHz every 43 s.  Whoever owns such a clock must read it more often than
 * that (the tick handler does, at every tick).
 *
 * Not reentrant: an interrupt handler and the code it interrupted must not both read the same
 * narrow clock, or one of them may count a wrap the other already counted.
 */
#include "kernel/tick.h"

uint64_t refclock_read(struct refclock *c)
{
	uint64_t raw = c->read_raw();

	if (c->width >= 64)
		return raw;
	/* The counter wrapped if it went backwards since the last read. */
	if (raw < c->last_raw)
		c->wraps++;
	c->last_raw = raw;
	return (c->wraps << c->width) | raw;
}

void refclock_restart(struct refclock *c)
{
	c->last_raw = c->read_raw();
	c->wraps = 0;
}
