/*
 * Host tests of the tick's accounting decision (acct/tick_account.c) on synthetic tick streams
 * through a real tick clock: who each sampling method charges, what steal comes off, what
 * the verdict says about lost and extra ticks, and the ticks no probe could see.
 * Build: make build/host/test_tick_account
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "acct/tick_account.h"

/* A 1 GHz TSC, so that cycles are ns; 100 Hz ticks. */
#define HZ      1000000000ull
#define P       10000000ull
#define T0      1000ull                 /* the origin tick's time */

struct run {
	struct tickclock c;
	struct tick_account ta;
	struct acct a, b, sponge, idle;
	uint64_t seen;                  /* the probes' stolen total */
	struct tick_verdict v;
	enum tick_kind kind;
};

static void start(struct run *r, bool compensate, bool charge)
{
	*r = (struct run){ 0 };
	tickclock_init(&r->c, P * 1000, compensate);
	tick_account_init(&r->ta, HZ, P, charge ? &r->sponge : NULL);
	/* the spinners' busy loops have probed; the halted idle task never does */
	r->a.steal.primed = r->b.steal.primed = r->sponge.steal.primed = true;
}

/* The fixtures: a fresh run, with no sink for catch-up ticks or with the sponge charged. */
static struct run fixture;

static int no_sink(void **state)
{
	start(&fixture, false, false);
	*state = &fixture;
	return 0;
}

static int sponge_charged(void **state)
{
	start(&fixture, false, true);
	*state = &fixture;
	return 0;
}

static struct tick_verdict tick(struct run *r, uint64_t t_ns, struct acct *interrupted)
{
	bool over;

	r->kind = tickclock_tick(&r->c, t_ns, &over);
	r->v = account_process_tick(&r->ta, &r->c, r->kind, interrupted, r->seen);
	return r->v;
}

/* Ticks k = from..to exactly on time. */
static void steady(struct run *r, uint64_t from, uint64_t to, struct acct *interrupted)
{
	for (uint64_t k = from; k <= to; k++)
		tick(r, T0 + k * P, interrupted);
}

static uint64_t ticks_of(const struct run *r)
{
	return r->a.ticks + r->b.ticks + r->sponge.ticks + r->idle.ticks;
}

static void test_on_time_ticks_charge_the_interrupted_task(void **state)
{
	struct run *r = *state;

	steady(r, 0, 99, &r->a);
	steady(r, 100, 149, &r->b);
	assert_int_equal(r->a.ticks, 100);
	assert_int_equal(r->a.aware_ticks, 100);
	assert_int_equal(r->b.ticks, 50);
	assert_int_equal(r->b.aware_ticks, 50);
	assert_int_equal(r->a.taken + r->b.taken, 0);
	assert_int_equal(r->sponge.ticks, 0);
	assert_false(r->v.catchup || r->v.extra);
	assert_int_equal(r->v.owed, 0);
	assert_int_equal(r->v.lost, 0);
	assert_int_equal(r->ta.unseen_owed, 0);
}

/* Steal the probes saw inside a tick's own period comes off that tick, for its task. */
static void test_steal_in_the_period_comes_off_the_tick(void **state)
{
	struct run *r = *state;

	steady(r, 0, 10, &r->a);
	r->seen += 3000000;
	tick(r, T0 + 11 * P, &r->b);
	assert_int_equal(r->v.late_ns, 0);
	assert_int_equal(r->b.taken, 3000000);
	assert_int_equal(r->a.taken, 0);
	/* plain sampling knows nothing of it */
	assert_int_equal(r->b.ticks, 1);
	assert_int_equal(r->ta.ledger.taken, 3000000);
}

/*
 * A pause of 30 periods, paid back at 8 ticks a period (QEMU's RTC in slew mode); the probe
 * of the task that was stopped sees the whole gap at the tick that ends it.
 */
static void pause_then_catchup(struct run *r, struct acct *interrupted)
{
	unsigned sent = 0;
	uint64_t k;

	steady(r, 0, 100, interrupted);
	r->seen += 31 * P - P / 10;
	assert_int_equal(tick(r, T0 + 131 * P, interrupted).owed, 30);
	for (k = 131; sent < 30; k++) {
		for (unsigned j = 1; j < 8 && sent < 30; j++, sent++)
			tick(r, T0 + k * P + j * (P / 8), interrupted);
		tick(r, T0 + (k + 1) * P, interrupted);
	}
	steady(r, k + 1, k + 20, interrupted);
	assert_int_equal(r->c.owed, 0);
}

