/*
 * Host tests of the tick clock (lib/tickclock.c) on synthetic tick streams: steady ticks,
 * a pause followed by catch-up, a pause whose ticks the device merged, ticks that bunch up
 * without being lost, and compensation that over-corrects.
 * Build: make build/host/test_tickclock
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/tickclock.h"

#define P_NS    10000000ull             /* 100 Hz */
#define P_PS    (P_NS * 1000)
#define LAT     20000ull                /* 20 us of delivery latency */

struct stream {
	struct tickclock c;
	uint64_t episodes_closed;
	enum tick_kind last;
};

static void start(struct stream *s, bool compensate)
{
	*s = (struct stream){ 0 };
	tickclock_init(&s->c, P_PS, compensate);
}

/* The fixtures: each test gets a fresh stream, its clock ignoring lost ticks or compensating. */
static struct stream fixture;

static int ignoring(void **state)
{
	start(&fixture, false);
	*state = &fixture;
	return 0;
}

static int compensating(void **state)
{
	start(&fixture, true);
	*state = &fixture;
	return 0;
}

static enum tick_kind tick(struct stream *s, uint64_t t_ns)
{
	bool over;

	s->last = tickclock_tick(&s->c, t_ns, &over);
	s->episodes_closed += over;
	return s->last;
}

/* Ticks k = from..to at their due times plus a latency that wobbles by up to 2 LAT. */
static void steady(struct stream *s, uint64_t from, uint64_t to)
{
	for (uint64_t k = from; k <= to; k++)
		tick(s, 1000 + k * P_NS + LAT * (1 + k % 3));
}

static void test_steady_ticks_are_on_time(void **state)
{
	struct stream *s = *state;

	steady(s, 0, 500);
	assert_int_equal(s->c.kinds[TICK_KIND_ON_TIME], 501);
	assert_int_equal(s->c.gaps, 0);
	assert_int_equal(s->c.lost, 0);
	assert_int_equal(s->c.owed, 0);
	assert_int_equal(tickclock_tick_ns(&s->c), 500 * P_NS);
	/* late by the latency's wobble only */
	assert_true(tickclock_late_ns(&s->c) <= 2 * LAT);
	/* behind by the latency's wobble only */
	assert_true(s->c.behind_ns >= -(int64_t)(2 * LAT) && s->c.behind_ns <= (int64_t)(2 * LAT));
	assert_true(s->c.max_behind_ns < (int64_t)P_NS / 2);
}

/*
 * A pause of 30 periods, then the device pays the 30 ticks back at 8 per period (QEMU's RTC
 * in slew mode), keeping its own ticks on schedule in between.
 */
static void test_pause_then_catchup(void **state)
{
	struct stream *s = *state;
	uint64_t t, k;
	unsigned owed_ticks = 30, sent = 0;

	steady(s, 0, 100);
	/* ticks 101..130 do not come; at resume (slot 131) the first one comes at once */
	t = 131 * P_NS + LAT;
	assert_int_equal(tick(s, t), TICK_KIND_LATE);
	assert_int_equal(s->c.owed, 30);
	/* due at 101, where its own period ended: thirty periods late */
	assert_in_range(tickclock_late_ns(&s->c), 30 * P_NS - 2 * LAT, 30 * P_NS + 2 * LAT);
	assert_true(s->c.behind_ns > (int64_t)(30 * P_NS - P_NS / 10) &&
		    s->c.behind_ns < (int64_t)(30 * P_NS + P_NS / 10));
	/* the rest: every P/8 a re-injected tick, the device's own every period */
	for (k = 131; sent < owed_ticks; k++) {
		for (unsigned j = 1; j < 8 && sent < owed_ticks; j++, sent++)
			tick(s, k * P_NS + j * (P_NS / 8) + LAT);
		tick(s, (k + 1) * P_NS + LAT);
	}
	assert_int_equal(s->c.owed, 0);
	assert_int_equal(s->c.lost, 0);
	assert_int_equal(s->c.gaps, 1);
	assert_int_equal(s->c.missed, 30);
	/*
	 * Every tick that came while the backlog was one or more after counting it: the first
	 * 29 re-injected ones (the 30th closes the backlog) and the device's own ticks of the
	 * four periods the 30 took (7 a period), which came behind time as well.
	 */
	assert_int_equal(s->c.kinds[TICK_KIND_CATCHUP], 29 + 4);
	assert_int_equal(s->c.kinds[TICK_KIND_LOST], 0);
	assert_int_equal(s->c.kinds[TICK_KIND_AHEAD], 0);
	assert_int_equal(s->c.episodes, 1);
	assert_int_equal(s->episodes_closed, 1);
	assert_int_equal(s->c.episode.peak, 30);
	assert_int_equal(s->c.episode.catchup, 29 + 4);
	/* caught up within five periods of the resume */
	assert_true(s->c.episode.end_ns - s->c.episode.start_ns <= 5 * P_NS);
	steady(s, k + 1, k + 50);
	assert_true(s->c.behind_ns < (int64_t)P_NS / 2);
}

