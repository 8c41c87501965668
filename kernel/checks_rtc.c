/*
 * Checks of the CMOS RTC against the TSC and a second reference clock (see checks_rtc.h for
 * when each half runs).
 *
 * One session with IRQ 8 registered and interrupts on: the update-ended interrupt is enabled
 * throughout, and the periodic interrupt is programmed at each rate of rate_runs in turn.
 * So the update interrupts arrive in the middle of the periodic runs, and the handler has to
 * tell them apart from ticks by register C, as a tick handler on the RTC must.
 *
 * The CPU polls rather than halts while it waits: nothing else is unmasked, so a halted CPU
 * would wait forever for an RTC that never interrupts — the very fault to be reported.
 */
#include "kernel/checks_rtc.h"
#include "kernel/checks.h"
#include "drivers/rtc_cmos.h"
#include "drivers/tsc.h"
#include "kernel/format.h"
#include "kernel/irq.h"
#include "kernel/report.h"
#include "checks/window.h"
#include "kernel/tickstat.h"
#include "kernel/x86.h"
#include "acct/stats.h"

/* ---- the contract: rates, run lengths and tolerances ---- */

/*
 * The RTC's own accuracy.  A 32.768 kHz watch crystal is cut to +-20 ppm at 25 C and moves
 * with temperature and age; 100 ppm (8.6 s a day) is a PC clock that still keeps time.  A
 * virtual RTC follows the host's clock and does far better, unless it runs in apparent time.
 */
#define RTC_RATE_LIMIT_PPM      100
/* A reference at its nominal rate: the ppm its integer frequency may round away. */
#define RTC_REF_NOMINAL_PPM     1

/*
 * Rates and windows.  Interrupts are counted over a TSC window that starts at one and closes
 * half a period after the N-th is due.  Delivered without loss, the count is then exactly N:
 * the N-th would have to be half a period late to miss the window, the (N+1)-th half a period
 * early to get in.  (A window closing right on the N-th made its count a coin toss between
 * N - 1 and N, even under icount.)  The interrupts are timed where the handler runs, so each
 * end of the span may be late by up to the delivery latency: the rate is good to about 1/N,
 * plus the reference's own uncertainty, plus RTC_RATE_LIMIT_PPM.
 *
 * Every interval is timed twice, by the TSC and by a second reference that shares no
 * oscillator with it on a PC (second_refclock: the PM timer, else the HPET).  The TSC's
 * bound includes its calibration; the second reference is taken at its nominal rate, which
 * for the PM timer the ACPI specification fixes, so its bound has RTC_REF_NOMINAL_PPM instead.
 *
 * A count cannot tell a slow device from lost ticks, though, and a hypervisor loses them
 * (at 8192 Hz QEMU's TCG dropped from 0.3 % to a third of them, with the host busy: a tick
 * that comes before the last one was acknowledged merges into it).  So the rate is the mean of the on-time intervals
 * (kernel/tickstat.h), as for the tick source: with no gap it is the count over the span
 * of the window, with the same 1/N bound; each gap or bunched-up interval breaks the run of
 * on-time intervals and adds one more period of latency to the bound.  Lost ticks are shown,
 * not failed: they are what tickguest is there to report.
 *
 * The slow rates can only catch gross faults (a wrong RS is a factor of two, a stopped timer
 * no count), so 1/N there just has to stay well under 50 %; the fast rates give the
 * precision.  About 4 s in all, with the waits for the first interrupt; the update
 * interrupts arrive meanwhile.
 */
static const struct rtc_rate_run {
	uint32_t hz;
	uint32_t window_ms;
} rate_runs[] = {
	/* every rate the rate-select field offers; windows sized for a handful of interrupts at
	 * the slow end and kept short at the fast end, the whole list in about 5 s */
	{ 2, 2000 },            /* slowest, RS=15: 4 interrupts, +-25 % */
	{ 4, 1000 },            /* 4 */
	{ 8, 500 },             /* 4 */
	{ 16, 500 },            /* 8 */
	{ 32, 250 },            /* 8 */
	{ 64, 250 },            /* Windows' RTC tick: 16 */
	{ 128, 250 },           /* 32 */
	{ 256, 250 },           /* 64 */
	{ 512, 250 },           /* 128, +-0.8 % */
	{ 1024, 250 },          /* the firmware default, RS=6: 256, +-0.4 % */
	{ 2048, 125 },          /* 256 */
	{ 4096, 125 },          /* 512 */
	{ 8192, 250 },          /* fastest, RS=3: 2048, +-488 ppm */
};
#define RTC_RATE_RUNS (sizeof(rate_runs) / sizeof(rate_runs[0]))