/* Ticks 51, 52 and 53 a period late each, after steady ones: 53's verdict is one lost. */
static void three_late(struct run *r)
{
	steady(r, 0, 50, &r->a);
	tick(r, T0 + 52 * P, &r->a);            /* tick 51, late */
	tick(r, T0 + 53 * P, &r->a);            /* 52, behind */
	tick(r, T0 + 54 * P, &r->a);            /* 53: one judged lost, none owed */
	assert_int_equal(r->v.lost, 1);
	assert_int_equal(r->v.owed, 0);
}

static void test_sponge_charge_takes_catchup_ticks_from_plain_sampling_only(void **state)
{
	struct run *r = *state;
	uint64_t catchup;

	pause_then_catchup(r, &r->a);
	catchup = r->c.kinds[TICK_KIND_CATCHUP];
	assert_true(catchup >= 29);
	assert_int_equal(r->sponge.ticks, catchup);
	assert_int_equal(r->sponge.catchup_ticks, catchup);
	assert_int_equal(r->a.ticks + catchup, r->c.delivered);
	assert_int_equal(r->a.catchup_ticks, 0);
	/* steal-aware sampling charges the task that ran, and the sponge nothing */
	assert_int_equal(r->a.aware_ticks, r->c.delivered);
	assert_int_equal(r->sponge.aware_ticks, 0);
	assert_int_equal(r->sponge.taken, 0);
	/* every stolen cycle was taken off a tick: the late one's period, then one a catch-up */
	assert_int_equal(r->a.taken, r->seen);
	assert_int_equal(steal_ledger_untaken(&r->ta.ledger), 0);
	assert_int_equal(r->ta.ledger.dropped, 0);
	assert_int_equal(r->ta.unseen_owed, 0);
}

/* A backlog's catch-up ticks all come with a tick owed: sponge=run was woken for each. */
static void test_catchup_after_a_pause_comes_with_ticks_owed(void **state)
{
	struct run *r = *state;

	pause_then_catchup(r, &r->a);
	assert_true(r->c.kinds[TICK_KIND_CATCHUP] >= 29);
	assert_int_equal(r->ta.catchup_unowed, 0);
}

/* A tick the clock judged lost that comes after all pays back a backlog already written off:
 * a catch-up tick with no tick owed before it, which nothing woke the sponge for. */
static void test_catchup_with_no_tick_owed_is_counted(void **state)
{
	struct run *r = *state;

	three_late(r);
	assert_int_equal(r->ta.catchup_unowed, 0);
	tick(r, T0 + 54 * P + P / 100, &r->a);  /* 54 came after all */
	assert_int_equal(r->kind, TICK_KIND_CATCHUP);
	assert_int_equal(r->ta.catchup_unowed, 1);
	steady(r, 55, 60, &r->a);
	assert_int_equal(r->ta.catchup_unowed, 1);
}

static void test_without_a_sink_catchup_ticks_go_to_the_interrupted_task(void **state)
{
	struct run *r = *state;

	pause_then_catchup(r, &r->a);
	assert_int_equal(r->a.ticks, r->c.delivered);
	assert_int_equal(r->a.catchup_ticks, r->c.kinds[TICK_KIND_CATCHUP]);
	assert_int_equal(r->sponge.ticks, 0);
	assert_int_equal(r->a.taken, r->seen);
}

/*
 * A gap that ends while the halted idle task has the CPU: no probe saw it, and the ticks it
 * left owed are counted once, when the backlog grows, not again while it is paid.
 */
static void test_owed_ticks_after_a_gap_no_probe_saw_are_counted_once(void **state)
{
	struct run *r = *state;

	r->seen = 0;
	steady(r, 0, 100, &r->idle);
	tick(r, T0 + 131 * P, &r->idle);
	assert_int_equal(r->v.owed, 30);
	assert_int_equal(r->ta.unseen_owed, 30);
	for (unsigned j = 1; j < 8; j++)
		tick(r, T0 + 131 * P + j * (P / 8), &r->idle);
	assert_int_equal(r->ta.unseen_owed, 30);
	assert_int_equal(r->idle.taken, 0);
	assert_int_equal(r->idle.ticks, r->c.delivered);

	/* the same gap ending in a spinner, whose probe saw it, is no blind spot */
	start(r, false, false);
	pause_then_catchup(r, &r->a);
	assert_int_equal(r->ta.unseen_owed, 0);
}

/* A device that merges the ticks of a pause: the verdict reports them lost once, and the
 * steal reserved for them is dropped, not charged to the ticks after. */
