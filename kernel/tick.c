/*
 * The tick: the one interrupt the scheduler and the sampling accounting are driven by.
 *
 * The handler acknowledges the device, reads the reference clock, classifies the interval
 * (lib/tickstat.h) and the tick (lib/tickclock.h), has the accounting decide what the
 * tick is worth (acct/tick_account.h), and hands the backlog to the scheduler.
 * Every stats= of reference time it formats a TimeTrackerStats pair of lines, and when a
 * backlog closes, one line saying how it went (docs/report.md has the format).  It only
 * queues them (kernel/console.h): written from here, at 115200 baud, a pair would hold every
 * interrupt off for some 25 ms, longer than a tick.  The console task writes them, woken
 * here, and its time is accounted like any task's (sched/sched.h).
 */
#include "kernel/tick.h"
#include "kernel/console.h"
#include "lib/format.h"
#include "kernel/irq.h"
#include "acct/stats.h"
#include "sched/sched.h"

#define PS_PER_NS       1000ull
#define NS_PER_US       1000ull
#define NS_PER_S        1000000000ull
#define PS_PER_S        1000000000000ull

static struct tick_state ts;

/* Reference time since tick_start(), in ns. */
static uint64_t ref_ns(uint64_t now)
{
	return cycles_to_ns(now - ts.start_ref, ts.ref->freq_hz);
}

/* x/y with two decimals, as text: the rates on a stats line. */
static const char *rate2(char *buf, size_t n, uint64_t x, uint64_t y)
{
	return fmt_fixed(buf, n, y ? (int64_t)(x * 100 / y) : 0, 2);
}

static void queue_stats(uint64_t now_ns)
{
	const struct tickclock *c = &ts.clock;
	uint64_t dt = now_ns - ts.stats_from_ns, ticks = ts.count - ts.stats_from_count;
	uint64_t dtick = tickclock_tick_ns(c) - ts.stats_from_tick_ns;
	uint64_t owed_total = now_ns * PS_PER_NS / ts.period_ps + 1;
	char at[24], per_s[24], avg[24], req[24], run[24];

	/* ticks per second to hundredths: ticks * 1e9 / ns, times 100 */
	rate2(per_s, sizeof(per_s), ticks * NS_PER_S, dt);
	rate2(avg, sizeof(avg), ts.count * NS_PER_S, now_ns);
	rate2(req, sizeof(req), PS_PER_S, ts.period_ps);
	/* one entry: a reader takes the second line for the device figures of the first */
	console_queue("# TimeTrackerStats at %s s: behind by %lld us, at most %lld us; running at "
		"%s%%; stolen %llu us\n"
		"# TimeTrackerStats %s: %llu ints, %s/sec, %s avg, %s req; %llu tot, %llu req; "
		"%llu catchup, %llu lost, %llu late, %llu ahead",
		fmt_fixed(at, sizeof(at), (int64_t)(now_ns / 1000000), 3),
		(long long)(c->behind_ns / (int64_t)NS_PER_US),
		(long long)(ts.stats_max_behind_ns / (int64_t)NS_PER_US),
		fmt_fixed(run, sizeof(run), dt ? (int64_t)(dtick * 1000 / dt) : 0, 1),
		(unsigned long long)cycles_to_us(sched_stolen_cycles(), sched_tsc_hz()),
		ts.src->name, (unsigned long long)ticks, per_s, avg, req, (unsigned long long)ts.count,
		(unsigned long long)owed_total, (unsigned long long)c->kinds[TICK_KIND_CATCHUP],
		(unsigned long long)c->lost, (unsigned long long)c->kinds[TICK_KIND_LATE],
		(unsigned long long)c->kinds[TICK_KIND_AHEAD]);
	ts.stats_lines++;
	ts.stats_max_behind_ns = INT64_MIN;     /* the next tick sets it */
	ts.stats_from_ns = now_ns;
	ts.stats_from_tick_ns = tickclock_tick_ns(c);
	ts.stats_from_count = ts.count;
}

static void queue_episode(void)
{
	const struct tick_episode *e = &ts.clock.episode;
	char at[24], len[24];

	console_queue("# TimeTrackerBacklog at %s s: %lld ticks behind at most; %llu catchup, "
		"%llu lost; closed after %s ms",
		fmt_fixed(at, sizeof(at), (int64_t)(e->start_ns / 1000000), 3), (long long)e->peak,
		(unsigned long long)e->catchup, (unsigned long long)e->lost,
		fmt_fixed(len, sizeof(len), (int64_t)((e->end_ns - e->start_ns) / NS_PER_US), 3));
}

static void tick_interrupt(struct trapframe *tf)
{
	uint64_t now, now_ns;
	enum tick_kind kind = TICK_KIND_ON_TIME;
	bool episode_over = false;

	(void)tf;
	if (ts.src->ack && !ts.src->ack())
		return;
	now = refclock_read(ts.ref);
	now_ns = ref_ns(now);
	/*
	 * The first tick may have waited, pending, while the kernel finished starting up with
	 * interrupts off, so the interval it ends belongs to the kernel, not to the device, and
	 * the tick clock takes its origin from the second.
	 */
	if (ts.count == 0)
		ts.first_ref = now;
	else if (ts.count > 1)
		tick_stats_add(&ts.stats, now - ts.last_ref, ts.period_ref);
	if (ts.count >= 1)
		kind = tickclock_tick(&ts.clock, now_ns, &episode_over);
	if (ts.count == 1) {
		/* the first stats interval starts at the tick clock's origin, as "running at" does */
		ts.stats_from_ns = now_ns;
		ts.stats_from_count = 1;
	}
	if (ts.clock.behind_ns > ts.stats_max_behind_ns)
		ts.stats_max_behind_ns = ts.clock.behind_ns;
	ts.last_ref = now;
	ts.count++;
	account_process_tick(&ts.acct, &ts.clock, kind, sched_interrupted(), sched_stolen_cycles());
	sched_tick(now, tickclock_owed(&ts.clock));
	if (episode_over)
		queue_episode();
	if (ts.opt.stats_us && now_ns >= ts.stats_next_ns) {
		queue_stats(now_ns);
		ts.stats_next_ns += ts.opt.stats_us * NS_PER_US;
	}
	if (console_queued())
		sched_console_wake();
}

int tick_start(const struct tick_source *src, struct refclock *ref, uint32_t hz,
	       const struct tick_options *opt, char *why, size_t whylen)
{
	ts = (struct tick_state){ .src = src, .ref = ref, .opt = *opt };
	if (src->start_periodic(hz, why, whylen) < 0)
		return -1;
	/* Kept here: a device may forget its period once stopped, and the report comes after. */
	ts.period_ps = src->period_ps();
	ts.period_ref = tick_period_in(ref->freq_hz);
	tickclock_init(&ts.clock, ts.period_ps, opt->compensate);
	tick_account_init(&ts.acct, opt->tsc_hz, tick_period_in(opt->tsc_hz), opt->catchup_sink);
	ts.start_ref = refclock_read(ref);
	ts.stats_next_ns = opt->stats_us * NS_PER_US;
	ts.stats_max_behind_ns = INT64_MIN;
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

uint64_t tick_period_in(uint64_t hz)
{
	/* period_ps * hz / 1e12, split so that neither factor overflows 64 bits */
	return ts.period_ps / 1000000 * hz / 1000000 + ts.period_ps % 1000000 * hz / PS_PER_S;
}

const struct tick_state *tick_state(void)
{
	return &ts;
}