/* The first interrupt after RS changes may end a partial period: it is not timed. */
#define RTC_SKIP_INTERRUPTS     1
/*
 * How long to wait for the window's first interrupt before calling the rate dead: a few
 * periods, plus room for the host to hold the vCPU up (TCG on a busy host: up to 20 ms).
 */
#define RTC_SYNC_PERIODS        4
#define RTC_SYNC_SLACK_MS       250

/*
 * Update interrupts: four, so three one-second intervals, timed as one span.  A span is not
 * quantised; what limits it is the delivery latency of its two end interrupts (those in the
 * middle cancel: one interval's late end is the next one's late start).  Allowed per end:
 * the longest hold-up the periodic runs saw in the same session (their longest interval less
 * one period), and never less than 5 ms, about what TCG shows on a quiet two-core host.
 * Over three seconds 5 ms is 3333 ppm: that still catches a divider off by a factor, or
 * update interrupts paced by apparent time while catching up, which some guests would take
 * for the CPU's speed (seed 003).  The four arrive during the periodic runs: no extra time.
 */
#define RTC_UPDATES_TIMED       4
#define RTC_UPDATE_LATENCY_MIN_US 5000
/* The last update comes within RTC_UPDATES_TIMED seconds of enabling; this much slack. */
#define RTC_UPDATE_SLACK_MS     500

#define MS_PER_S                1000

/* The claims, as each check states them (also when skipped). */
#define CLAIM_RATE      "rtc periodic interrupt at %u Hz, measured by the %s"
#define CLAIM_UPDATES   "rtc update-ended interrupts come once a second, measured by the tsc"
#define CLAIM_TOD_STEP  "rtc time of day advances by one second from one update interrupt to the next"
#define CLAIM_DECODE    "rtc time of day decodes to a valid date and time"
#define CLAIM_ALARM     "rtc alarm interrupt fires once, at the second it was set for"

/*
 * The alarm is set this many seconds ahead, hours and minutes "don't care": it then matches
 * once a minute, so within the session (RTC_UPDATES_TIMED seconds and more) exactly once.
 */
#define RTC_ALARM_AHEAD_S       2

/* ---- what was measured ---- */

struct rate_result {
	uint32_t hz;
	bool programmed;        /* start_periodic took the rate */
	bool synced;            /* the window's first interrupt came */
	char programming[48];   /* describe(), or why start_periodic refused */
	uint32_t window_ms;
	uint32_t expected;      /* N: hz * window */
	uint32_t interrupts;    /* periodic interrupts in the window after its first */
	uint64_t window;        /* N periods, in TSC counts */
	uint64_t period;        /* one period, in TSC counts */
	uint64_t ref_period;    /* one period, in counts of the second reference */
	struct tick_stats st;   /* the intervals between the window's interrupts, by the TSC */
	struct tick_stats st_ref;       /* the same intervals by the second reference */
	uint32_t updates;       /* update interrupts in the window, not counted */
	/* The window's stolen time (checks/window.h), in the last of `tries` windows: clean
	 * when no step was as long as a period, which is what it takes to merge a tick (the
	 * RTC drops a periodic interrupt it could not deliver before the next). */
	struct window_steal steal;
	unsigned tries;
	bool clean;
};

struct update_result {
	unsigned seen;                          /* update interrupts, up to RTC_UPDATES_TIMED */
	uint64_t at[RTC_UPDATES_TIMED];         /* TSC in the handler */
	unsigned tod_read;                      /* how many of tod[] were read */
	bool tod_ok[RTC_UPDATES_TIMED];
	struct rtc_tod tod[RTC_UPDATES_TIMED];  /* read right after each interrupt */
};

