/*
 * The 8254 PIT's channel 0 (docs/pit.md; names from the Intel 8254 datasheet, 231164):
 *
 * (a) Periodic rate in modes 2 and 3.  Each interrupt is placed on the device's own deadline,
 *     not on the moment the handler ran: one read-back command latches the count and OUTPUT
 *     together, which say how many clocks ago OUT rose (pit_clocks_since_rise), so interrupt
 *     latency drops out.  Deadlines sit on the PIT's grid, so the span between the first and
 *     the last is a whole number of periods even when ticks were merged: rounding counts them,
 *     and the periods without an interrupt are reported as lost, not failed.  The span is timed
 *     by the TSC and by a second reference (the ACPI PM timer, else the HPET), each reading
 *     bracketed by RDTSCs so its timing error is known.
 * (b) Mode 0 one-shot: fires once, never before the count written could have run out.
 * (c) Read-back: the status byte echoes the mode and access programmed, and the count falls.
 *
 * IRQ 0 goes through the 8259.  The CPU polls the TSC rather than halting, so a PIT that never
 * interrupts costs a timeout, not a hung guest.
 */
#include "checks/checks.h"
#include "checks/measure.h"
#include "acct/steal.h"
#include "kernel/irq.h"
#include "kernel/report.h"
#include "kernel/x86.h"
#include "drivers/pit8254.h"
#include "acct/stats.h"

#define PIT_IRQ         0
#define DRAIN_MS        1               /* long enough for a stale IRQ 0 edge to be taken */
/* The divisor nearest to a rate. */
#define DIVISOR_FOR(hz) ((PIT_HZ + (hz) / 2) / (hz))

static void program(enum pit_mode mode, uint32_t count)
{
	if (mode == PIT_MODE_INTERRUPT_ON_TC)
		pit_ch0_interrupt_on_terminal_count(count);
	else if (mode == PIT_MODE_RATE_GENERATOR)
		pit_ch0_rate_generator(count);
	else
		pit_ch0_square_wave(count);
}

/* ---- (a) periodic rates ---- */

/*
 * Mode, divisor, and the window in whole periods.  A window of N periods starts at the run's
 * first interrupt and closes half a period after the N-th deadline, so without lost ticks
 * exactly N more interrupts fall in it (the deterministic claim tests/conformance/
 * test_devices.py holds the PIT to under -icount).  About 1.6 s.  Mode 3 gets an even divisor:
 * with an odd one its two half-periods differ by a clock.
 */
static const struct rate_run {
	enum pit_mode mode;
	uint32_t divisor, periods;
} runs[] = {
	{ PIT_MODE_RATE_GENERATOR, PIT_DIVISOR_MAX, 10 },               /* 18.2 Hz, 549 ms */
	{ PIT_MODE_RATE_GENERATOR, DIVISOR_FOR(100), 50 },              /* 100 Hz, 500 ms */
	{ PIT_MODE_RATE_GENERATOR, DIVISOR_FOR(1000), 200 },            /* 1000.2 Hz, 200 ms */
	{ PIT_MODE_RATE_GENERATOR, DIVISOR_FOR(10000), 1000 },          /* 10026.7 Hz, 100 ms */
	{ PIT_MODE_SQUARE_WAVE, DIVISOR_FOR(1000) + 1, 200 },           /* 999.3 Hz, 200 ms */
};
/* How long past the expected end of a window before the run is called dead. */
#define SYNC_SLACK_MS   250

/* One deadline, the moment OUT rose, as the handler found it; times in TSC cycles. */
struct deadline {
	uint64_t tsc;
	uint64_t half;          /* half the read-back's bracket: how far tsc may be off */
	uint64_t ref;           /* the same moment in counts of the second reference */
	uint64_t ref_err;       /* how far ref may be off: half of each bracket */
	uint64_t ref_off;       /* deadline -> reference read, a span converted at the TSC's rate */
};

enum phase { PHASE_OFF, PHASE_FIRST, PHASE_COUNT };

