/*
 * Checks of the 8254's channel 0 (see checks_pit.h for the table they follow).
 *
 * (a) Periodic rate.  Each interrupt is placed on the device's own deadline, not on the moment
 *     the handler ran: one read-back command latches channel 0's count and OUT together, which
 *     say how many clocks ago OUT rose (pit_clocks_since_rise), so interrupt latency drops out.
 *     Deadlines sit on the PIT's grid, so the span between the first and the last is a whole
 *     number of periods even when the emulator merged some ticks: rounding counts them, and
 *     the periods without an interrupt are reported as lost, not failed.  The span is timed by
 *     the TSC and, independently, by the ACPI PM timer (or the HPET when there is no PM timer),
 *     each reading bracketed by RDTSCs so its timing error is known.
 * (b) Mode 0 one-shot: fires once, and never before the count written could have run out.
 * (c) Read-back: the status byte echoes the mode and access programmed, and the count falls.
 *
 * IRQ 0 goes through the 8259.  The CPU polls the TSC rather than halting, so a PIT that never
 * interrupts costs a timeout, not a hung guest.
 */
#include "kernel/checks_pit.h"
#include "kernel/checks.h"
#include "kernel/format.h"
#include "kernel/irq.h"
#include "kernel/report.h"
#include "kernel/x86.h"
#include "drivers/acpi_pmtimer.h"
#include "drivers/hpet.h"
#include "drivers/tsc.h"
#include "acct/stats.h"

#define PIT_IRQ         0
#define NS_PER_S        1000000000ull
#define MS_PER_S        1000ull
#define US_PER_S        1000000ull
#define MPPM            (PPM * 1000)    /* errors in thousandths of a ppm */
#define DRAIN_MS        1               /* long enough for a stale IRQ 0 edge to be taken */

static const struct pit_rate_run runs[] = PITCHK_RATE_RUNS;
#define NR_RUNS (sizeof(runs) / sizeof(runs[0]))

static const enum pit_mode readback_modes[] = {
	PIT_MODE_INTERRUPT_ON_TC, PIT_MODE_RATE_GENERATOR, PIT_MODE_SQUARE_WAVE,
};
#define NR_READBACK (sizeof(readback_modes) / sizeof(readback_modes[0]))

/* ---- what was measured ---- */

struct rate_error {
	bool valid;
	int64_t err_mppm;
	uint64_t measured_mhz, tol_ppm;
};

struct rate_result {
	bool synced;                    /* the run's first interrupt came */
	uint32_t interrupts;            /* after the first, within the window */
	uint64_t periods;               /* between the first and the last deadline */
	int64_t lost;                   /* periods without an interrupt; < 0: extra interrupts */
	uint64_t late_first_ns, late_max_ns;
	struct rate_error by_tsc, by_ref;
};

struct shot_result {
	uint32_t armed, fired_once, fired_twice, early, out_low_after;
	uint64_t delay_ns;              /* the count, at PIT_HZ */
	uint64_t fire_min_ns, fire_med_ns, fire_max_ns;         /* armed -> handler */
	int64_t late_max_ns;            /* handler - the latest moment the shot was due */
};

struct readback_result {
	struct pit_status first, second, fresh;  /* fresh: straight after writing the count */
	uint16_t count_first, count_latched, count_second;
};

static struct {
	bool measured;
	struct refclock *ref;           /* the second reference, or NULL */
	const char *ref_why;            /* why there is none */
	struct rate_result rates[NR_RUNS];
	struct shot_result shots;
	struct readback_result readback[NR_READBACK];
} m;

/* ---- helpers ---- */

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return b ? (a + b - 1) / b : 0;
}

static uint64_t ms_to_cycles(uint64_t ms)
{
	return ms * tsc_refclock.freq_hz / MS_PER_S;
}

static uint64_t pit_to_cycles(uint64_t clocks)
{
	return clocks * tsc_refclock.freq_hz / PIT_HZ;
}


static bool within(int64_t err_mppm, uint64_t tol_ppm)
{
	return (err_mppm < 0 ? -err_mppm : err_mppm) <= (int64_t)(tol_ppm * 1000);
}