/*
 * The same pause on a device that merges missed ticks (QEMU's PIT, LAPIC timer and HPET under
 * TCG): one tick at resume, off its grid, then the device's own ticks on the grid again.
 */
static void pause_merged(struct stream *s)
{
	steady(s, 0, 100);
	/* resume at 130.4 periods: the merged tick comes then, the next on the grid at 131 */
	assert_int_equal(tick(s, 130 * P_NS + 4 * P_NS / 10), TICK_KIND_LATE);
	assert_int_equal(s->c.owed, 29);
	assert_in_range(tickclock_late_ns(&s->c), 29 * P_NS, 29 * P_NS + P_NS / 2);
	/* two periods on the grid paying nothing: then the 29 are judged lost */
	assert_int_equal(tick(s, 131 * P_NS + LAT), TICK_KIND_BEHIND);
	assert_int_equal(tick(s, 132 * P_NS + LAT), TICK_KIND_LOST);
	/* counted as delivered, the lost ones put the grid back under the ticks */
	assert_true(tickclock_late_ns(&s->c) <= 2 * LAT);
	steady(s, 133, 200);
}

static void test_pause_merged_ticks_are_lost(void **state)
{
	struct stream *s = *state;

	pause_merged(s);
	assert_int_equal(s->c.lost, 29);
	assert_int_equal(s->c.kinds[TICK_KIND_CATCHUP], 0);
	assert_int_equal(s->c.owed, 0);
	assert_int_equal(s->c.episodes, 1);
	assert_int_equal(s->c.episode.lost, 29);
	/* ignored: tick time stays behind by the lost ticks, for good */
	assert_true(s->c.behind_ns >= (int64_t)(29 * P_NS) &&
		    s->c.behind_ns < (int64_t)(29 * P_NS + P_NS / 2));
	assert_int_equal(s->c.compensated, 0);
}

static void test_compensation_restores_tick_time(void **state)
{
	struct stream *s = *state;

	pause_merged(s);
	assert_int_equal(s->c.lost, 29);
	assert_int_equal(s->c.compensated, 29);
	assert_int_equal(s->c.overcorrected, 0);
	assert_true(s->c.behind_ns >= 0 && s->c.behind_ns < (int64_t)P_NS / 2);
	/* never ahead by as much as half a period: no over-correction */
	assert_true(s->c.max_ahead_ns > -(int64_t)P_NS / 2);
	assert_int_equal(s->c.kinds[TICK_KIND_AHEAD], 0);
}

/*
 * The tick held over a pause is taken at the resume, 0.8 periods into a period, and the
 * device's next one follows at once: two in one slot.  That is one tick bunched, not a device
 * catching up: one catch-up tick, the 29 merged ones lost, no more.
 */
