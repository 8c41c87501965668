/* The tick clock; see tickclock.h for the rules and why. */
#include "lib/tickclock.h"

#define PS_PER_NS 1000

void tickclock_init(struct tickclock *c, uint64_t period_ps, bool compensate)
{
	*c = (struct tickclock){ .period_ps = period_ps, .compensate = compensate };
}

uint64_t tickclock_tick_ns(const struct tickclock *c)
{
	if (!c->started)
		return 0;
	return (c->delivered - 1 + c->compensated) * c->period_ps / PS_PER_NS;
}

uint64_t tickclock_late_ns(const struct tickclock *c)
{
	uint64_t due_ns;

	if (!c->started)
		return 0;
	due_ns = c->origin_ns + (c->delivered - 1 + c->lost) * c->period_ps / PS_PER_NS;
	return c->now_ns > due_ns ? c->now_ns - due_ns : 0;
}

const char *tickclock_kind_name(enum tick_kind k)
{
	static const char *const names[TICK_NR_KINDS] = {
		[TICK_KIND_ON_TIME] = "on_time", [TICK_KIND_LATE] = "late",
		[TICK_KIND_CATCHUP] = "catchup", [TICK_KIND_LOST] = "lost",
		[TICK_KIND_AHEAD] = "ahead", [TICK_KIND_BEHIND] = "behind",
	};

	return (unsigned)k < TICK_NR_KINDS ? names[k] : "?";
}

static void update_behind(struct tickclock *c)
{
	c->behind_ns = (int64_t)(c->now_ns - c->origin_ns) - (int64_t)tickclock_tick_ns(c);
	if (c->behind_ns > c->max_behind_ns)
		c->max_behind_ns = c->behind_ns;
	if (c->behind_ns < c->max_ahead_ns)
		c->max_ahead_ns = c->behind_ns;
}

/* The backlog is gone: close the episode, if one was open. */
static bool close_episode(struct tickclock *c)
{
	uint64_t len;

	if (!c->in_episode)
		return false;
	c->in_episode = false;
	c->episode.end_ns = c->now_ns;
	len = c->episode.end_ns - c->episode.start_ns;
	if (len > c->longest_episode_ns)
		c->longest_episode_ns = len;
	return true;
}

/*
 * Judge the backlog lost: the device is ticking at its nominal rate and not paying it.
 * Returns how many ticks were judged.
 */
static int64_t judge_lost(struct tickclock *c, int64_t owed)
{
	/* both ticks saw the backlog; a late one sees one tick too many, so take the smaller */
	if (c->owed_at_slot < owed)
		owed = c->owed_at_slot;
	c->lost += (uint64_t)owed;
	if (c->compensate)
		c->compensated += (uint64_t)owed;
	c->episode.lost += (uint64_t)owed;
	return owed;
}

/* More ticks than periods.  Some judged lost may simply have come late: take those back. */
static int64_t ahead(struct tickclock *c, int64_t owed)
{
	uint64_t extra = (uint64_t)-owed;

	if (c->compensate) {
		/* Tick time already counted them: it is ahead now, and stays so, visibly.  Count
		 * each tick too many once, not again at every tick that still finds it ahead. */
		uint64_t before = c->owed < 0 ? (uint64_t)-c->owed : 0;

		if (extra > before)
			c->overcorrected += extra - before;
		return owed;
	}
	if (extra > c->lost)
		extra = c->lost;
	c->lost -= extra;
	c->recovered += extra;
	return owed + (int64_t)extra;
}

/*
 * The origin is a tick, and that tick had a latency of its own.  A later tick that comes
 * earlier than its due time by the origin shows the origin was late by that much: move the
 * origin back, so that the grid sits at the smallest latency seen.  In the first
 * TICKCLOCK_WARMUP ticks this goes as far as needed (the origin tick may have waited behind
 * the kernel); after them only within a tick's slot, so that a device that really delivers
 * too many ticks is still seen ahead.
 */
