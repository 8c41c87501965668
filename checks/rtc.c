/*
 * The CMOS RTC held to its claims, against the TSC and a second reference (checks/checks.h).
 *
 * One session with IRQ 8 registered and interrupts on: the update-ended interrupt and the alarm
 * are on throughout, and the periodic interrupt is programmed at each rate in turn and judged
 * there; so the update interrupts land in the periodic runs, and the handler tells them apart
 * from ticks by register C, as a tick handler on the RTC must.  The CPU polls rather than halts:
 * nothing else is unmasked, and a halted CPU would wait forever for an RTC that never interrupts.
 */
#include "checks/checks.h"
#include "checks/rtc_session.h"
#include "checks/measure.h"
#include "acct/stats.h"
#include "acct/steal.h"
#include "drivers/rtc_cmos.h"
#include "lib/format.h"
#include "kernel/irq.h"
#include "kernel/report.h"
#include "kernel/x86.h"

/*
 * Rates.  Interrupts are counted over a TSC window that starts at one and closes half a period
 * after the N-th is due: delivered without loss, the count is exactly N (the N-th would have to
 * be half a period late to miss it, the (N+1)-th half a period early to get in; a window closing
 * right on the N-th made the count a coin toss, even under icount).  Each interval is timed in
 * the handler by the TSC and by a reference that shares no oscillator with it on a PC
 * (second_refclock), so each end of the span may be late by the delivery latency: the rate is
 * good to 1/N, plus the reference's uncertainty (the TSC's calibration, or REF_NOMINAL_PPM for a
 * reference at its nominal rate), plus DEVICE_RATE_LIMIT_PPM for the 32.768 kHz crystal.
 *
 * A hypervisor loses ticks (at 8192 Hz QEMU's TCG dropped from 0.3 % to a third of them on a
 * busy host: a tick due before the last one was acknowledged merges into it), so the rate is the
 * mean of the on-time intervals (lib/tickstat.h), and each gap or bunched-up interval adds a
 * period of latency to the bound.  Lost ticks are shown, not failed: reporting them is what
 * tickguest is for.  But a window in which the host took the CPU for half a period is void:
 * measured again, the rate not judged if none was clean.  A tick that late takes itself and its
 * neighbour out of the on-time class (within half a period), and a slow rate's handful of
 * intervals can be left with none on time (2 Hz under a 300 ms SIGSTOP every second: not ok in a
 * window that a period's rule called clean); a period is also what it takes QEMU to merge a tick.
 * Where half a period is below the steal threshold (8192 Hz), the threshold: a step that short is
 * the loop's own work, not the host's, and thousands of intervals stay on time.
 *
 * Every rate RS offers, windows sized for a handful of interrupts at the slow end (2 Hz, RS=15:
 * 4, +-25 %: a wrong RS is a factor of two) and short at the fast end (8192 Hz, RS=3: 1024,
 * +-977 ppm; 64 Hz is Windows' tick, 1024 Hz the firmware default), about 5 s in all.  Short,
 * because a fast rate's window is void on a 100 us step: under TCG 250 ms at 8192 Hz (2048
 * interrupts) had such a step in all four windows of ten runs in ten, on a loaded host.
 */
static const struct rate_run {
	uint32_t hz, window_ms;
} rate_runs[] = {
	{ 2, 2000 }, { 4, 1000 }, { 8, 500 }, { 16, 500 }, { 32, 250 }, { 64, 250 }, { 128, 250 },
	{ 256, 250 }, { 512, 250 }, { 1024, 250 }, { 2048, 125 }, { 4096, 125 }, { 8192, 125 },
};
#define CLAIM_RATE      "rtc periodic interrupt at %u Hz, measured by the %s"
#define SKIP_INTERRUPTS 1       /* the first after RS changes may end a partial period */
/* How long to wait for the window's first interrupt before calling the rate dead: a few
 * periods, plus room for the host to hold the vCPU up (TCG on a busy host: up to 20 ms). */
#define SYNC_PERIODS    4
#define SYNC_SLACK_MS   250