static struct {
	bool measured, present;
	const char *why;                /* why not present */
	struct rtc_format format;
	uint8_t century_index;
	bool tod_ok;
	struct rtc_tod tod;             /* read before the interrupts were turned on */
	struct rate_result rates[RTC_RATE_RUNS];
	struct update_result updates;
	uint32_t not_ours;              /* IRQ 8 with no enabled cause in register C */
	struct refclock *ref;           /* the second reference, or NULL */
	const char *ref_why;            /* why there is none */
	struct {
		bool set;               /* the time of day could be read to set it */
		unsigned second;        /* the seconds value it was set for */
		unsigned fired;         /* alarm interrupts seen */
		bool tod_read, tod_ok;
		struct rtc_tod tod;     /* read right after the first alarm interrupt */
	} alarm;
} m;

/* ---- the interrupt handler and its window ---- */

enum window_phase { WIN_OFF, WIN_SKIP, WIN_COUNT, WIN_DONE };

/* Shared with the handler; changed by the main line only with interrupts off. */
static struct {
	volatile enum window_phase phase;
	unsigned skip;
	uint64_t first, last;           /* TSC at the window's first and latest interrupt */
	uint64_t ref_last;              /* the second reference at the latest one */
	uint64_t close;                 /* TSC: half a period after the N-th is due */
	struct rate_result *r;
} win;

static uint64_t tsc_now(void)
{
	return refclock_read(&tsc_refclock);
}

static void window_add(uint64_t now, uint64_t ref)
{
	struct rate_result *r = win.r;

	if (win.phase == WIN_SKIP) {
		if (win.skip-- > 0)
			return;
		win.first = win.last = now;
		win.ref_last = ref;
		win.close = now + r->window + r->period / 2;
		win.phase = WIN_COUNT;
		r->synced = true;
		return;
	}
	if (win.phase != WIN_COUNT || now > win.close)
		return;
	tick_stats_add(&r->st, now - win.last, r->period);
	if (m.ref)
		tick_stats_add(&r->st_ref, ref - win.ref_last, r->ref_period);
	win.last = now;
	win.ref_last = ref;
	r->interrupts++;
}

static void rtc_check_interrupt(struct trapframe *tf)
{
	uint64_t now = tsc_now(), ref = m.ref ? refclock_read(m.ref) : 0;
	struct update_result *u = &m.updates;

	(void)tf;
	(void)rtc_tick_source.ack();
	if (rtc_last_ack_was_periodic())
		window_add(now, ref);
	if (rtc_last_ack_was_update()) {
		if (u->seen < RTC_UPDATES_TIMED)
			u->at[u->seen++] = now;
		if (win.phase == WIN_COUNT)
			win.r->updates++;
	}
	if (rtc_last_ack_was_alarm())
		m.alarm.fired++;
	if (!rtc_last_ack_was_periodic() && !rtc_last_ack_was_update() && !rtc_last_ack_was_alarm())
		m.not_ours++;
}

/* ---- waiting with interrupts on ---- */

/* The time of day after each update interrupt: read here, at most a second is available. */
static void read_tod_after_updates(void)
{
	struct update_result *u = &m.updates;

	while (u->tod_read < u->seen) {
		u->tod_ok[u->tod_read] = rtc_read_tod(&u->tod[u->tod_read]);
		u->tod_read++;
	}
	if (m.alarm.fired && !m.alarm.tod_read) {
		m.alarm.tod_ok = rtc_read_tod(&m.alarm.tod);
		m.alarm.tod_read = true;
	}
}

/* Poll until done() or the TSC passes deadline; returns done(). */
static bool wait_for(bool (*done)(void), uint64_t deadline)
{
	while (!done() && tsc_now() < deadline) {
		read_tod_after_updates();
		window_probe();
		cpu_relax();
	}
	return done();
}

static bool window_counting(void)
{
	return win.phase == WIN_COUNT;
}

static bool window_over(void)
{
	return win.phase == WIN_COUNT && tsc_now() > win.close;
}

static bool updates_done(void)
{
	return m.updates.seen == RTC_UPDATES_TIMED && m.updates.tod_read == RTC_UPDATES_TIMED;
}

/* ---- the measurements ---- */