/* Shared with the handler; the main line changes it only with interrupts off. */
static struct rate_window {
	volatile enum phase phase;
	const struct rate_run *run;
	struct refclock *ref;           /* the second reference, or NULL */
	uint64_t period;
	volatile uint64_t end;          /* half a period after the N-th deadline */
	volatile uint32_t interrupts;   /* after the first */
	struct deadline first, last;
	uint64_t late_first, late_max;  /* handler - deadline */
} w;

static void rate_tick(struct trapframe *tf)
{
	uint64_t t0 = rdtsc(), t1, t2, late;
	struct pit_status st;
	uint16_t count = pit_ch0_read_back(&st);
	struct deadline d = { 0 };

	(void)tf;
	t1 = t2 = rdtsc();
	if (w.phase == PHASE_OFF || (w.phase == PHASE_COUNT && t0 > w.end))
		return;
	d.tsc = t0 + (t1 - t0) / 2 - tsc_from_counts(pit_clocks_since_rise(w.run->mode,
			w.run->divisor, count, st.output), PIT_HZ);
	d.half = div_up(t1 - t0, 2);
	if (w.ref) {
		d.ref = refclock_read(w.ref);
		t2 = rdtsc();
		d.ref_off = t1 + (t2 - t1) / 2 - d.tsc;
		d.ref -= d.ref_off * w.ref->freq_hz / tsc_refclock.freq_hz;
	}
	d.ref_err = d.half + div_up(t2 - t1, 2);
	/* a deadline inside the read-back bracket (the count just reloaded) is not late */
	late = t0 > d.tsc ? t0 - d.tsc : 0;
	if (late > w.late_max)
		w.late_max = late;
	if (w.phase == PHASE_FIRST) {
		w.first = d;
		w.late_first = late;
		w.end = d.tsc + w.run->periods * w.period + w.period / 2;
		w.phase = PHASE_COUNT;
	} else {
		w.interrupts++;
	}
	w.last = d;
}

/*
 * One window.  An edge already pending when it starts (the previous program's, or the one OUT
 * makes when a new mode sets it high) is harmless: it is taken first, and the deadline it
 * finds is the moment the new count was loaded, which is on the new grid.  Returns whether the
 * run's first interrupt came.
 */
static bool rate_window(const struct rate_run *run, struct refclock *ref)
{
	uint64_t timeout;
	bool synced;

	w = (struct rate_window){
		.phase = PHASE_FIRST, .run = run, .ref = ref,
		.period = tsc_from_counts(run->divisor, PIT_HZ),
	};
	program(run->mode, run->divisor);
	timeout = rdtsc() + (run->periods + 2) * w.period + tsc_from_ms(SYNC_SLACK_MS);
	sti();
	while ((w.phase != PHASE_COUNT || (int64_t)(rdtsc() - w.end) < 0) &&
	       (int64_t)(rdtsc() - timeout) < 0) {
		window_probe();
		cpu_relax();
	}
	cli();
	synced = w.phase == PHASE_COUNT;
	w.phase = PHASE_OFF;
	pit_ch0_stop();
	return synced;
}

#define CLAIM_RATE "pit channel 0 mode %u ticks at %u.%u Hz (divisor %u), measured by the %s"