/* Take any IRQ 0 edge that is pending or arrives within ms, with whatever handler is there. */
static void drain_irq0(uint64_t ms)
{
	uint64_t end = rdtsc() + ms_to_cycles(ms);

	sti();
	tsc_spin_until(end);
	cli();
}

/* ---- (a) periodic rates: the handler ---- */

enum phase { PHASE_OFF, PHASE_FIRST, PHASE_COUNT };

/*
 * Shared with the handler; the main line changes it only with interrupts off.  Times are TSC
 * cycles, reference times counts of the second reference clock.
 */
static struct rate_window {
	volatile enum phase phase;
	const struct pit_rate_run *run;
	uint64_t period;                /* one period, TSC cycles */
	volatile uint64_t end;          /* the window closes: half a period after the N-th deadline */
	volatile uint32_t interrupts;
	uint64_t dl_first, dl_last;     /* deadlines */
	uint64_t half_first, half_last; /* half the bracket of the read-back that found them */
	uint64_t ref_first, ref_last;   /* the same deadlines by the second reference */
	uint64_t ref_err_first, ref_err_last;   /* TSC cycles those may be off */
	uint64_t ref_off_first, ref_off_last;   /* reference read -> deadline, TSC cycles */
	uint64_t late_first, late_max;  /* handler - deadline */
} w;

static void rate_tick(struct trapframe *tf)
{
	uint64_t t0 = rdtsc(), t1, t2, dl, mid01, mid12, since, late, ref = 0;
	struct pit_status st;
	uint16_t count = pit_ch0_read_back(&st);

	(void)tf;
	t1 = rdtsc();
	if (w.phase == PHASE_OFF || (w.phase == PHASE_COUNT && t0 > w.end))
		return;
	mid01 = t0 + (t1 - t0) / 2;
	since = pit_clocks_since_rise(w.run->mode, w.run->divisor, count, st.output);
	dl = mid01 - pit_to_cycles(since);
	mid12 = t2 = t1;
	if (m.ref) {
		ref = refclock_read(m.ref);
		t2 = rdtsc();
		mid12 = t1 + (t2 - t1) / 2;
		/* back from the read to the deadline, a latency converted with the TSC's rate */
		ref -= (mid12 - dl) * m.ref->freq_hz / tsc_refclock.freq_hz;
	}
	/* a deadline inside the read-back bracket (the count just reloaded) is not late */
	late = t0 > dl ? t0 - dl : 0;
	if (late > w.late_max)
		w.late_max = late;
	if (w.phase == PHASE_FIRST) {
		w.dl_first = dl;
		w.half_first = div_up(t1 - t0, 2);
		w.ref_first = ref;
		w.ref_err_first = w.half_first + div_up(t2 - t1, 2);
		w.ref_off_first = mid12 - dl;
		w.late_first = late;
		w.end = dl + w.run->periods * w.period + w.period / 2;
		w.phase = PHASE_COUNT;
	} else {
		w.interrupts++;
	}
	w.dl_last = dl;
	w.half_last = div_up(t1 - t0, 2);
	w.ref_last = ref;
	w.ref_err_last = w.half_last + div_up(t2 - t1, 2);
	w.ref_off_last = mid12 - dl;
}

/* ---- (a) periodic rates: the bounds ---- */

/* Rate error of periods x divisor PIT clocks against a span of measured_ns, in 1/1000 ppm. */
static void rate_error(const struct pit_rate_run *run, uint64_t periods, uint64_t measured_ns,
		       uint64_t freq_num, uint64_t freq_den, struct rate_error *e)
{
	uint64_t expected_ns = periods * run->divisor * NS_PER_S / PIT_HZ;
	int64_t diff = (int64_t)expected_ns - (int64_t)measured_ns;

	if (measured_ns == 0)
		return;
	/* |diff| is clamped to the span, so diff * MPPM stays in range for spans up to 9 s */
	if (diff > (int64_t)measured_ns)
		diff = (int64_t)measured_ns;
	if (diff < -(int64_t)measured_ns)
		diff = -(int64_t)measured_ns;
	e->valid = true;
	e->err_mppm = diff * (int64_t)MPPM / (int64_t)measured_ns;
	e->measured_mhz = periods * freq_num * MS_PER_S / freq_den;
}