static void reanchor(struct tickclock *c, uint64_t now_ns)
{
	uint64_t due_ps = (c->delivered - 1 + c->lost) * c->period_ps;
	uint64_t elapsed_ps = (now_ns - c->origin_ns) * PS_PER_NS;
	uint64_t early_ps;

	if (elapsed_ps >= due_ps || c->lost || c->compensated)
		return;
	early_ps = due_ps - elapsed_ps;
	if (c->delivered <= TICKCLOCK_WARMUP || early_ps <= c->period_ps / 4)
		c->origin_ns -= early_ps / PS_PER_NS;
}

enum tick_kind tickclock_tick(struct tickclock *c, uint64_t now_ns, bool *episode_over)
{
	uint64_t slot;
	int64_t owed;
	bool new_slot;
	enum tick_kind kind;

	*episode_over = false;
	if (!c->started) {
		c->started = true;
		c->origin_ns = c->now_ns = now_ns;
		c->delivered = 1;
		c->kinds[TICK_KIND_ON_TIME]++;
		return TICK_KIND_ON_TIME;
	}
	c->now_ns = now_ns;
	c->delivered++;
	reanchor(c, now_ns);
	/*
	 * A tick is never early, only late, so the slot window is lopsided: a quarter period
	 * before the due time (the origin tick's own latency may exceed a later tick's) to three
	 * quarters after.  A late tick wrongly put in the next slot would make one tick too many
	 * look owed, and judged lost, and over-corrected.
	 */
	slot = ((now_ns - c->origin_ns) * PS_PER_NS + c->period_ps / 4) / c->period_ps;
	new_slot = slot != c->slot;
	owed = (int64_t)(slot + 1) - (int64_t)(c->delivered + c->lost);

	if (owed > 0 && owed > c->owed) {
		kind = TICK_KIND_LATE;
		c->stalled = 0;
		c->gaps++;
		c->missed += (uint64_t)(owed - (c->owed > 0 ? c->owed : 0));
		if (!c->in_episode) {
			c->in_episode = true;
			c->episodes++;
			c->episode = (struct tick_episode){ .start_ns = now_ns };
		}
	} else if (owed > 0 && new_slot && slot == c->slot + 1 && owed >= c->owed_at_slot) {
		/* a whole period at the nominal rate, none of the backlog paid */
		if (++c->stalled < TICKCLOCK_STALL_SLOTS) {
			kind = TICK_KIND_BEHIND;
		} else {
			kind = TICK_KIND_LOST;
			owed -= judge_lost(c, owed);
			c->stalled = 0;
		}
	} else if (owed > 0 && new_slot && slot == c->slot + 1 && owed + 1 == c->owed_at_slot) {
		/*
		 * The slot before paid one tick: two came close together, as when the tick held
		 * over a pause is taken at the resume just before the next one is due.  That is a
		 * bunch, not a device catching up: this tick came on schedule, paying nothing.
		 */
		kind = TICK_KIND_BEHIND;
		c->stalled = 0;
	} else if (owed > 0) {
		kind = TICK_KIND_CATCHUP;
		c->episode.catchup++;
		if (new_slot)
			c->stalled = 0;
	} else if (owed < 0) {
		owed = ahead(c, owed);
		/* taken back in full: a tick judged lost came after all, paying its backlog */
		kind = owed < 0 ? TICK_KIND_AHEAD : TICK_KIND_CATCHUP;
	} else {
		kind = TICK_KIND_ON_TIME;
	}
	if (c->in_episode && owed > c->episode.peak)
		c->episode.peak = owed;
	if (owed <= 0)
		*episode_over = close_episode(c);
	if (new_slot) {
		c->slot = slot;
		c->owed_at_slot = owed;
	}
	c->owed = owed;
	c->kinds[kind]++;
	update_behind(c);
	return kind;
}