static void rate_claim(const struct rate_run *run, const struct window_run *wr, bool synced,
		       uint64_t periods, const char *by, const char *absent,
		       const struct ppm_error *e, uint64_t measured_mhz)
{
	uint64_t dhz = ((uint64_t)PIT_HZ * 10 + run->divisor / 2) / run->divisor; /* 0.1 Hz */
	struct claim c;

	claim_open(&c, CLAIM_RATE, run->mode, (unsigned)(dhz / 10), (unsigned)(dhz % 10),
		   run->divisor, by);
	claim_needs(&c, !absent, absent);
	/* Lost ticks are reported, not failed; more interrupts than the device's edges are a
	 * fault: at most one more, when the first interrupt was handled a period late. */
	if (!claim_judge(&c, wr, synced && ppm_ok(e) && w.interrupts <= periods + 1))
		return;
	if (!synced)
		report_yaml("problem", "no interrupt within %u periods and %u ms", run->periods + 2,
			    SYNC_SLACK_MS);
	report_yaml_u64("mode", run->mode);
	report_yaml_u64("divisor", run->divisor);
	report_yaml_fixed("programmed_hz", (int64_t)((uint64_t)PIT_HZ * MS_PER_S / run->divisor), 3);
	report_yaml_fixed("measured_hz", (int64_t)measured_mhz, 3);
	ppm_yaml(e);
	report_yaml_u64("window_periods", run->periods);
	report_yaml_u64("interrupts", w.interrupts);
	report_yaml_u64("expected_interrupts", run->periods);
	report_yaml_u64("periods_measured", periods);
	report_yaml("lost_ticks", "%lld", (long long)periods - (long long)w.interrupts);
	report_yaml_fixed("late_first_us", (int64_t)tsc_ns(w.late_first), 3);
	report_yaml_fixed("late_max_us", (int64_t)tsc_ns(w.late_max), 3);
	report_yaml_u64("tsc_uncertainty_ppm", tsc_uncertainty_ppm());
	report_yaml_u64("limit_ppm", DEVICE_RATE_LIMIT_PPM);
	claim_close();
}

/*
 * A step of the host's in the middle of a window costs this claim nothing: a late handler
 * still finds its deadline on the PIT's grid from the count it reads back, so the span between
 * the first and the last deadline stays a whole number of periods, and the edges the 8259
 * merged meanwhile (it holds one per line) are counted as lost ticks, which are reported, not
 * failed.  What the claim rests on are the two ends' brackets: a step inside one widens the
 * bound by its own length, which would leave a bound that asks little.  So a window is void
 * when either end's read-back or reference read took a step over the steal threshold, and is
 * measured again.
 *
 * A sound PIT stays within, by the TSC:
 *   the read-back brackets: each deadline is off by up to half its bracket, at both ends;
 *   count quantisation: the count is read in whole steps (1 clock, 2 in mode 3) at each end,
 *     plus one clock for when the count is taken in at a reload (the datasheet's N + 1);
 *   one TSC cycle, the TSC's calibration (tsc_uncertainty_ppm), and DEVICE_RATE_LIMIT_PPM.
 * By the second reference, whose rate is nominal and whose reads are bracketed too:
 *   each end's deadline error plus half that reference read's bracket;
 *   the same count quantisation, and one count of the reference;
 *   the TSC's calibration, but only on the short offset from a read back to its deadline;
 *   REF_NOMINAL_PPM: PIT_HZ is 14.31818 MHz / 12 rounded up by 0.28 ppm, the PM timer's
 *     3579545 Hz the same crystal / 4 rounded down (the TSC was calibrated with PIT_HZ itself,
 *     so the TSC does not pay it); and the limit.
 */
static void check_rate(const struct rate_run *run, struct refclock *ref, const char *ref_why)
{
	struct window_run wr = WINDOW_RUN(UINT64_MAX);
	const uint64_t step = tsc_from_us(STEAL_THRESHOLD_US);
	bool synced = false;
	uint64_t dt, dref, periods, clocks, quant_ppm, expected_ns;
	struct ppm_error by_tsc, by_ref = { .valid = false };

	while (window_again(&wr)) {
		synced = rate_window(run, ref);
		wr.spoilt = synced && (2 * w.first.half > step || 2 * w.last.half > step ||
				       w.first.ref_err > step || w.last.ref_err > step);
	}
	dt = w.last.tsc - w.first.tsc;
	periods = synced ? (dt + w.period / 2) / w.period : 0;
	clocks = periods * run->divisor;
	expected_ns = clocks * NS_PER_S / PIT_HZ;
	quant_ppm = div_up((2 * (run->mode == PIT_MODE_SQUARE_WAVE ? 2 : 1) + 1) * PPM, clocks);
	by_tsc = ppm_of_span(tsc_ns(dt), expected_ns,
			     div_up((w.first.half + w.last.half) * PPM, dt) + quant_ppm +
			     div_up(PPM, dt) + tsc_uncertainty_ppm() + DEVICE_RATE_LIMIT_PPM);
	rate_claim(run, &wr, synced, periods, "tsc", 0, &by_tsc,
		   rate_mhz(periods, tsc_refclock.freq_hz, dt));
	dref = w.last.ref - w.first.ref;
	if (ref)
		by_ref = ppm_of_span(cycles_to_ns(dref, ref->freq_hz), expected_ns,
				     div_up((w.first.ref_err + w.last.ref_err) * PPM, dt) +
				     quant_ppm + div_up(PPM, dref) +
				     div_up((w.first.ref_off + w.last.ref_off) *
					    tsc_uncertainty_ppm(), dt) +
				     REF_NOMINAL_PPM + DEVICE_RATE_LIMIT_PPM);
	rate_claim(run, &wr, synced, periods, ref ? ref->name : "pmtimer or hpet", ref_why,
		   &by_ref, ref ? rate_mhz(periods, ref->freq_hz, dref) : 0);
}