static void test_resume_bunch_is_one_catchup(void **state)
{
	struct stream *s = *state;

	steady(s, 0, 100);
	assert_int_equal(tick(s, 130 * P_NS + 8 * P_NS / 10), TICK_KIND_LATE);
	assert_int_equal(tick(s, 131 * P_NS + LAT), TICK_KIND_CATCHUP);
	assert_int_equal(tick(s, 132 * P_NS + LAT), TICK_KIND_BEHIND);
	assert_int_equal(tick(s, 133 * P_NS + LAT), TICK_KIND_BEHIND);
	assert_int_equal(tick(s, 134 * P_NS + LAT), TICK_KIND_LOST);
	steady(s, 135, 200);
	assert_int_equal(s->c.kinds[TICK_KIND_CATCHUP], 1);
	assert_int_equal(s->c.lost, 29);
	assert_int_equal(s->c.owed, 0);
}

/*
 * The origin tick came 0.4 periods late (a loaded host), the rest on time: they look early by
 * the origin's grid, which moves back to them.  Nothing is ahead, and behind-by is the latency.
 */
static void test_late_origin_moves_back(void **state)
{
	struct stream *s = *state;

	tick(s, 4 * P_NS / 10 + LAT);
	steady(s, 1, 300);
	assert_int_equal(s->c.kinds[TICK_KIND_AHEAD], 0);
	assert_int_equal(s->c.kinds[TICK_KIND_ON_TIME], 301);
	assert_int_equal(s->c.origin_ns, 1000 + LAT);
	assert_true(s->c.behind_ns >= 0 && s->c.behind_ns <= (int64_t)(2 * LAT));
}

/*
 * A device that delivers one tick too many after the warm-up is ahead: the origin does not
 * move back by more than a quarter period once the first ticks have set it.
 */
static void test_extra_tick_after_warmup_is_ahead(void **state)
{
	struct stream *s = *state;

	steady(s, 0, 50);
	assert_int_equal(tick(s, 50 * P_NS + P_NS / 2), TICK_KIND_AHEAD);
	assert_int_equal(s->c.owed, -1);
}

/*
 * A loaded host: the tick at resume and the two after it all come 0.6 periods late.  Rounded
 * to the nearest period, each would show one tick more owed than is missing, and 30 would be
 * judged lost for 29 merged.  The device then ticks on its grid again; exactly the 29 are
 * judged lost, and compensation does not overshoot.
 */
static void test_late_tick_after_pause_does_not_overcorrect(void **state)
{
	struct stream *s = *state;

	steady(s, 0, 100);
	assert_int_equal(tick(s, 130 * P_NS + 6 * P_NS / 10), TICK_KIND_LATE);
	assert_int_equal(tick(s, 131 * P_NS + 6 * P_NS / 10), TICK_KIND_BEHIND);
	assert_int_equal(tick(s, 132 * P_NS + 6 * P_NS / 10), TICK_KIND_LOST);
	steady(s, 133, 200);
	assert_int_equal(s->c.lost, 29);
	assert_int_equal(s->c.compensated, 29);
	assert_int_equal(s->c.overcorrected, 0);
	assert_int_equal(s->c.kinds[TICK_KIND_AHEAD], 0);
	assert_true(s->c.behind_ns >= 0 && s->c.behind_ns < (int64_t)P_NS / 2);
}

/* One tick late by 1.3 periods, the next on time: bunched, not lost, and no catch-up either. */
static void test_bunched_ticks_are_not_lost(void **state)
{
	struct stream *s = *state;

	steady(s, 0, 50);
	assert_int_equal(tick(s, 51 * P_NS + 13 * P_NS / 10), TICK_KIND_LATE);
	assert_int_equal(tick(s, 52 * P_NS + 14 * P_NS / 10 - P_NS + LAT), TICK_KIND_ON_TIME);
	steady(s, 53, 100);
	assert_int_equal(s->c.lost, 0);
	assert_int_equal(s->c.compensated, 0);
	assert_int_equal(s->c.kinds[TICK_KIND_CATCHUP], 0);
	assert_int_equal(s->c.kinds[TICK_KIND_AHEAD], 0);
	assert_int_equal(s->c.gaps, 1);
	assert_int_equal(s->c.owed, 0);
}

/*
 * Three ticks in a row late by a whole period look like a merged tick that the device does not
 * pay back; then the bunched-up one arrives.  Without compensation the judgement is taken back
 * (and the tick counts as catch-up); with it, tick time ends up a period ahead of the
 * reference: the over-correction old Linux made, counted and left visible.
 */