/*
 * A sound PIT stays within, by the TSC:
 *   the read-back brackets: each deadline is off by up to half its bracket, at both ends;
 *   count quantisation: the count is read in whole steps (1 clock, 2 in mode 3) at each end,
 *     plus one clock for when the count is taken in at a reload (the datasheet's N + 1);
 *   one TSC cycle, the TSC's calibration (tsc_uncertainty_ppm), and PITCHK_RATE_LIMIT_PPM.
 * By the second reference, whose rate is nominal and whose reads are bracketed too:
 *   each end's deadline error plus half that reference read's bracket;
 *   the same count quantisation, and one count of the reference;
 *   the TSC's calibration, but only on the short offset from a read back to its deadline;
 *   PITCHK_NOMINAL_PPM (the two nominal rates round differently) and the limit.
 */
static void rate_errors(const struct pit_rate_run *run, struct rate_result *r)
{
	const uint64_t f = tsc_refclock.freq_hz;
	uint64_t dt = w.dl_last - w.dl_first, clocks = r->periods * run->divisor;
	uint64_t step = run->mode == PIT_MODE_SQUARE_WAVE ? 2 : 1;
	uint64_t quant_ppm = div_up((2 * step + 1) * PPM, clocks);

	rate_error(run, r->periods, tsc_ns(dt), f, dt, &r->by_tsc);
	r->by_tsc.tol_ppm = div_up((w.half_first + w.half_last) * PPM, dt) + quant_ppm +
			    div_up(PPM, dt) + tsc_uncertainty_ppm() + PITCHK_RATE_LIMIT_PPM;
	if (m.ref) {
		uint64_t dref = w.ref_last - w.ref_first;

		rate_error(run, r->periods, cycles_to_ns(dref, m.ref->freq_hz), m.ref->freq_hz, dref,
			   &r->by_ref);
		r->by_ref.tol_ppm = div_up((w.ref_err_first + w.ref_err_last) * PPM, dt) + quant_ppm +
				    div_up(PPM, dref) +
				    div_up((w.ref_off_first + w.ref_off_last) * tsc_uncertainty_ppm(), dt) +
				    PITCHK_NOMINAL_PPM + PITCHK_RATE_LIMIT_PPM;
	}
}

static void program_mode(enum pit_mode mode, uint32_t count)
{
	switch (mode) {
	case PIT_MODE_INTERRUPT_ON_TC:
		pit_ch0_interrupt_on_terminal_count(count);
		break;
	case PIT_MODE_RATE_GENERATOR:
		pit_ch0_rate_generator(count);
		break;
	case PIT_MODE_SQUARE_WAVE:
		pit_ch0_square_wave(count);
		break;
	}
}

/*
 * One run.  An edge already pending when the run starts (the previous program's, or the one
 * OUT makes when a new mode sets it high) is harmless: it is taken first, and the deadline it
 * finds is the moment the new count was loaded, which is on the new grid.
 */
static void measure_rate(const struct pit_rate_run *run, struct rate_result *r)
{
	uint64_t timeout;

	w = (struct rate_window){
		.phase = PHASE_FIRST, .run = run, .period = pit_to_cycles(run->divisor),
	};
	program_mode(run->mode, run->divisor);
	timeout = rdtsc() + (run->periods + 2) * w.period + ms_to_cycles(PITCHK_SYNC_SLACK_MS);
	sti();
	while ((w.phase != PHASE_COUNT || (int64_t)(rdtsc() - w.end) < 0) &&
	       (int64_t)(rdtsc() - timeout) < 0)
		cpu_relax();
	cli();
	r->synced = w.phase == PHASE_COUNT;
	w.phase = PHASE_OFF;
	pit_ch0_stop();

	if (!r->synced)
		return;
	r->interrupts = w.interrupts;
	r->periods = (w.dl_last - w.dl_first + w.period / 2) / w.period;
	r->lost = (int64_t)r->periods - (int64_t)r->interrupts;
	r->late_first_ns = tsc_ns(w.late_first);
	r->late_max_ns = tsc_ns(w.late_max);
	if (r->periods > 0)
		rate_errors(run, r);
}

/* ---- (b) mode 0 one-shot ---- */

static volatile bool shot_armed;
static volatile uint32_t shot_irqs;
static uint64_t shot_tsc;