static void measure_rate(const struct rtc_rate_run *run, struct rate_result *r)
{
	const uint64_t f = tsc_refclock.freq_hz;
	char why[160];

	r->hz = run->hz;
	r->window_ms = run->window_ms;
	r->expected = run->hz * run->window_ms / MS_PER_S;
	r->window = run->window_ms * f / MS_PER_S;
	r->period = f / run->hz;
	r->ref_period = m.ref ? m.ref->freq_hz / run->hz : 0;
	cli();
	win.r = r;
	win.skip = RTC_SKIP_INTERRUPTS;
	win.phase = WIN_SKIP;
	window_begin();
	r->programmed = rtc_tick_source.start_periodic(run->hz, why, sizeof(why)) == 0;
	if (r->programmed)
		rtc_tick_source.describe(r->programming, sizeof(r->programming));
	else
		ksnprintf(r->programming, sizeof(r->programming), "%s", why);
	sti();
	if (r->programmed &&
	    wait_for(window_counting, tsc_now() + RTC_SYNC_PERIODS * f / run->hz +
		     RTC_SYNC_SLACK_MS * f / MS_PER_S))
		wait_for(window_over, win.close + f);
	cli();
	r->steal = window_end();
	r->clean = window_clean(&r->steal, r->period);
	win.phase = WIN_DONE;
	rtc_tick_source.stop();
	sti();
}

static void measure_session(void)
{
	const uint64_t f = tsc_refclock.freq_hz;
	uint64_t updates_from;
	struct rtc_tod now;

	irq_register(RTC_IRQ, rtc_check_interrupt);
	rtc_update_irq_enable();
	if (rtc_read_tod(&now)) {
		m.alarm.second = (now.second + RTC_ALARM_AHEAD_S) % 60;
		m.alarm.set = rtc_alarm_enable(RTC_ALARM_ANY, RTC_ALARM_ANY, (int)m.alarm.second) == 0;
	}
	updates_from = tsc_now();
	sti();
	for (unsigned i = 0; i < RTC_RATE_RUNS; i++) {
		struct rate_result *r = &m.rates[i];

		for (unsigned t = 1; t <= WINDOW_TRIES && !r->clean; t++) {
			*r = (struct rate_result){ .tries = t };
			measure_rate(&rate_runs[i], r);
		}
	}
	wait_for(updates_done,
		 updates_from + (RTC_UPDATES_TIMED * MS_PER_S + RTC_UPDATE_SLACK_MS) * f / MS_PER_S);
	cli();
	rtc_alarm_disable();
	rtc_update_irq_disable();
	irq_unregister(RTC_IRQ);
}

static void format_tod(char *buf, size_t len, const struct rtc_tod *t)
{
	ksnprintf(buf, len, "%04u-%02u-%02uT%02u:%02u:%02u", t->year, t->month, t->day, t->hour,
		  t->minute, t->second);
}

void rtc_measure(const char *pmtimer_absent, const char *hpet_absent)
{
	char tod[24];

	m.measured = true;
	m.ref = second_refclock(pmtimer_absent, hpet_absent, &m.ref_why);
	m.present = rtc_present(&m.why);
	if (!m.present) {
		report_banner("rtc", "none (%s)", m.why);
		return;
	}
	m.format = rtc_format();
	m.century_index = rtc_century_index();
	m.tod_ok = rtc_read_tod(&m.tod);
	format_tod(tod, sizeof(tod), &m.tod);
	report_banner("rtc", "%s, %s, %s", m.format.binary ? "binary" : "BCD",
		      m.format.hour24 ? "24-hour" : "12-hour", m.tod_ok ? tod : "time unreadable");
	measure_session();
}

/* ---- the checks ---- */

/*
 * One rate as one reference saw it.  The rate is on_time / on_time_sum in reference counts;
 * compare it with hz / f.  The error is the rate's, so a positive one means interrupts came
 * too fast.  Tolerance: the 1/N of the count, one more period of latency for every gap or
 * bunched-up interval (see the window rules above), the reference's own uncertainty, the limit.
 */