/* ---- (b) mode 0 one-shot ---- */

#define SHOT_COUNT      DIVISOR_FOR(1000)       /* 1 ms */
#define SHOTS           10
#define SHOT_WAIT_MS    100

static int shot_arm(void *out_low)
{
	(void)out_low;
	pit_ch0_interrupt_on_terminal_count(SHOT_COUNT);
	return 0;               /* a count is always taken: nothing to refuse */
}

static void shot_disarm(void *out_low)
{
	(void)out_low;
	pit_ch0_stop();
}

/* After terminal count mode 0 leaves OUT high until the next control word. */
static void shot_out(void *out_low, const struct shot *s)
{
	struct pit_status st;

	if (!s->irqs)
		return;
	(void)pit_ch0_read_back(&st);
	*(unsigned *)out_low += !st.output;
}

/*
 * The count is written at some moment in [before, after]; OUT rises N + 1 clocks after that,
 * so the handler can never run before `before` plus N clocks.  N clocks are converted with the
 * calibrated TSC, which may be off by tsc_uncertainty_ppm, and one cycle: that much earlier
 * is allowed.  The latest the shot was due is `after` plus N + 1 clocks.  A second interrupt
 * is watched for over two counts' time.
 */
static void check_oneshot(void)
{
	const uint64_t delay = tsc_from_counts(SHOT_COUNT, PIT_HZ);
	const uint64_t early_by = delay - div_up(delay * tsc_uncertainty_ppm(), PPM) - 1;
	unsigned out_low = 0;
	struct shot_plan plan = {
		.arm = shot_arm, .disarm = shot_disarm, .ctx = &out_low, .wait = tsc_from_ms(SHOT_WAIT_MS),
		.quiet = 2 * delay, .due = pit_tick_source.oneshot_due,
		.expired = pit_tick_source.oneshot_expired,
	};
	struct shot_series r;
	struct claim c;

	irq_register(PIT_IRQ, shot_handler);
	irq_drain_ms(DRAIN_MS);
	shot_series_fire(&plan, SHOTS, early_by, tsc_from_counts(SHOT_COUNT + 1, PIT_HZ),
			 shot_out, &r);
	pit_ch0_stop();
	irq_drain_ms(DRAIN_MS);         /* mode 0 raises nothing more, but take a straggler here */
	irq_unregister(PIT_IRQ);

	claim_open(&c, "pit channel 0 mode 0 one-shot fires once, never before its count runs out");
	if (!claim_judge_shots(&c, &r, out_low == 0))
		return;
	report_yaml_u64("count", SHOT_COUNT);
	report_yaml_fixed("delay_us", (int64_t)(SHOT_COUNT * NS_PER_S / PIT_HZ), 3);
	report_yaml_fixed("earliest_allowed_us", (int64_t)tsc_ns(early_by), 3);
	report_yaml_u64("out_low_after_terminal_count", out_low);
	claim_close();
}

/* ---- (c) read-back ---- */

/* The count loaded (even, for mode 3; 55 ms), and the gap between the read-backs. */
#define READBACK_COUNT  (PIT_DIVISOR_MAX - 2)
#define READBACK_GAP_US 100