/* The update interrupts (checks/rtc_clock.c): the last of them within RTC_UPDATES_MAX s of
 * enabling, and this slack. */
#define UPDATE_SLACK_MS 500
#define UPDATE_GUARD_MS 100     /* see update_not_due() */
/* The alarm, hours and minutes "don't care", matches once a minute: within the session once. */
#define ALARM_AHEAD_S   2

/* ---- the session, shared with the handler (the window changed with interrupts off) ---- */

static struct refclock *ref;    /* the second reference, or NULL */
static const char *ref_why;     /* why there is none */
struct rtc_session rtc_session;
static struct rtc_session *const u = &rtc_session;

static struct rate_window {
	volatile enum { WIN_OFF, WIN_SKIP, WIN_COUNT } phase;
	unsigned skip;
	bool programmed, synced;        /* start_periodic took the rate; the first tick came */
	char programming[48];           /* plan_periodic(), or why start_periodic refused */
	uint32_t interrupts, updates;   /* ticks after the first; update interrupts, not counted */
	uint64_t window, period, ref_period;    /* N periods and one by the TSC, one by the ref */
	uint64_t last, ref_last, close;         /* at the latest tick; half a period after the N-th */
	struct tick_stats st, st_ref;   /* the intervals by the TSC and by the reference */
} win;

static void periodic(uint64_t now, uint64_t r)
{
	if (win.phase == WIN_COUNT && now <= win.close) {
		tick_stats_add(&win.st, now - win.last, win.period);
		if (ref)
			tick_stats_add(&win.st_ref, r - win.ref_last, win.ref_period);
		win.interrupts++;
	} else if (win.phase != WIN_SKIP || win.skip-- > 0) {
		return;
	} else {
		win.close = now + win.window + win.period / 2;
		win.phase = WIN_COUNT;
		win.synced = true;
	}
	win.last = now;
	win.ref_last = r;
}

static void interrupt(struct trapframe *tf)
{
	uint64_t now = rdtsc(), r = ref ? refclock_read(ref) : 0;

	(void)tf;
	(void)rtc_tick_source.ack();
	if (rtc_last_ack_was_periodic())
		periodic(now, r);
	if (rtc_last_ack_was_update()) {
		if (u->seen < RTC_UPDATES_MAX)
			u->at[u->seen++] = now;
		win.updates += win.phase == WIN_COUNT;
	}
	/* the alarm is matched in the update cycle: it comes with (or right after) an update */
	if (rtc_last_ack_was_alarm() && u->alarm_fired++ == 0)
		u->alarm_update = u->seen;
	u->not_ours += !rtc_last_ack_was_periodic() && !rtc_last_ack_was_update() &&
		       !rtc_last_ack_was_alarm();
}

/* ---- the main line's polls: the update span's steal probe, and the rate windows' ---- */

static uint64_t polled;                 /* TSC at the last poll */
static struct rtc_step recent;          /* see keep() */
static struct window_steal polls;       /* all the polls' steal */

/*
 * Of the stolen step kept and a newer one, the one that can still have delayed a later
 * interrupt by more than any allowance A: a step of L can only if L >= A and the interrupt came
 * within A of its end (checks/rtc_clock.c).  So a step stops mattering once its own length has
 * passed since its end, and a longer one matters for longer: keeping the newer one when it is
 * as long, or when the kept one has stopped mattering, keeps every step that can still matter
 * or one that matters wherever it would.
 */
static struct rtc_step keep(struct rtc_step kept, struct rtc_step s)
{
	return s.len >= kept.len || s.end - kept.end > kept.len ? s : kept;
}

