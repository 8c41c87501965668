/*
 * Exact accounting: one running owner, one TSC mark.  See acct.h.
 *
 * Every transition calls acct_charge_to() with the TSC it read, so each cycle between
 * acct_begin() and acct_end() is charged to exactly one owner: a task or the interrupt bucket.
 */
#include <stddef.h>
#include "acct/acct.h"

static struct acct irq_acct;            /* the interrupt bucket */
static struct acct *owner;
static uint64_t mark;

void acct_begin(struct acct *first, uint64_t now)
{
	owner = first;
	mark = now;
	first->run_start = now;
	first->dispatches++;
}

void acct_charge_to(struct acct *next, uint64_t now)
{
	if (owner)
		owner->cycles += now - mark;
	mark = now;
	owner = next ? next : &irq_acct;
}

void acct_dispatch(struct acct *from, struct acct *to, uint64_t now)
{
	if (from && now - from->run_start > from->max_run_cycles)
		from->max_run_cycles = now - from->run_start;
	if (to) {
		to->run_start = now;
		to->dispatches++;
	}
}

void acct_end(uint64_t now)
{
	acct_charge_to(NULL, now);
	owner = NULL;
}

uint64_t acct_irq_cycles(void)
{
	return irq_acct.cycles;
}

uint64_t acct_cycles_now(const struct acct *a, uint64_t now)
{
	return a->cycles + (a == owner ? now - mark : 0);
}