static void oneshot_tick(struct trapframe *tf)
{
	uint64_t now = rdtsc();

	(void)tf;
	if (!shot_armed)
		return;         /* a stale edge while draining */
	if (shot_irqs++ == 0)
		shot_tsc = now;
}

/* Arm one shot and wait for it, then as long again for a second interrupt that must not come.
 * Returns the handler's TSC, or 0 if it never fired; *before / *after bracket the arming. */
static uint64_t fire_one_shot(uint64_t *before, uint64_t *after)
{
	const uint64_t delay = pit_to_cycles(PITCHK_ONESHOT_COUNT);
	uint64_t timeout;

	shot_irqs = 0;
	shot_armed = true;
	*before = rdtsc();
	pit_ch0_interrupt_on_terminal_count(PITCHK_ONESHOT_COUNT);
	*after = rdtsc();
	timeout = *after + ms_to_cycles(PITCHK_ONESHOT_TIMEOUT_MS);
	sti();
	while (shot_irqs == 0 && (int64_t)(rdtsc() - timeout) < 0)
		cpu_relax();
	if (shot_irqs)
		tsc_spin_until(rdtsc() + 2 * delay);
	cli();
	shot_armed = false;
	return shot_irqs ? shot_tsc : 0;
}

/*
 * The count is written at some moment in [before, after]; OUT rises N + 1 clocks after that,
 * so the handler can never run before `before` plus N clocks.  N clocks are converted with the
 * calibrated TSC, which may be off by tsc_uncertainty_ppm, and one cycle: that much slack.
 * The latest the shot was due is `after` plus N + 1 clocks; the latency is measured from there.
 */
static void measure_oneshots(struct shot_result *s)
{
	const uint64_t n = PITCHK_ONESHOT_COUNT, delay = pit_to_cycles(n);
	const uint64_t slack = div_up(delay * tsc_uncertainty_ppm(), PPM) + 1;
	int64_t fire[PITCHK_ONESHOT_SHOTS];
	uint64_t before, after, fired;
	struct pit_status st;

	s->delay_ns = n * NS_PER_S / PIT_HZ;
	s->late_max_ns = INT64_MIN;
	irq_register(PIT_IRQ, oneshot_tick);
	drain_irq0(DRAIN_MS);
	/* One shot thrown away: cold code (not yet translated under TCG) widens the first. */
	fire_one_shot(&before, &after);
	for (unsigned i = 0; i < PITCHK_ONESHOT_SHOTS; i++) {
		int64_t late;

		fired = fire_one_shot(&before, &after);
		s->armed++;
		if (!fired)
			continue;
		(void)pit_ch0_read_back(&st);
		s->out_low_after += !st.output;         /* OUT stays high after terminal count */
		s->fired_once += shot_irqs == 1;
		s->fired_twice += shot_irqs > 1;
		s->early += fired + slack < before + delay;
		fire[s->fired_once + s->fired_twice - 1] = (int64_t)tsc_ns(fired - before);
		late = (int64_t)fired - (int64_t)(after + pit_to_cycles(n + 1));
		late = late < 0 ? -(int64_t)tsc_ns((uint64_t)-late) : (int64_t)tsc_ns((uint64_t)late);
		if (late > s->late_max_ns)
			s->late_max_ns = late;
	}
	pit_ch0_stop();
	/* After terminal count mode 0 raises nothing more, but take a straggler here. */
	drain_irq0(DRAIN_MS);
	irq_unregister(PIT_IRQ);
	if (s->fired_once + s->fired_twice) {
		unsigned k = s->fired_once + s->fired_twice;

		sort_i64(fire, k);
		s->fire_min_ns = fire[0];
		s->fire_med_ns = fire[k / 2];
		s->fire_max_ns = fire[k - 1];
	}
}

/* ---- (c) read-back ---- */

/*
 * Interrupts off, IRQ 0 not registered: whatever edge OUT makes stays pending in the 8259
 * and is taken by the first rate run, where it does no harm (measure_rate).  The first status
 * is read straight after the count is written, when a real 8254 may still show NULL COUNT
 * (reported, not checked: it lasts under one clock); the others after a wait.
 */