static enum tick_kind late_thrice_then_bunch(struct stream *s)
{
	enum tick_kind k54;

	steady(s, 0, 50);
	assert_int_equal(tick(s, 52 * P_NS + LAT), TICK_KIND_LATE);             /* tick 51 */
	assert_int_equal(tick(s, 53 * P_NS + LAT), TICK_KIND_BEHIND);           /* tick 52 */
	assert_int_equal(tick(s, 54 * P_NS + LAT), TICK_KIND_LOST);             /* tick 53 */
	k54 = tick(s, 54 * P_NS + 2 * LAT);                                     /* tick 54 */
	steady(s, 55, 100);
	return k54;
}

static void test_late_ticks_judged_lost_are_taken_back(void **state)
{
	struct stream *s = *state;

	/* the tick judged lost came after all: taken back, and tick time is not ahead */
	assert_int_equal(late_thrice_then_bunch(s), TICK_KIND_CATCHUP);
	assert_int_equal(s->c.kinds[TICK_KIND_AHEAD], 0);
	assert_int_equal(s->c.lost, 0);
	assert_int_equal(s->c.recovered, 1);
	assert_int_equal(s->c.overcorrected, 0);
	assert_int_equal(s->c.owed, 0);
	assert_int_equal(s->last, TICK_KIND_ON_TIME);
	assert_true(s->c.behind_ns >= 0 && s->c.behind_ns < (int64_t)P_NS / 2);
}

static void test_compensation_overcorrects_visibly(void **state)
{
	struct stream *s = *state;

	assert_int_equal(late_thrice_then_bunch(s), TICK_KIND_AHEAD);
	assert_int_equal(s->c.compensated, 1);
	assert_int_equal(s->c.overcorrected, 1);         /* counted once, not at every tick after */
	assert_int_equal(s->c.owed, -1);
	assert_int_equal(s->last, TICK_KIND_AHEAD);
	assert_true(s->c.behind_ns <= -(int64_t)P_NS / 2);
	assert_true(s->c.max_ahead_ns <= -(int64_t)P_NS / 2);
}

/* A gap of one missing tick whose tick the device then pays back (two in one slot). */
static void test_single_missed_tick_paid_back(void **state)
{
	struct stream *s = *state;

	steady(s, 0, 20);
	assert_int_equal(tick(s, 22 * P_NS + LAT), TICK_KIND_LATE);
	assert_int_equal(s->c.owed, 1);
	assert_int_equal(tick(s, 22 * P_NS + P_NS / 4), TICK_KIND_ON_TIME);
	assert_int_equal(s->c.lost, 0);
	assert_int_equal(s->c.episodes, 1);
	assert_int_equal(s->episodes_closed, 1);
}

static void test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(tickclock_kind_name(TICK_KIND_CATCHUP), "catchup");
	assert_string_equal(tickclock_kind_name(TICK_KIND_LOST), "lost");
	assert_string_equal(tickclock_kind_name(TICK_NR_KINDS), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_steady_ticks_are_on_time, ignoring),
		cmocka_unit_test_setup(test_pause_then_catchup, ignoring),
		cmocka_unit_test_setup(test_pause_merged_ticks_are_lost, ignoring),
		cmocka_unit_test_setup(test_compensation_restores_tick_time, compensating),
		cmocka_unit_test_setup(test_late_tick_after_pause_does_not_overcorrect, compensating),
		cmocka_unit_test_setup(test_late_origin_moves_back, ignoring),
		cmocka_unit_test_setup(test_resume_bunch_is_one_catchup, ignoring),
		cmocka_unit_test_setup(test_extra_tick_after_warmup_is_ahead, ignoring),
		cmocka_unit_test_setup(test_bunched_ticks_are_not_lost, compensating),
		cmocka_unit_test_setup(test_late_ticks_judged_lost_are_taken_back, ignoring),
		cmocka_unit_test_setup(test_compensation_overcorrects_visibly, compensating),
		cmocka_unit_test_setup(test_single_missed_tick_paid_back, ignoring),
		cmocka_unit_test(test_kind_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
