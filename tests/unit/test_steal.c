/*
 * Host tests of the stolen-time probe (acct/steal.c): a loop's own exact time, probed once an
 * iteration, with and without gaps; and of the ledger that takes the steal off the ticks.
 * Build: make build/host/test_steal
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "acct/steal.h"

#define ITER    300u            /* cycles an iteration takes */
#define THRESH  230000u         /* 100 us at 2.3 GHz */
#define LONG    23000000u       /* 10 ms, a tick period at 100 Hz */

static void test_steady_loop_steals_nothing(void **state)
{
	struct steal_probe p = { 0 };
	uint64_t own = 5000;

	(void)state;
	for (int i = 0; i < 1000; i++, own += ITER + (uint64_t)(i % 7) * 10)
		assert_int_equal(steal_observe(&p, own, THRESH, LONG), 0);
	assert_int_equal(p.stolen, 0);
	assert_int_equal(p.events, 0);
	assert_int_equal(p.probes, 1000);
	assert_int_equal(p.noise_max, ITER + 60);
}

static void test_gap_over_threshold_is_stolen(void **state)
{
	struct steal_probe p = { 0 };
	uint64_t own = 0;

	(void)state;
	steal_observe(&p, own, THRESH, LONG);
	steal_observe(&p, own += ITER, THRESH, LONG);
	/* a 300 ms pause */
	assert_int_equal(steal_observe(&p, own += 690000000u, THRESH, LONG), 690000000u);
	steal_observe(&p, own += ITER, THRESH, LONG);
	/* exactly the threshold is not a gap; one cycle more is */
	assert_int_equal(steal_observe(&p, own += THRESH, THRESH, LONG), 0);
	assert_int_equal(steal_observe(&p, own += THRESH + 1, THRESH, LONG), THRESH + 1);
	assert_int_equal(p.events, 2);
	assert_int_equal(p.events_long, 1);
	assert_int_equal(p.stolen, 690000000u + THRESH + 1);
	/* only the pause was a tick period or more */
	assert_int_equal(p.stolen_long, 690000000u);
	assert_int_equal(p.longest, 690000000u);
	assert_int_equal(p.noise_max, THRESH);
}

/* The first probe only sets the mark: whatever the task did before is not a gap. */
static void test_first_probe_primes(void **state)
{
	struct steal_probe p = { 0 };

	(void)state;
	assert_int_equal(steal_observe(&p, 123456789u, THRESH, LONG), 0);
	assert_int_equal(steal_observe(&p, 123456789u + ITER, THRESH, LONG), 0);
	assert_int_equal(p.stolen, 0);
}

/* Gaps sorted by decade of the threshold: < T/10, < T, < 10 T, < 100 T, more. */
static void test_decades(void **state)
{
	struct steal_probe p = { 0 };
	uint64_t own = 0;
	const uint64_t gaps[] = { 1, THRESH / 10 - 1, THRESH / 10, THRESH, THRESH + 1,
				  10 * THRESH, 100 * THRESH, 1000000 * (uint64_t)THRESH };

	(void)state;
	steal_observe(&p, own, THRESH, LONG);
	for (unsigned i = 0; i < sizeof(gaps) / sizeof(gaps[0]); i++)
		steal_observe(&p, own += gaps[i], THRESH, LONG);
	assert_int_equal(p.decades[0], 2);
	assert_int_equal(p.decades[1], 1);
	assert_int_equal(p.decades[2], 2);      /* T itself is not stolen, but not under T */
	assert_int_equal(p.decades[3], 1);
	assert_int_equal(p.decades[4], 2);
}

/* -- the ledger of steal-aware sampling: a 10 ms period, in 1 GHz cycles (ns) */

#define P       10000000u
#define MS      1000000u

/* One tick of the ledger, with the probes' total so far and the tick clock's view. */
static uint64_t tick(struct steal_ledger *l, uint64_t seen, uint64_t owed, uint64_t lost,
		     uint64_t late)
{
	struct steal_tick t = { .owed = owed, .lost = lost, .late = late };

	return steal_ledger_tick(l, seen, &t);
}

/* The fixture of every ledger test: a fresh ledger of a 10 ms period. */
static int ledger_of_a_period(void **state)
{
	static struct steal_ledger l;

	l = (struct steal_ledger){ .period = P };
	*state = &l;
	return 0;
}