static void poll(void)
{
	const uint64_t now = rdtsc(), prev = polled, threshold = tsc_from_us(STEAL_THRESHOLD_US);

	/* an update that came in this step, after `prev`, can have been delayed by the part
	 * before it; its time of day is read now, with at most a second to do it */
	for (unsigned i; (i = u->noted) < u->seen && u->at[i] <= now; u->noted++) {
		const struct rtc_step dark = { u->at[i] - prev, u->at[i] };

		u->step[i] = dark.len > threshold ? keep(recent, dark) : recent;
		u->before[i] = polls;
		u->tod_ok[i] = rtc_read_tod(&u->tod[i]);
	}
	if (now - prev > threshold) {
		recent = keep(recent, (struct rtc_step){ now - prev, now });
		polls.stolen += now - prev;
		polls.gaps++;
	}
	polled = now;
	window_probe();
}

/* Poll until done() or the TSC passes deadline; returns done(). */
static bool wait_for(bool (*done)(void), uint64_t deadline)
{
	while (poll(), !done() && (int64_t)(rdtsc() - deadline) < 0)
		cpu_relax();
	return done();
}

static bool window_counting(void)
{
	return win.phase == WIN_COUNT;
}

static bool window_over(void)
{
	return win.phase == WIN_COUNT && rdtsc() > win.close;
}

/* ---- the periodic interrupt ---- */

/*
 * start_periodic and stop read register C (to drop a stale PF, to let the line fall), and so
 * take whatever flag is set then: an update-ended interrupt that came just then (and the alarm,
 * matched in the same cycle) would be lost to the handler, a second missing from the span and
 * from the time of day's steps.  So they are not called near an update's due time: from
 * UPDATE_GUARD_MS before it until it came, or at most twice that after.  That matters most
 * after a host stop: a window's close passes during the stop, and the main line would read C at
 * once on resume, racing QEMU's update timer as it catches up (seen under SIGSTOP: a lost update
 * every few runs).  The due time is the earliest any update seen so far gives, for an update is
 * only ever late; before the first one it is not known, but only the first start comes then.
 */
static bool update_not_due(void)
{
	const unsigned n = u->seen;
	uint64_t next = UINT64_MAX;

	for (unsigned i = 0; i < n && n < RTC_UPDATES_MAX; i++)
		if (u->at[i] + (n - i) * tsc_from_ms(MS_PER_S) < next)
			next = u->at[i] + (n - i) * tsc_from_ms(MS_PER_S);
	return next == UINT64_MAX || rdtsc() + tsc_from_ms(UPDATE_GUARD_MS) < next;
}

static void clear_of_updates(void)
{
	wait_for(update_not_due, rdtsc() + tsc_from_ms(3 * UPDATE_GUARD_MS));
}

static void measure_rate(const struct rate_run *run)
{
	char why[160];

	clear_of_updates();
	cli();
	win = (struct rate_window){
		.phase = WIN_SKIP, .skip = SKIP_INTERRUPTS, .window = tsc_from_ms(run->window_ms),
		.period = tsc_from_counts(1, run->hz), .ref_period = ref ? ref->freq_hz / run->hz : 0,
	};
	win.programmed = rtc_tick_source.start_periodic(run->hz, why, sizeof(why)) == 0;
	if (win.programmed)
		rtc_tick_source.plan_periodic(run->hz, win.programming, sizeof(win.programming));
	else
		ksnprintf(win.programming, sizeof(win.programming), "%s", why);
	sti();
	if (win.programmed && wait_for(window_counting, rdtsc() + SYNC_PERIODS * win.period +
				       tsc_from_ms(SYNC_SLACK_MS)))
		wait_for(window_over, win.close + tsc_from_ms(MS_PER_S));
	clear_of_updates();
	cli();
	win.phase = WIN_OFF;
	rtc_tick_source.stop();
	sti();
}

/*
 * One rate as one reference (at f Hz) saw it: on_time intervals in on_time_sum counts, against
 * on_time periods of 1/hz, so a positive error is interrupts too fast.  The bound: the 1/N of
 * the count, a period more for every gap or bunched-up interval, the reference's uncertainty,
 * the device limit.
 */
