/*
 * The tick clock: time kept by counting ticks, held against a reference clock that keeps real
 * time, tick by tick.  Pure arithmetic on nanosecond timestamps, tested on the host
 * (tests/unit/test_tickclock.c); kernel/tick.c feeds it one reference reading per tick.
 *
 * Slots.  Tick k is due k periods after the origin tick, which is the second tick (the first
 * may have waited behind the kernel's start-up), moved back whenever a later tick comes before
 * its due time: the grid sits at the smallest latency seen.  The reference time of a tick, in
 * whole periods from a quarter period before each due time, is the slot it arrived in; in
 * steady state tick k arrives in slot k, whatever its latency, as long as that stays under
 * three quarters of a period.  After each tick
 *
 *     owed = (slot + 1) - (ticks delivered + ticks judged lost)
 *
 * is the backlog the device still owes, in whole ticks.  What a tick is:
 *   on time   owed is 0;
 *   late      owed grew: the interval it ends spans slots without a tick (a gap: the vCPU did
 *             not run, or the device merged ticks); the missing ticks are owed from now on;
 *   catch-up  owed is at least 1 and did not grow, and some of the backlog was paid since the
 *             slot before: it came while tick time was behind by a period or more, as part
 *             of paying the backlog back;
 *   behind    owed is at least 1 and the tick came on the device's schedule, a period after
 *             the slot before, paying none of it (or the slot before paid just one: two
 *             ticks bunched, as at a resume, is not a device catching up);
 *   ahead     owed is below 0: more ticks than periods have passed.
 * A device either pays a backlog back (catch-up) or never will (it merged the ticks: lost).  The
 * clock tells them apart at the first tick of each new slot: if the backlog has not shrunk
 * since the first tick of the slot before, a whole period went by at the nominal rate without
 * catch-up.  After TICKCLOCK_STALL_SLOTS such periods in a row the backlog is judged lost
 * (that tick is of kind "lost"): the smaller of the last two slots' figures, since a tick more
 * than 3/4 period late sees one too many.  Two periods, not one: a loaded host can hold a
 * catch-up device up for a period.  So a device must pay a backlog back at more than one tick
 * every two periods to be seen catching up; QEMU's RTC in slew mode re-injects at two to eight
 * a period.  A tick judged lost that comes after all is taken back and counts as catch-up.
 *
 * Lost ticks and compensation.  With compensation the lost ticks are added to tick time when
 * they are judged lost, never before: a tick that is merely late (bunched with the next) is not
 * lost, and counting it at once is how old Linux's clock=tsc gained time.  If ticks judged lost
 * turn up after all (tick time then ahead by a period or more), that is over-correction: with
 * compensation it is counted and left visible in behind-by; without, the judgement is undone.
 */
#ifndef TICKGUEST_TICKCLOCK_H
#define TICKGUEST_TICKCLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Ticks in which the origin may move back by any amount (see reanchor() in tickclock.c). */
#define TICKCLOCK_WARMUP        8
/* Slots in a row without any catch-up before a backlog is judged lost. */
#define TICKCLOCK_STALL_SLOTS   2

enum tick_kind {
	TICK_KIND_ON_TIME,
	TICK_KIND_LATE,
	TICK_KIND_CATCHUP,
	TICK_KIND_LOST,         /* on time, and it showed the backlog before it was merged */
	TICK_KIND_AHEAD,
	TICK_KIND_BEHIND,       /* on the device's schedule while a backlog stands, paying none */
	TICK_NR_KINDS,
};

/* One backlog, from the tick that opened it to the one that closed it. */
struct tick_episode {
	uint64_t start_ns, end_ns;      /* reference time of those two ticks */
	int64_t peak;                   /* largest backlog, in ticks */
	uint64_t catchup;               /* catch-up ticks delivered in it */
	uint64_t lost;                  /* ticks judged lost in it */
};

struct tickclock {
	uint64_t period_ps;
	bool compensate;

	bool started;
	uint64_t origin_ns;             /* the origin tick's reference time */
	uint64_t now_ns;                /* the latest tick's */
	uint64_t delivered;             /* ticks since the origin, the origin included */
	uint64_t lost;                  /* judged lost (merged by the device) */
	uint64_t compensated;           /* added to tick time for them */
	uint64_t recovered;             /* judged lost, then delivered after all (no compensation) */
	uint64_t overcorrected;         /* compensated for, then delivered after all */
	uint64_t slot;                  /* the latest tick's slot */
	int64_t owed;                   /* backlog after the latest tick, in ticks */
	int64_t owed_at_slot;           /* backlog after the first tick of the latest slot */
	unsigned stalled;               /* slots in a row that paid none of the backlog */
	uint64_t kinds[TICK_NR_KINDS];
	uint64_t gaps;                  /* late ticks */
	uint64_t missed;                /* ticks missing in those gaps */
	int64_t behind_ns;              /* reference time - tick time, after the latest tick */
	int64_t max_behind_ns, max_ahead_ns;    /* max_ahead_ns: the most negative behind_ns */

	bool in_episode;
	struct tick_episode episode;    /* the one in progress, or the latest */
	uint64_t episodes;
	uint64_t longest_episode_ns;
};

void tickclock_init(struct tickclock *c, uint64_t period_ps, bool compensate);
/*
 * One tick at reference time now_ns (monotonic).  The first call sets the origin.  Returns
 * what the tick was; *episode_over is set when this tick closed a backlog (c->episode has it).
 */
enum tick_kind tickclock_tick(struct tickclock *c, uint64_t now_ns, bool *episode_over);
/* Tick time since the origin: ticks counted, plus compensation, in periods. */
uint64_t tickclock_tick_ns(const struct tickclock *c);
/*
 * How long after its due time the latest tick came (0 when it came early).  Tick k is due k
 * periods after the origin, counting the ticks judged lost as delivered: after a gap the
 * late tick is due where its own period ended, while the ticks after a backlog judged lost are
 * due on the device's grid again.  Stolen time inside that lateness belongs to the periods
 * after this tick's own (acct/steal.h).
 */
uint64_t tickclock_late_ns(const struct tickclock *c);
/* Backlog still owed (0 when none): what a sponge waits for. */
static inline uint64_t tickclock_owed(const struct tickclock *c)
{
	return c->owed > 0 ? (uint64_t)c->owed : 0;
}
const char *tickclock_kind_name(enum tick_kind k);

#endif