static void test_lost_ticks_are_reported_once_and_their_steal_dropped(void **state)
{
	struct run *r = *state;
	uint64_t lost = 0, lost_verdicts = 0;

	steady(r, 0, 100, &r->a);
	r->seen += 30 * P + 4 * P / 10 - P / 10;
	tick(r, T0 + 130 * P + 4 * P / 10, &r->a);
	assert_int_equal(r->v.owed, 29);
	for (uint64_t k = 131; k <= 140; k++) {
		tick(r, T0 + k * P, &r->a);
		lost += r->v.lost;
		lost_verdicts += r->v.lost > 0;
	}
	assert_int_equal(lost, 29);
	assert_int_equal(lost_verdicts, 1);
	assert_int_equal(r->c.lost, 29);
	assert_int_equal(r->ta.ledger.dropped, 29 * P);
	assert_int_equal(r->ta.ledger.taken + r->ta.ledger.dropped + steal_ledger_untaken(&r->ta.ledger),
			 r->seen);
	assert_int_equal(r->a.taken, r->ta.ledger.taken);
}

/* Ticks judged lost that come after all: the clock's count falls, and no verdict says lost. */
static void test_a_loss_taken_back_is_no_lost_verdict(void **state)
{
	struct run *r = *state;
	uint64_t lost = 0;

	three_late(r);
	lost += r->v.lost;
	tick(r, T0 + 54 * P + P / 100, &r->a);  /* 54 came after all */
	assert_int_equal(r->c.recovered, 1);
	assert_int_equal(r->c.lost, 0);
	assert_int_equal(r->v.lost, 0);
	steady(r, 55, 60, &r->a);
	assert_int_equal(r->v.lost, 0);
	assert_int_equal(lost, 1);
}

/* A tick that puts tick time further ahead than ever stands for no time: its whole period
 * comes off, once; ticks that stay as far ahead are charged as usual. */
static void test_an_extra_tick_is_taken_off_whole_once(void **state)
{
	struct run *r = *state;

	steady(r, 0, 50, &r->a);
	tick(r, T0 + 50 * P + P / 2, &r->a);
	assert_int_equal(r->kind, TICK_KIND_AHEAD);
	assert_true(r->v.extra);
	assert_int_equal(r->a.taken, P);
	steady(r, 51, 60, &r->a);
	assert_false(r->v.extra);
	assert_int_equal(r->c.owed, -1);
	assert_int_equal(r->a.taken, P);
	assert_int_equal(r->ta.ledger.extra, P);
	assert_int_equal(r->ta.ledger.taken, 0);
}

/* Outside the run (no task interrupted) a tick is classified and nothing is charged; the
 * verdicts in the run are taken against where those ticks left the clock. */
static void test_outside_the_run_ticks_are_classified_only(void **state)
{
	struct run *r = *state;

	steady(r, 0, 50, NULL);
	tick(r, T0 + 50 * P + P / 2, NULL);    /* an extra tick, before the run */
	assert_true(r->v.extra);
	assert_int_equal(r->ta.owed_min, -1);
	r->seen += 5000000;
	steady(r, 51, 60, NULL);
	assert_int_equal(ticks_of(r), 0);
	assert_int_equal(r->ta.ledger.seen, 0);
	assert_int_equal(r->ta.ledger.extra, 0);
	/* in the run: as far ahead as before is not extra; the steal is this tick's own */
	tick(r, T0 + 61 * P, &r->a);
	assert_false(r->v.extra);
	assert_int_equal(r->a.ticks, 1);
	assert_int_equal(r->a.taken, 5000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_on_time_ticks_charge_the_interrupted_task,
				       sponge_charged),
		cmocka_unit_test_setup(test_steal_in_the_period_comes_off_the_tick,
				       no_sink),
		cmocka_unit_test_setup(test_sponge_charge_takes_catchup_ticks_from_plain_sampling_only,
				       sponge_charged),
		cmocka_unit_test_setup(test_without_a_sink_catchup_ticks_go_to_the_interrupted_task,
				       no_sink),
		cmocka_unit_test_setup(test_catchup_after_a_pause_comes_with_ticks_owed,
				       no_sink),
		cmocka_unit_test_setup(test_catchup_with_no_tick_owed_is_counted,
				       no_sink),
		cmocka_unit_test_setup(test_owed_ticks_after_a_gap_no_probe_saw_are_counted_once,
				       no_sink),
		cmocka_unit_test_setup(test_lost_ticks_are_reported_once_and_their_steal_dropped,
				       no_sink),
		cmocka_unit_test_setup(test_a_loss_taken_back_is_no_lost_verdict,
				       no_sink),
		cmocka_unit_test_setup(test_an_extra_tick_is_taken_off_whole_once,
				       no_sink),
		cmocka_unit_test_setup(test_outside_the_run_ticks_are_classified_only,
				       no_sink),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