#define LEDGER_TEST(f) cmocka_unit_test_setup(f, ledger_of_a_period)

/* All the steal the probes saw has been taken off the ticks, once: none left, none twice. */
static void assert_all_taken(const struct steal_ledger *l, uint64_t seen)
{
	assert_int_equal(l->taken, seen);
	assert_int_equal(steal_ledger_untaken(l), 0);
}

/* Steal in slices shorter than a period (a contended host), ticks on time: each tick takes
 * what it saw. */
static void test_ledger_takes_short_steal_at_the_tick_that_saw_it(void **state)
{
	struct steal_ledger *l = *state;

	assert_int_equal(tick(l, 0, 0, 0, 0), 0);
	assert_int_equal(tick(l, 3 * MS, 0, 0, 0), 3 * MS);
	assert_int_equal(tick(l, 3 * MS, 0, 0, 0), 0);
	assert_int_equal(tick(l, 9 * MS, 0, 0, 0), 6 * MS);
	assert_all_taken(l, 9 * MS);
}

/*
 * A gap of 0.9 period over a due time, the tick coming 0.5 period late (not owed): the 0.4
 * before its due time is its own, the 0.5 after it belongs to the next period, whoever runs
 * then.
 */
static void test_ledger_carries_steal_after_the_due_time(void **state)
{
	struct steal_ledger *l = *state;

	assert_int_equal(tick(l, 9 * MS, 0, 0, 5 * MS), 4 * MS);
	assert_int_equal(l->carry, 5 * MS);
	assert_int_equal(tick(l, 9 * MS, 0, 0, 0), 5 * MS);
	assert_int_equal(tick(l, 9 * MS, 0, 0, 0), 0);
}

/* More steal than a period before the due time (the tick before came early): the tick takes
 * its period, never more, and the rest waits for the next. */
static void test_ledger_never_takes_more_than_a_period(void **state)
{
	struct steal_ledger *l = *state;

	assert_int_equal(tick(l, 14 * MS, 0, 0, 0), P);
	assert_int_equal(l->carry, 4 * MS);
	assert_int_equal(tick(l, 14 * MS, 0, 0, 0), 4 * MS);
}

/*
 * A 300 ms pause on a device that catches up, 2 ms into a period: the tick held over it comes
 * at the resume, 292 ms after its due time, with 29 ticks owed.  It takes the 8 ms of its own
 * period; 290 ms are reserved for the 29 owed and 2 carried (the pause ran 2 ms into the
 * period after the last owed one).  Each catch-up tick takes a period, down to the last.  All
 * 300 ms taken, once.
 */
static void test_ledger_reserves_steal_for_catch_up_ticks(void **state)
{
	struct steal_ledger *l = *state;
	uint64_t late = 292 * MS;

	assert_int_equal(tick(l, 300 * MS, 29, 0, late), 8 * MS);
	assert_int_equal(l->reserved, 29ull * P);
	assert_int_equal(l->carry, 2 * MS);
	for (uint64_t owed = 28; owed > 0; owed--)
		assert_int_equal(tick(l, 300 * MS, owed, 0, late -= P), P);
	assert_int_equal(tick(l, 300 * MS, 0, 0, late -= P), P);   /* pays the last: on time */
	assert_int_equal(tick(l, 300 * MS, 0, 0, 0), 2 * MS);
	assert_all_taken(l, 300 * MS);
}

/*
 * A late tick with no steal seen: the device was late on its own (a loaded host held up the
 * thread that runs QEMU's timers while the vCPU ran), or the gap fell where no probe runs.
 * Nothing is reserved, so the ticks that pay the backlog charge their whole periods.
 */
static void test_ledger_late_ticks_without_steal_charge_in_full(void **state)
{
	struct steal_ledger *l = *state;

	assert_int_equal(tick(l, 0, 29, 0, 292 * MS), 0);
	for (uint64_t owed = 28; owed + 1 > 0; owed--)
		assert_int_equal(tick(l, 0, owed, 0, 0), 0);
	assert_int_equal(l->reserved_max, 0);
	/* the 29 owed periods ran, counted once though the backlog stood for 29 ticks */
	assert_int_equal(l->owed_ran, 29ull * P);
}