static void report_rate(const struct rate_result *r, bool by_ref)
{
	const struct tick_stats *st = by_ref ? &r->st_ref : &r->st;
	const char *refname = by_ref ? (m.ref ? m.ref->name : "pmtimer or hpet") : "tsc";
	uint64_t f = by_ref ? (m.ref ? m.ref->freq_hz : 0) : tsc_refclock.freq_hz;
	uint64_t ref_ppm = by_ref ? RTC_REF_NOMINAL_PPM : tsc_uncertainty_ppm();
	int64_t err_ppm = 0;
	uint64_t tol_ppm = 0, measured_mhz = 0;
	bool ok = false;
	char why[160];

	if (by_ref && !m.ref) {
		report_skip(m.ref_why, CLAIM_RATE, r->hz, refname);
		return;
	}
	if (st->on_time > 0) {
		int64_t excess = (int64_t)(st->on_time * f) - (int64_t)(st->on_time_sum * r->hz);

		err_ppm = excess / (int64_t)(st->on_time_sum * r->hz / PPM);
		measured_mhz = st->on_time * f * MS_PER_S / st->on_time_sum;
		tol_ppm = (st->gaps + st->shorts + 1) * PPM / st->on_time + ref_ppm +
			  RTC_RATE_LIMIT_PPM;
		ok = (err_ppm < 0 ? -err_ppm : err_ppm) <= (int64_t)tol_ppm;
	}
	if (r->programmed && !r->clean) {
		window_not_judged(why, sizeof(why), r->tries, &r->steal);
		report_skip(why, CLAIM_RATE, r->hz, refname);
	} else {
		report_check(r->programmed && r->synced && ok, CLAIM_RATE, r->hz, refname);
	}
	report_yaml_begin();
	report_yaml("programming", "%s", r->programming);
	window_yaml(r->tries, &r->steal);
	if (r->programmed && !r->synced)
		report_yaml("problem", "no periodic interrupt within %u periods and %u ms",
			    RTC_SYNC_PERIODS, RTC_SYNC_SLACK_MS);
	report_yaml_u64("programmed_hz", r->hz);
	report_yaml_fixed("measured_hz", (int64_t)measured_mhz, 3);
	report_yaml_u64("interrupts", r->interrupts);
	report_yaml_u64("expected_interrupts", r->expected);
	report_yaml_fixed("window_ms", (int64_t)cycles_to_us(r->window, tsc_refclock.freq_hz), 3);
	report_yaml("error_ppm", "%lld", (long long)err_ppm);
	report_yaml_u64("tolerance_ppm", tol_ppm);
	report_yaml_u64(by_ref ? "reference_nominal_ppm" : "tsc_uncertainty_ppm", ref_ppm);
	tick_stats_yaml(st, f);
	report_yaml_u64("update_interrupts_not_counted", r->updates);
	report_yaml_end();
}

/* How long the vCPU was kept from an interrupt in the periodic runs, at least the minimum. */
static uint64_t longest_holdup_us(void)
{
	uint64_t us = RTC_UPDATE_LATENCY_MIN_US;

	for (unsigned i = 0; i < RTC_RATE_RUNS; i++) {
		const struct rate_result *r = &m.rates[i];
		uint64_t held;

		if (r->st.intervals == 0 || r->st.max <= r->period)
			continue;
		held = cycles_to_us(r->st.max - r->period, tsc_refclock.freq_hz);
		if (held > us)
			us = held;
	}
	return us;
}

static void report_update_interval(void)
{
	const struct update_result *u = &m.updates;
	const uint64_t f = tsc_refclock.freq_hz;
	const unsigned spans = RTC_UPDATES_TIMED - 1;
	const uint64_t latency_us = longest_holdup_us();
	/* latency_us late at each end, over `spans` seconds: latency_us / spans ppm per end */
	const uint64_t tol_ppm = 2 * latency_us / spans + tsc_uncertainty_ppm() +
				 RTC_RATE_LIMIT_PPM;
	bool ok = u->seen == RTC_UPDATES_TIMED;
	int64_t err_ppm = 0;
	char key[24];

	if (ok) {
		/* the span against `spans` seconds of TSC */
		int64_t excess = (int64_t)(u->at[spans] - u->at[0]) - (int64_t)(spans * f);

		err_ppm = excess * 1000 / (int64_t)(spans * f / 1000);
		ok = (err_ppm < 0 ? -err_ppm : err_ppm) <= (int64_t)tol_ppm;
	}
	report_check(ok, CLAIM_UPDATES);
	report_yaml_begin();
	report_yaml_u64("update_interrupts", u->seen);
	for (unsigned i = 1; i < u->seen; i++) {
		ksnprintf(key, sizeof(key), "interval%u_ms", i);
		report_yaml_fixed(key, (int64_t)cycles_to_us(u->at[i] - u->at[i - 1], f), 3);
	}
	if (u->seen == RTC_UPDATES_TIMED)
		report_yaml_fixed("mean_interval_ms",
				  (int64_t)cycles_to_us(u->at[spans] - u->at[0], f) / spans, 3);
	report_yaml("error_ppm", "%lld", (long long)err_ppm);
	report_yaml_u64("tolerance_ppm", tol_ppm);
	report_yaml_fixed("latency_allowed_ms", (int64_t)latency_us, 3);
	report_yaml_u64("irq8_without_enabled_cause", m.not_ours);
	report_yaml_end();
}