static void measure_readback(enum pit_mode mode, struct readback_result *rb)
{
	const uint64_t gap = PITCHK_READBACK_GAP_US * tsc_refclock.freq_hz / US_PER_S;

	program_mode(mode, PITCHK_READBACK_COUNT);
	(void)pit_ch0_read_back(&rb->fresh);
	tsc_spin_until(rdtsc() + gap);
	rb->count_first = pit_ch0_read_back(&rb->first);
	rb->count_latched = pit_ch0_count();
	tsc_spin_until(rdtsc() + gap);
	rb->count_second = pit_ch0_read_back(&rb->second);
	pit_ch0_stop();
}

/* ---- measuring ---- */

void pit_measure(const char *pmtimer_absent, const char *hpet_absent)
{
	m.measured = true;
	m.ref = second_refclock(pmtimer_absent, hpet_absent, &m.ref_why);
	cli();
	for (unsigned i = 0; i < NR_READBACK; i++)
		measure_readback(readback_modes[i], &m.readback[i]);
	irq_register(PIT_IRQ, rate_tick);
	for (unsigned i = 0; i < NR_RUNS; i++)
		measure_rate(&runs[i], &m.rates[i]);
	irq_unregister(PIT_IRQ);
	measure_oneshots(&m.shots);
}

/* ---- the checks ---- */

static const char *mode_name(enum pit_mode mode)
{
	switch (mode) {
	case PIT_MODE_INTERRUPT_ON_TC:
		return "mode 0";
	case PIT_MODE_RATE_GENERATOR:
		return "mode 2";
	case PIT_MODE_SQUARE_WAVE:
		return "mode 3";
	}
	return "mode ?";
}

#define CLAIM_RATE "pit channel 0 %s ticks at %u.%u Hz (divisor %u), measured by the %s"

static void report_rate(unsigned i, bool by_ref)
{
	const struct pit_rate_run *run = &runs[i];
	const struct rate_result *r = &m.rates[i];
	const struct rate_error *e = by_ref ? &r->by_ref : &r->by_tsc;
	const char *ref = by_ref ? (m.ref ? m.ref->name : "pmtimer or hpet") : "tsc";
	uint64_t dhz = ((uint64_t)PIT_HZ * 10 + run->divisor / 2) / run->divisor; /* 0.1 Hz */
	uint64_t programmed_mhz = (uint64_t)PIT_HZ * MS_PER_S / run->divisor;

	if (by_ref && !m.ref) {
		report_skip(m.ref_why, CLAIM_RATE, mode_name(run->mode), (unsigned)(dhz / 10),
			    (unsigned)(dhz % 10), run->divisor, ref);
		return;
	}
	/* Lost ticks are reported, not failed; more interrupts than the device's edges are a
	 * fault: at most one more, when the first interrupt was handled a period late. */
	report_check(r->synced && e->valid && within(e->err_mppm, e->tol_ppm) &&
		     r->interrupts <= r->periods + 1,
		     CLAIM_RATE, mode_name(run->mode), (unsigned)(dhz / 10), (unsigned)(dhz % 10),
		     run->divisor, ref);
	report_yaml_begin();
	if (!r->synced)
		report_yaml("problem", "no interrupt within %u periods and %u ms", run->periods + 2,
			    PITCHK_SYNC_SLACK_MS);
	report_yaml("mode", "%u", run->mode);
	report_yaml_u64("divisor", run->divisor);
	report_yaml_fixed("programmed_hz", (int64_t)programmed_mhz, 3);
	report_yaml_fixed("measured_hz", (int64_t)e->measured_mhz, 3);
	report_yaml_fixed("error_ppm", e->err_mppm, 3);
	report_yaml_u64("tolerance_ppm", e->tol_ppm);
	report_yaml_u64("window_periods", run->periods);
	report_yaml_u64("interrupts", r->interrupts);
	report_yaml_u64("expected_interrupts", run->periods);
	report_yaml_u64("periods_measured", r->periods);
	report_yaml("lost_ticks", "%lld", (long long)r->lost);
	report_yaml_fixed("late_first_us", (int64_t)r->late_first_ns, 3);
	report_yaml_fixed("late_max_us", (int64_t)r->late_max_ns, 3);
	report_yaml_u64("tsc_uncertainty_ppm", tsc_uncertainty_ppm());
	report_yaml_u64("limit_ppm", PITCHK_RATE_LIMIT_PPM);
	report_yaml_end();
}