/*
 * The same pause on a device that merged the missed ticks: the ticks after the resume come
 * on schedule and really ran, so they take only the 2 ms of the period the pause ran into,
 * and when the clock judges the 29 lost their steal goes with them, not onto the ticks after.
 */
static void test_ledger_drops_steal_of_lost_ticks(void **state)
{
	struct steal_ledger *l = *state;

	assert_int_equal(tick(l, 300 * MS, 29, 0, 292 * MS), 8 * MS);
	assert_int_equal(tick(l, 300 * MS, 29, 0, 290 * MS), 2 * MS);     /* behind */
	assert_int_equal(tick(l, 300 * MS, 0, 29, 0), 0);                 /* judged lost */
	assert_int_equal(l->dropped, 29ull * P);
	assert_int_equal(l->owed_ran, 0);       /* the pause explains every owed period */
	assert_int_equal(steal_ledger_untaken(l), 0);
	assert_int_equal(tick(l, 300 * MS, 0, 0, 0), 0);
	assert_int_equal(l->taken, P);
}

/*
 * A gap of 1.8 periods from just after a tick: the late tick owes one, the next pays it.  The
 * late tick lands on the task that was robbed and takes its whole period; the next takes the
 * 0.8 left, and charges the 0.2 period that really ran to whoever ran it.
 */
static void test_ledger_gap_of_under_two_periods(void **state)
{
	struct steal_ledger *l = *state;

	assert_int_equal(tick(l, 18 * MS, 1, 0, 8 * MS), P);
	assert_int_equal(l->reserved, 8 * MS);
	assert_int_equal(tick(l, 18 * MS, 0, 0, 0), 8 * MS);
	assert_int_equal(l->taken, 18 * MS);
}

/* Extra ticks (tick time running ahead of the reference, as after a QMP stop with QEMU's RTC
 * on the host clock) stand for no time: taken off whole, apart from the steal, which waits. */
static void test_ledger_takes_extra_ticks_whole(void **state)
{
	struct steal_ledger *l = *state;
	struct steal_tick extra = { .extra = true };

	assert_int_equal(steal_ledger_tick(l, 3 * MS, &extra), P);
	assert_int_equal(steal_ledger_tick(l, 3 * MS, &extra), P);
	assert_int_equal(l->extra, 2ull * P);
	assert_int_equal(l->taken, 0);
	assert_int_equal(tick(l, 3 * MS, 0, 0, 0), 3 * MS);
}

/* Ticks judged lost with less steal seen than they stand for (part of the pause fell where no
 * probe runs): only what is there is dropped. */
static void test_ledger_drops_no_more_than_it_holds(void **state)
{
	struct steal_ledger *l = *state;

	assert_int_equal(tick(l, 50 * MS, 29, 0, 292 * MS), 0);
	assert_int_equal(l->reserved, 50 * MS);          /* short of the 29 periods owed */
	assert_int_equal(tick(l, 50 * MS, 0, 29, 0), 0);
	assert_int_equal(l->dropped, 50 * MS);
	assert_int_equal(steal_ledger_untaken(l), 0);
	/* the rest of the 29 periods ran with no tick: the vCPU had them */
	assert_int_equal(l->owed_ran, 29ull * P - 50 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steady_loop_steals_nothing),
		cmocka_unit_test(test_gap_over_threshold_is_stolen),
		cmocka_unit_test(test_first_probe_primes),
		cmocka_unit_test(test_decades),
		LEDGER_TEST(test_ledger_takes_short_steal_at_the_tick_that_saw_it),
		LEDGER_TEST(test_ledger_carries_steal_after_the_due_time),
		LEDGER_TEST(test_ledger_never_takes_more_than_a_period),
		LEDGER_TEST(test_ledger_reserves_steal_for_catch_up_ticks),
		LEDGER_TEST(test_ledger_late_ticks_without_steal_charge_in_full),
		LEDGER_TEST(test_ledger_drops_steal_of_lost_ticks),
		LEDGER_TEST(test_ledger_gap_of_under_two_periods),
		LEDGER_TEST(test_ledger_drops_no_more_than_it_holds),
		LEDGER_TEST(test_ledger_takes_extra_ticks_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