static void report_update_tod(void)
{
	const struct update_result *u = &m.updates;
	bool ok = u->tod_read == RTC_UPDATES_TIMED;
	char key[24], tod[24];

	for (unsigned i = 0; i < u->tod_read; i++) {
		ok = ok && u->tod_ok[i];
		if (ok && i > 0)
			ok = rtc_tod_seconds(&u->tod[i]) - rtc_tod_seconds(&u->tod[i - 1]) == 1;
	}
	report_check(ok, CLAIM_TOD_STEP);
	report_yaml_begin();
	for (unsigned i = 0; i < u->tod_read; i++) {
		ksnprintf(key, sizeof(key), "after_update%u", i);
		if (u->tod_ok[i])
			format_tod(tod, sizeof(tod), &u->tod[i]);
		report_yaml(key, "%s", u->tod_ok[i] ? tod : "unreadable");
	}
	report_yaml_end();
}

static void report_decoding(void)
{
	char tod[24];

	report_check(m.tod_ok, CLAIM_DECODE);
	report_yaml_begin();
	report_yaml("data_mode", "%s", m.format.binary ? "binary" : "bcd");
	report_yaml("hour_mode", "%s", m.format.hour24 ? "24" : "12");
	if (m.century_index)
		report_yaml("century_register", "0x%02x", m.century_index);
	else
		report_yaml("century_register", "none (assumed %u00s)", RTC_DEFAULT_CENTURY);
	if (m.tod_ok) {
		format_tod(tod, sizeof(tod), &m.tod);
		report_yaml("date_time", "%s", tod);
	}
	report_yaml_end();
}

static void report_alarm(void)
{
	const bool at_second = m.alarm.tod_read && m.alarm.tod_ok &&
			       m.alarm.tod.second == m.alarm.second;

	report_check(m.alarm.set && m.alarm.fired == 1 && at_second, CLAIM_ALARM);
	report_yaml_begin();
	report_yaml("alarm", m.alarm.set ? "xx:xx:%02u" : "not set (time of day unreadable)",
		    m.alarm.second);
	report_yaml_u64("alarm_interrupts", m.alarm.fired);
	if (m.alarm.tod_read && m.alarm.tod_ok) {
		char tod[24];

		format_tod(tod, sizeof(tod), &m.alarm.tod);
		report_yaml("time_of_day_after", "%s", tod);
	}
	report_yaml_end();
}

void rtc_report_checks(void)
{
	if (!m.measured)
		return;
	if (!m.present) {
		report_skip(m.why, CLAIM_DECODE);
		for (unsigned i = 0; i < RTC_RATE_RUNS; i++) {
			report_skip(m.why, CLAIM_RATE, rate_runs[i].hz, "tsc");
			report_skip(m.why, CLAIM_RATE, rate_runs[i].hz,
				    m.ref ? m.ref->name : "pmtimer or hpet");
		}
		report_skip(m.why, CLAIM_UPDATES);
		report_skip(m.why, CLAIM_TOD_STEP);
		report_skip(m.why, CLAIM_ALARM);
		return;
	}
	report_decoding();
	for (unsigned i = 0; i < RTC_RATE_RUNS; i++) {
		report_rate(&m.rates[i], false);
		report_rate(&m.rates[i], true);
	}
	report_update_interval();
	report_update_tod();
	report_alarm();
}