static bool status_is(const struct pit_status *st, enum pit_mode mode)
{
	return st->mode == mode && st->access == PIT_ACCESS_LOHI && !st->bcd;
}

/*
 * Interrupts off, IRQ 0 not registered: whatever edge OUT makes stays pending in the 8259
 * and is taken by the first rate run, where it does no harm (rate_window).  The first status
 * is read straight after the count is written, when a real 8254 may still show NULL COUNT
 * (reported, not checked: it lasts under one clock); the others after a wait.
 *
 * The count read back can only rise if it reloaded (or, in mode 0, wrapped) between the
 * reads: READBACK_COUNT clocks after the write.  The reads are a gap and a step apart, so a
 * window is void only when one step lasted half the count (27 ms).
 *
 * OUTPUT while counting down a fresh count, by the datasheet: low in mode 0 until terminal
 * count, high in mode 2 but for the last clock of each period, high in the first half of mode
 * 3.  Reported, not checked: QEMU's mode 2 OUT is the inverse (low, high for the one clock at
 * each reload; docs/pit.md), which leaves its interrupts on time but its OUTPUT bit wrong.
 */
static void check_readback(enum pit_mode mode)
{
	struct window_run wr = WINDOW_RUN(tsc_from_counts(READBACK_COUNT / 2, PIT_HZ));
	struct pit_status fresh = { 0 }, first = { 0 }, second = { 0 };
	uint16_t count_first = 0, latched = 0, count_second = 0;
	struct claim c;

	while (window_again(&wr)) {
		program(mode, READBACK_COUNT);
		(void)pit_ch0_read_back(&fresh);
		window_wait_until(rdtsc() + tsc_from_us(READBACK_GAP_US));
		count_first = pit_ch0_read_back(&first);
		latched = pit_ch0_count();
		window_wait_until(rdtsc() + tsc_from_us(READBACK_GAP_US));
		count_second = pit_ch0_read_back(&second);
		pit_ch0_stop();
	}
	claim_open(&c, "pit read-back status reports channel 0 in mode %u, lo/hi access, binary, "
		   "count loaded, and the count read back decreases", mode);
	if (!claim_judge(&c, &wr, status_is(&first, mode) && status_is(&second, mode) &&
			 !second.null_count && count_first > count_second &&
			 count_first >= latched && latched >= count_second))
		return;
	report_yaml("status", "0x%02x", first.raw);
	report_yaml_u64("mode", first.mode);
	report_yaml_u64("rw", first.access);
	report_yaml("bcd", "%s", first.bcd ? "true" : "false");
	report_yaml("output", "%s", first.output ? "high" : "low");
	report_yaml("output_datasheet", "%s", mode != PIT_MODE_INTERRUPT_ON_TC ? "high" : "low");
	report_yaml("null_count", "%s", second.null_count ? "true" : "false");
	report_yaml("null_count_right_after_write", "%s", fresh.null_count ? "true" : "false");
	report_yaml_u64("count_loaded", READBACK_COUNT);
	report_yaml_u64("count_first", count_first);
	report_yaml_u64("count_latch_command", latched);
	report_yaml_u64("count_second", count_second);
	report_yaml_u64("gap_us", READBACK_GAP_US);
	claim_close();
}

/* ---- the checks ---- */

void pit_checks(const char *pmtimer_absent, const char *hpet_absent)
{
	static const enum pit_mode readback_modes[] = {
		PIT_MODE_INTERRUPT_ON_TC, PIT_MODE_RATE_GENERATOR, PIT_MODE_SQUARE_WAVE,
	};
	const char *ref_why;
	struct refclock *ref = second_refclock(pmtimer_absent, hpet_absent, &ref_why);

	cli();
	for (unsigned i = 0; i < sizeof(readback_modes) / sizeof(readback_modes[0]); i++)
		check_readback(readback_modes[i]);
	irq_register(PIT_IRQ, rate_tick);
	for (unsigned i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
		check_rate(&runs[i], ref, ref_why);
	irq_unregister(PIT_IRQ);
	check_oneshot();
}