#define CLAIM_ONESHOT "pit channel 0 mode 0 one-shot fires once, never before its count runs out"

static void report_oneshots(void)
{
	const struct shot_result *s = &m.shots;

	report_check(s->armed == PITCHK_ONESHOT_SHOTS && s->fired_once == s->armed &&
		     s->early == 0 && s->out_low_after == 0, CLAIM_ONESHOT);
	report_yaml_begin();
	report_yaml_u64("count", PITCHK_ONESHOT_COUNT);
	report_yaml_fixed("delay_us", (int64_t)s->delay_ns, 3);
	report_yaml_u64("shots", s->armed);
	report_yaml_u64("fired_once", s->fired_once);
	report_yaml_u64("fired_twice", s->fired_twice);
	report_yaml_u64("early", s->early);
	report_yaml_u64("out_low_after_terminal_count", s->out_low_after);
	if (s->fired_once + s->fired_twice) {
		report_yaml_fixed("armed_to_fired_min_us", (int64_t)s->fire_min_ns, 3);
		report_yaml_fixed("armed_to_fired_median_us", (int64_t)s->fire_med_ns, 3);
		report_yaml_fixed("armed_to_fired_max_us", (int64_t)s->fire_max_ns, 3);
		report_yaml_fixed("late_max_us", s->late_max_ns, 3);
	}
	report_yaml_end();
}

#define CLAIM_READBACK "pit read-back status reports channel 0 in %s, lo/hi access, binary, " \
		       "count loaded, and the count read back decreases"

static bool status_is(const struct pit_status *st, enum pit_mode mode)
{
	return st->mode == mode && st->access == PIT_ACCESS_LOHI && !st->bcd;
}

/*
 * OUT while counting down a fresh count, by the datasheet: low in mode 0 until terminal count,
 * high in mode 2 but for the last clock of each period, high in the first half of mode 3.
 * Reported, not checked: QEMU's mode 2 OUT is the inverse (low, high for the one clock at
 * each reload; docs/pit.md), which leaves its interrupts on time but its OUTPUT bit wrong.
 */
static bool output_datasheet(enum pit_mode mode)
{
	return mode != PIT_MODE_INTERRUPT_ON_TC;
}

static void report_readback(unsigned i)
{
	const enum pit_mode mode = readback_modes[i];
	const struct readback_result *rb = &m.readback[i];
	bool falls = rb->count_first > rb->count_second && rb->count_first >= rb->count_latched &&
		     rb->count_latched >= rb->count_second;

	report_check(status_is(&rb->first, mode) && status_is(&rb->second, mode) &&
		     !rb->second.null_count && falls, CLAIM_READBACK, mode_name(mode));
	report_yaml_begin();
	report_yaml("status", "0x%02x", rb->first.raw);
	report_yaml_u64("mode", rb->first.mode);
	report_yaml_u64("rw", rb->first.access);
	report_yaml("bcd", "%s", rb->first.bcd ? "true" : "false");
	report_yaml("output", "%s", rb->first.output ? "high" : "low");
	report_yaml("output_datasheet", "%s", output_datasheet(mode) ? "high" : "low");
	report_yaml("null_count", "%s", rb->second.null_count ? "true" : "false");
	report_yaml("null_count_right_after_write", "%s", rb->fresh.null_count ? "true" : "false");
	report_yaml_u64("count_loaded", PITCHK_READBACK_COUNT);
	report_yaml_u64("count_first", rb->count_first);
	report_yaml_u64("count_latch_command", rb->count_latched);
	report_yaml_u64("count_second", rb->count_second);
	report_yaml_u64("gap_us", PITCHK_READBACK_GAP_US);
	report_yaml_end();
}

void pit_report_checks(void)
{
	if (!m.measured)
		return;
	for (unsigned i = 0; i < NR_RUNS; i++) {
		report_rate(i, false);
		report_rate(i, true);
	}
	report_oneshots();
	for (unsigned i = 0; i < NR_READBACK; i++)
		report_readback(i);
}