static void judge_rate(const struct claim *c, const struct window_run *wr,
		       const struct rate_run *run, const struct tick_stats *st, uint64_t f,
		       uint64_t ref_ppm, const char *ref_key)
{
	const uint64_t bound = st->on_time ? (st->gaps + st->shorts + 1) * PPM / st->on_time +
					     ref_ppm + DEVICE_RATE_LIMIT_PPM : 0;
	/* both spans in counts x Hz, exact */
	const struct ppm_error e = ppm_of_span(st->on_time_sum * run->hz, st->on_time * f, bound);

	if (!claim_judge(c, wr, win.programmed && win.synced && ppm_ok(&e)))
		return;
	report_yaml("programming", "%s", win.programming);
	if (win.programmed && !win.synced)
		report_yaml("problem", "no periodic interrupt within %u periods and %u ms",
			    SYNC_PERIODS, SYNC_SLACK_MS);
	report_yaml_u64("programmed_hz", run->hz);
	report_yaml_fixed("measured_hz", (int64_t)rate_mhz(st->on_time, f, st->on_time_sum), 3);
	report_yaml_u64("interrupts", win.interrupts);
	report_yaml_u64("expected_interrupts", run->hz * run->window_ms / MS_PER_S);
	report_yaml_fixed("window_ms", (int64_t)(tsc_ns(win.window) / NS_PER_US), 3);
	ppm_yaml(&e);
	report_yaml_u64(ref_key, ref_ppm);
	tick_stats_yaml(st, f);
	report_yaml_u64("update_interrupts_not_counted", win.updates);
	claim_close();
}

static void check_rate(const struct rate_run *run, const char *absent)
{
	const uint64_t half = tsc_from_counts(1, 2 * run->hz);
	const uint64_t steal = tsc_from_us(STEAL_THRESHOLD_US);
	struct window_run wr = WINDOW_RUN(half > steal ? half : steal);
	struct claim by_tsc, by_ref;

	claim_open(&by_tsc, CLAIM_RATE, run->hz, "tsc");
	claim_open(&by_ref, CLAIM_RATE, run->hz, ref ? ref->name : "pmtimer or hpet");
	claim_needs(&by_tsc, !absent, absent);
	claim_needs(&by_ref, !absent, absent);
	claim_needs(&by_ref, ref != NULL, ref_why);
	while (!absent && window_again(&wr))
		measure_rate(run);
	/* a robbed window's hold-up is the host's steal, not the delivery latency */
	if (wr.clean && win.st.intervals && win.st.max > win.period + u->holdup)
		u->holdup = win.st.max - win.period;
	judge_rate(&by_tsc, &wr, run, &win.st, tsc_refclock.freq_hz, tsc_uncertainty_ppm(),
		   "tsc_uncertainty_ppm");
	judge_rate(&by_ref, &wr, run, &win.st_ref, ref ? ref->freq_hz : 0, REF_NOMINAL_PPM,
		   "reference_nominal_ppm");
}

void rtc_checks(const char *pmtimer_absent, const char *hpet_absent)
{
	const char *why = NULL, *absent = NULL;
	struct rtc_tod now;
	uint64_t from = 0;

	ref = second_refclock(pmtimer_absent, hpet_absent, &ref_why);
	if (!rtc_present(&why))
		absent = why;
	rtc_decode_check(absent);
	if (!absent) {
		irq_register(RTC_IRQ, interrupt);
		rtc_update_irq_enable();
		if (rtc_read_tod(&now)) {
			u->alarm_second = (now.second + ALARM_AHEAD_S) % 60;
			u->alarm_set = rtc_alarm_enable(RTC_ALARM_ANY, RTC_ALARM_ANY,
							(int)u->alarm_second) == 0;
		}
		from = polled = rdtsc();
		sti();
	}
	for (unsigned i = 0; i < sizeof(rate_runs) / sizeof(rate_runs[0]); i++)
		check_rate(&rate_runs[i], absent);
	if (!absent) {
		wait_for(rtc_updates_done, from + tsc_from_ms(RTC_UPDATES_MAX * MS_PER_S +
							      UPDATE_SLACK_MS));
		cli();
		rtc_alarm_disable();
		rtc_update_irq_disable();
		irq_unregister(RTC_IRQ);
	}
	rtc_clock_checks(absent);
}
