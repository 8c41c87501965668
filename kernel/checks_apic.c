/*
 * Local APIC timer and IOAPIC checks (see checks_apic.h for the targets and tolerances).
 *
 * (a) For every divider, the timer counts at 1/d of its divide-by-1 rate and, in periodic
 *     mode, interrupts every initial-count counts.  Each interrupt's moment is recovered from
 *     the timer itself: the handler reads the TSC and TCCR together, and the counts already
 *     gone since the reload say how long ago it fired, so interrupt latency drops out.  The
 *     same span is timed by a second reference (the ACPI PM timer, else the HPET), read in the
 *     handler between two TCCR reads.  The timer's clock has no nominal rate, so each
 *     reference measures it for itself (the TSC at start-up, the second one here, over
 *     APIC_REF_WINDOW_MS), converts the latencies with it, and is checked against what it
 *     measured; a check of its own holds the two clock rates to each other.
 * (b) One-shot: fires once, never before its count has run out; the latency is reported.
 * (c) TSC-deadline, where the CPU has it: fires once, never before the deadline.
 * (d) The IOAPIC routes ISA IRQ 0 from the PIT, through the MADT's override, at the PIT's rate
 *     (latency taken out the same way, with the PIT's own count).
 *
 * Everything is measured with interrupts on by busy-waiting on the TSC rather than halting, so a
 * timer that never fires costs a timeout, not a hung guest.
 */
#include "kernel/checks_apic.h"
#include "kernel/checks.h"
#include "kernel/format.h"
#include "kernel/irq.h"
#include "kernel/report.h"
#include "kernel/trap.h"
#include "checks/window.h"
#include "kernel/x86.h"
#include "drivers/ioapic.h"
#include "drivers/lapic.h"
#include "drivers/madt.h"
#include "drivers/pit8254.h"
#include "drivers/tsc.h"
#include "acct/stats.h"

#define MAX_SAMPLES (APIC_PERIODIC_PERIODS + 1)
#define MPPM        (PPM * 1000)        /* errors in thousandths of a ppm */

/* The interrupts' span as one reference saw it. */
struct period_fit {
	bool valid;
	uint64_t periods, lost;         /* periods the measured span covers; those not delivered */
	int64_t err_mppm;               /* rate error, 1/1000 ppm: + when the interrupts come fast */
	uint64_t programmed_mhz;        /* clock / (count x d), the clock by this reference */
	uint64_t measured_mhz;          /* periods over the span, by this reference */
	uint64_t bound_ppm;
	uint64_t read_bracket;          /* the wider end's: TSC cycles, or TCCR counts by the ref */
};

struct periodic_result {
	uint32_t count;                 /* TICR */
	unsigned irqs;
	int64_t rate_err_ppm;           /* count rate x d against the divide-by-1 rate */
	uint64_t rate_bound_ppm;
	uint64_t max_latency_ns;        /* handler after the timer fired, from TCCR */
	struct period_fit by_tsc, by_ref;
	/* The window's stolen time (checks/window.h), in the last of `tries` windows: clean
	 * when no step was as long as a period, which is what it takes to merge a tick. */
	struct window_steal steal;
	unsigned tries;
	bool clean;
};

struct shot_result {
	unsigned armed, fired_once, early, extra;
	uint64_t arm_bracket;           /* widest rdtsc..arm..rdtsc, TSC cycles */
	uint64_t expected_ns;
	int64_t lat_min_ns, lat_med_ns, lat_max_ns;
	bool counter_cleared;           /* TCCR = 0 / IA32_TSC_DEADLINE = 0 after firing */
};

struct pit_result {
	struct ioapic_pin pin;
	unsigned ticks;
	int64_t err_ppm;
	uint64_t bound_ppm;
	uint64_t periods, lost;         /* periods between first and last tick; not delivered */
	uint64_t measured_mhz;          /* milli-Hz */
	uint64_t programmed_mhz;
	bool valid;                     /* enough on-time intervals to measure the rate */
	uint32_t stray;                 /* unhandled ISA + unexpected vectors during the window */
};

static struct {
	char lapic_why[96], ioapic_why[96];
	bool lapic, ioapic;
	struct periodic_result periodic[LAPIC_NR_DIVIDERS];
	struct shot_result oneshot, deadline;
	struct pit_result pit;
	struct refclock *ref;           /* the second reference, or NULL */
	const char *ref_why;            /* why there is none */
	struct lapic_ref_rate ref_rate; /* the timer's clock by the second reference */
} r;

/*
 * What the timer handler saw, per interrupt: the TSC (midpoint of the bracket) and TCCR, then
 * the second reference and TCCR again, so that reference read sits between two TCCR reads.
 */
static volatile unsigned nirq;
static uint64_t irq_tsc[MAX_SAMPLES], irq_width[MAX_SAMPLES], irq_ref[MAX_SAMPLES];
static uint32_t irq_tccr[MAX_SAMPLES], irq_tccr_after[MAX_SAMPLES];

static void timer_sample(struct trapframe *tf)
{
	(void)tf;
	if (nirq < MAX_SAMPLES)
		irq_tccr[nirq] = lapic_timer_sample(&irq_tsc[nirq], &irq_width[nirq]);
	nirq++;
}

static void periodic_sample(struct trapframe *tf)
{
	(void)tf;
	if (nirq < MAX_SAMPLES) {
		irq_tccr[nirq] = lapic_timer_sample(&irq_tsc[nirq], &irq_width[nirq]);
		if (r.ref) {
			irq_ref[nirq] = refclock_read(r.ref);
			irq_tccr_after[nirq] = lapic_timer_current();
		}
	}
	nirq++;
}

static uint64_t abs64(int64_t v)
{
	return v < 0 ? (uint64_t)-v : (uint64_t)v;
}

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return b ? (a + b - 1) / b : 0;
}

/* diff against base in 1/1000 ppm; diff clamped to +-base so the product cannot overflow for
 * a base below 9 x 10^9. */
static int64_t mppm(int64_t diff, uint64_t base)
{
	if (base == 0)
		return 0;
	if (diff > (int64_t)base)
		diff = (int64_t)base;
	if (diff < -(int64_t)base)
		diff = -(int64_t)base;
	return diff * (int64_t)MPPM / (int64_t)base;
}

/* Busy-wait with interrupts on until *n reaches want or timeout TSC cycles pass. */
static void wait_irqs(volatile unsigned *n, unsigned want, uint64_t timeout)
{
	uint64_t t0 = rdtsc();

	sti();
	while (*n < want && rdtsc() - t0 < timeout) {
		window_probe();
		cpu_relax();
	}
	cli();
}

/* Let interrupts in for cycles TSC cycles, then shut them out again. */
static void run_with_interrupts(uint64_t cycles)
{
	uint64_t t0 = rdtsc();

	sti();
	while (rdtsc() - t0 < cycles)
		cpu_relax();
	cli();
}

static uint64_t us_to_tsc(uint64_t us)
{
	return us * (tsc_refclock.freq_hz / 1000) / 1000;
}

/*
 * Divide-by-1 timer counts to TSC cycles, by the ratio the calibration measured directly
 * (counts and TSC cycles of one window) rather than through the two frequencies: the TSC's
 * own frequency error then cancels out of every comparison below.
 */
static uint64_t counts_to_tsc(uint64_t counts)
{
	const struct lapic_rate *r1 = &lapic_calibration()->rate[0];

	return counts / r1->counts * r1->tsc_delta + counts % r1->counts * r1->tsc_delta / r1->counts;
}

/* A span of a reference (dref of its counts) in divide-by-1 timer counts, at the ratio its
 * calibration window measured (counts timer counts in ref_delta of its counts). */
static uint64_t ref_to_counts(uint64_t dref, uint64_t counts, uint64_t ref_delta)
{
	return dref / ref_delta * counts + dref % ref_delta * counts / ref_delta;
}

/*
 * Fit the span from the first to the last interrupt (span timer counts at divide by 1, by one
 * reference, latencies taken out) to whole periods of count x d counts: with latency gone the
 * interrupts sit on the timer's grid, so the span is a whole number of periods even when the
 * emulator dropped some (QEMU merges ticks missed while its thread did not run).  Round, and
 * report the difference from the interrupts as lost.  hz is the clock by that reference.
 */
static void fit_periods(int64_t span, uint64_t period, unsigned k, uint64_t hz, struct period_fit *f)
{
	uint64_t expected;

	if (span <= 0 || period == 0)
		return;
	f->periods = ((uint64_t)span + period / 2) / period;
	f->lost = f->periods > k ? f->periods - k : 0;
	if (f->periods == 0)
		return;
	expected = period * f->periods;
	f->err_mppm = mppm((int64_t)expected - span, (uint64_t)span);
	f->programmed_mhz = hz * 1000 / period;
	f->measured_mhz = f->periods * hz * 1000 / (uint64_t)span;
	f->valid = true;
}

/*
 * Divide-by-1 timer counts the reference read came after the reload, twice over (kept whole):
 * the TCCR reads before (c0) and after (c1) it put it at their midpoint.  A reload between the
 * two puts c1 in the next period: count + 1 more counts (QEMU's period; the extra one is in
 * the bound with the read's bracket).
 */
static uint64_t ref_late2(uint32_t count, uint32_t c0, uint32_t c1, unsigned d, uint64_t *bracket)
{
	*bracket = c0 >= c1 ? c0 - c1 : (uint64_t)c0 + count + 1 - c1;
	return (2 * (uint64_t)(count - c0) + *bracket) * d;
}

static void measure_periodic(unsigned index, struct periodic_result *p)
{
	const struct lapic_calibration *cal = lapic_calibration();
	const struct lapic_rate *rd = &cal->rate[index], *r1 = &cal->rate[0];
	const struct lapic_ref_rate *rr = &r.ref_rate;
	const unsigned d = lapic_divider(index);
	uint64_t count = (cal->hz * APIC_PERIODIC_US / d + 500000) / 1000000, period, expected, late0, latek;
	unsigned k;

	if (rd->hz && r1->hz) {
		p->rate_err_ppm = ((int64_t)(rd->hz * d) - (int64_t)r1->hz) * (int64_t)PPM /
				  (int64_t)r1->hz;
		/* Both rates were measured with the same TSC: only their own bounds remain. */
		p->rate_bound_ppm = rd->bound_ppm + r1->bound_ppm + APIC_RATE_LIMIT_PPM;
	}
	if (count < 2 || count > 0xffffffffull)
		return;
	p->count = (uint32_t)count;
	/* The handler run once by hand first: under TCG its first run is translation, which
	 * would widen the first interrupt's read brackets by tens of us. */
	nirq = 0;
	periodic_sample(0);
	nirq = 0;
	lapic_timer_connect(periodic_sample);
	window_begin();
	lapic_timer_periodic(d, p->count);
	wait_irqs(&nirq, MAX_SAMPLES, us_to_tsc(2 * APIC_PERIODIC_US * (MAX_SAMPLES + 1)));
	lapic_timer_stop();
	p->steal = window_end();
	p->clean = window_clean(&p->steal, us_to_tsc(APIC_PERIODIC_US));
	lapic_timer_connect(0);
	p->irqs = nirq;
	if (nirq < 2)
		return;
	k = (nirq < MAX_SAMPLES ? nirq : MAX_SAMPLES) - 1;
	for (unsigned i = 0; i <= k; i++) {
		uint64_t late = counts_to_tsc((uint64_t)(p->count - irq_tccr[i]) * d);
		uint64_t ns = cycles_to_ns(late, tsc_refclock.freq_hz);

		if (irq_tccr[i] <= p->count && ns > p->max_latency_ns)
			p->max_latency_ns = ns;
	}
	period = count * d;

	/* By the TSC: each interrupt fired at its sample less the counts gone since the reload. */
	late0 = (uint64_t)(p->count - irq_tccr[0]) * d;
	latek = (uint64_t)(p->count - irq_tccr[k]) * d;
	fit_periods((int64_t)ref_to_counts(irq_tsc[k] - irq_tsc[0], r1->counts, r1->tsc_delta) -
		    ((int64_t)latek - (int64_t)late0), period, k, cal->hz, &p->by_tsc);
	p->by_tsc.read_bracket = irq_width[0] > irq_width[k] ? irq_width[0] : irq_width[k];
	if (p->by_tsc.valid) {
		expected = period * p->by_tsc.periods;
		/*
		 * A sound timer's span, by the TSC, misses periods x count x d counts by no more than:
		 *   one count (d clocks) per period: the SDM does not say whether the reload takes
		 *     a count (QEMU's period is count + 1);
		 *   each end's TCCR read is whole counts: d clocks at each end;
		 *   each end's moment is known to half its rdtsc bracket, plus one cycle;
		 *   the divide-by-1 calibration's bound, which converts TSC cycles to clocks, on the
		 *     span and on the two latencies taken out (the TSC's own error cancels: the span
		 *     and the calibration are both ratios of the same TSC);
		 *   one for the rounding of the divisions, and APIC_RATE_LIMIT_PPM.
		 */
		p->by_tsc.bound_ppm =
			div_up(PPM, count) +
			div_up((2 * d + ref_to_counts((irq_width[0] + irq_width[k]) / 2 + 1, r1->counts,
						      r1->tsc_delta) + 1) * PPM, expected) +
			r1->bound_ppm + div_up((late0 + latek) * r1->bound_ppm, expected) +
			1 + APIC_RATE_LIMIT_PPM;
	}

	/*
	 * By the second reference: the same, with its own reads and its own calibration of the
	 * timer's clock, so neither the TSC nor its calibration enters.
	 */
	if (r.ref && rr->hz) {
		uint64_t b0, bk, l0 = ref_late2(p->count, irq_tccr[0], irq_tccr_after[0], d, &b0);
		uint64_t lk = ref_late2(p->count, irq_tccr[k], irq_tccr_after[k], d, &bk);
		uint64_t dref = irq_ref[k] - irq_ref[0];

		fit_periods((int64_t)ref_to_counts(dref, rr->counts, rr->ref_delta) -
			    ((int64_t)lk - (int64_t)l0) / 2, period, k, rr->hz, &p->by_ref);
		p->by_ref.read_bracket = b0 > bk ? b0 : bk;
		if (p->by_ref.valid) {
			expected = period * p->by_ref.periods;
			/*
			 * Within, by the second reference:
			 *   one count per period for the reload, as above;
			 *   each end's reference read latched between two TCCR reads: half their
			 *     distance (b counts of d clocks), plus one count because each TCCR read
			 *     is whole counts, plus half a clock for halving the doubled latencies;
			 *   the reference's reads are whole counts: one of them over the span;
			 *   this reference's calibration bound, on the span and on the latencies;
			 *   one for the rounding of the divisions, and APIC_RATE_LIMIT_PPM.
			 */
			p->by_ref.bound_ppm =
				div_up(PPM, count) +
				div_up(((b0 + bk) * d + 4 * d + 1) * PPM, 2 * expected) +
				div_up(PPM, dref) +
				rr->bound_ppm + div_up((l0 + lk) / 2 * rr->bound_ppm, expected) +
				1 + APIC_RATE_LIMIT_PPM;
		}
	}
}

static int64_t signed_ns(int64_t cycles)
{
	int64_t ns = (int64_t)cycles_to_ns(abs64(cycles), tsc_refclock.freq_hz);

	return cycles < 0 ? -ns : ns;
}

/*
 * Arm the timer (one-shot when deadline is false, else TSC-deadline) APIC_ONESHOT_REPEATS
 * times.  Each shot must fire once and not before its time: for one-shot, the count's TSC
 * equivalent after the TICR write's bracket opened, less the calibration's bound and one
 * count; for TSC-deadline, the deadline itself, since it is the same counter.
 */
static void measure_shots(bool deadline, struct shot_result *s)
{
	const uint64_t delay_tsc = us_to_tsc(APIC_ONESHOT_US);
	const uint64_t count = lapic_calibration()->hz / 1000000 * APIC_ONESHOT_US;
	int64_t lat[APIC_ONESHOT_REPEATS];
	uint64_t expect = deadline ? delay_tsc : counts_to_tsc(count);
	uint64_t slack = deadline ? 0 : expect / 1000000 * lapic_calibration()->bound_ppm +
				    counts_to_tsc(1) + 1;

	s->expected_ns = cycles_to_ns(expect, tsc_refclock.freq_hz);
	s->counter_cleared = true;
	lapic_set_divider(1);
	lapic_timer_connect(timer_sample);
	/* One shot thrown away first: cold code (under TCG, not yet translated) widens the
	 * arming bracket and the latency of the first by tens of us. */
	nirq = 0;
	if ((deadline ? lapic_arm_tsc_deadline(rdtsc() + delay_tsc) : lapic_arm_oneshot((uint32_t)count)) == 0)
		wait_irqs(&nirq, 1, 20 * expect + us_to_tsc(100000));
	for (unsigned i = 0; i < APIC_ONESHOT_REPEATS; i++) {
		uint64_t before, after, due, fired;

		nirq = 0;
		before = rdtsc();
		if ((deadline ? lapic_arm_tsc_deadline(before + delay_tsc)
			      : lapic_arm_oneshot((uint32_t)count)) < 0)
			break;
		after = rdtsc();
		s->armed++;
		if (after - before > s->arm_bracket)
			s->arm_bracket = after - before;
		due = deadline ? before + delay_tsc : before + expect;
		/* Wait for it, then as long again for a second interrupt that must not come. */
		wait_irqs(&nirq, 1, 20 * expect + us_to_tsc(100000));
		if (nirq >= 1)
			wait_irqs(&nirq, 2, 2 * expect);
		if (nirq == 0) {
			lat[i] = 0;
			continue;
		}
		fired = irq_tsc[0] - irq_width[0] / 2;  /* the handler's first TSC read */
		s->fired_once += nirq == 1;
		s->extra += nirq > 1;
		s->early += fired + slack < due;
		/* Latency after the latest moment the shot was due. */
		lat[i] = signed_ns((int64_t)(fired - (deadline ? due : after + expect)));
		if (deadline ? lapic_tsc_deadline_read() != 0 : lapic_timer_current() != 0)
			s->counter_cleared = false;
	}
	lapic_timer_stop();
	lapic_timer_connect(0);
	if (s->armed) {
		sort_i64(lat, s->armed);
		s->lat_min_ns = lat[0];
		s->lat_med_ns = lat[s->armed / 2];
		s->lat_max_ns = lat[s->armed - 1];
	}
}

/* ---- (d) PIT through the IOAPIC ---- */

/* What the PIT handler saw: the TSC bracket and channel 0's count, first and latest tick. */
static volatile unsigned pit_ticks;
static volatile bool pit_recording;     /* off once the PIT is stopped: its count means nothing */
static uint64_t pit_tsc[2], pit_width[2];
static uint32_t pit_left[2];

static void pit_tick(struct trapframe *tf)
{
	unsigned i = pit_ticks == 0 ? 0 : 1;
	uint64_t t0 = rdtsc();

	(void)tf;
	if (!pit_recording)
		return;
	pit_left[i] = pit_ch0_count();
	pit_tsc[i] = rdtsc();
	pit_width[i] = pit_tsc[i] - t0;
	pit_tsc[i] = t0 + pit_width[i] / 2;
	pit_ticks++;
}

static uint32_t stray_count(void)
{
	const struct irq_counts *c = irq_counts();
	uint32_t n = trap_unexpected_count();

	for (unsigned i = 0; i < NR_ISA_IRQS; i++)
		n += c->unhandled[i];
	return n;
}

/* PIT input counts to TSC cycles, at the PIT's nominal rate and the calibrated TSC. */
static uint64_t pit_counts_to_tsc(uint64_t counts)
{
	return counts * tsc_refclock.freq_hz / PIT_HZ;
}

static void measure_pit_via_ioapic(struct pit_result *p)
{
	const struct irqchip *prev = irq_chip();
	uint32_t stray0 = stray_count();
	uint64_t period, fire0, firek, span, expected;
	uint32_t divisor;
	char why[96];

	irq_set_chip(ioapic_select());
	pit_ticks = 0;
	irq_register(0, pit_tick);
	ioapic_route(0, &p->pin);       /* after irq_register: the entry as unmasked */
	if (pit_tick_source.start_periodic(APIC_PIT_HZ, why, sizeof(why)) == 0) {
		pit_recording = true;
		run_with_interrupts(us_to_tsc(APIC_PIT_WINDOW_MS * 1000ull));
		pit_recording = false;
		pit_tick_source.stop();
	}
	/* A tick already on its way lands now, on a line still registered, not on nobody's. */
	run_with_interrupts(us_to_tsc(1000000 / APIC_PIT_HZ));
	irq_unregister(0);
	ioapic_deselect();
	irq_set_chip(prev);

	p->ticks = pit_ticks;
	p->stray = stray_count() - stray0;
	if (p->ticks < 2)
		return;
	/*
	 * As for the local APIC timer, latency is taken out with the device's own counter: the
	 * PIT's channel 0 has counted divisor - count since the reload that raised IRQ 0.  The
	 * corrected span is then a whole number of periods even where ticks were lost.
	 */
	divisor = pit_ch0_divisor();
	p->programmed_mhz = 1000000000000000ull / pit_tick_source.period_ps();
	period = pit_counts_to_tsc(divisor);
	fire0 = pit_tsc[0] - pit_counts_to_tsc(divisor - pit_left[0]);
	firek = pit_tsc[1] - pit_counts_to_tsc(divisor - pit_left[1]);
	span = firek - fire0;
	p->periods = (span + period / 2) / period;
	p->lost = p->periods > p->ticks - 1 ? p->periods - (p->ticks - 1) : 0;
	if (p->periods == 0)
		return;
	expected = period * p->periods;
	p->measured_mhz = p->periods * tsc_refclock.freq_hz * 1000 / span;
	p->err_ppm = ((int64_t)span - (int64_t)expected) * (int64_t)PPM / (int64_t)expected;
	/*
	 * Two count reads of one PIT count each (plus one for mode 2's reload count), the two
	 * read brackets, the TSC's calibration (the PIT's rate is nominal), the stated limit.
	 */
	p->bound_ppm = 3 * pit_counts_to_tsc(1) * PPM / expected +
		       (pit_width[0] + pit_width[1]) / 2 * PPM / expected + 1 +
		       tsc_uncertainty_ppm() + APIC_RATE_LIMIT_PPM;
	p->valid = true;
}

/* ---- banners ---- */

static void madt_banner(void)
{
	const struct madt_info *m = madt();
	char buf[200];
	size_t n = 0;

	if (!m->found) {
		report_banner("madt", "none (%s)", m->why);
		return;
	}
	for (unsigned i = 0; i < m->noverrides && n < sizeof(buf); i++) {
		const struct madt_override *o = &m->override[i];
		struct madt_route rt = madt_isa_route(m, o->source);

		n += ksnprintf(buf + n, sizeof(buf) - n, " irq%u->gsi%u%s%s", o->source, o->gsi,
			       rt.level ? " level" : "", rt.active_low ? " low" : "");
	}
	report_banner("madt", "local APIC 0x%08llx, %u CPU, %u IOAPIC, overrides:%s%s%s",
		      (unsigned long long)m->lapic_addr, m->ncpus, m->nioapics, n ? buf : " none",
		      m->flags & MADT_PCAT_COMPAT ? ", PCAT_COMPAT" : "", m->why);
}

void apic_init(void)
{
	char buf[160];

	madt_init();
	madt_banner();
	r.lapic = lapic_init(r.lapic_why, sizeof(r.lapic_why));
	if (!r.lapic) {
		report_banner("lapic", "none (%s)", r.lapic_why);
	} else {
		char mhz[24];

		/* VER: bits 7:0 the version (1xH: integrated APIC), 23:16 the last LVT entry */
		report_banner("lapic", "id %u at 0x%08x, version 0x%02x, %u LVT entries, TSC-deadline %s",
			      lapic_id(), lapic_base(), lapic_version() & 0xff,
			      ((lapic_version() >> 16) & 0xff) + 1,
			      lapic_tsc_deadline_supported() ? "yes" : "no");
		lapic_calibrate();
		report_banner("lapic timer", "%s MHz at divide by 1, from the tsc (8 windows of 20 ms, "
			      "bound %llu ppm)",
			      fmt_fixed(mhz, sizeof(mhz), (int64_t)(lapic_calibration()->hz / 1000), 3),
			      (unsigned long long)lapic_calibration()->bound_ppm);
		if (lapic_calibration()->hz == 0) {
			r.lapic = false;
			ksnprintf(r.lapic_why, sizeof(r.lapic_why), "the local APIC timer did not count");
		}
	}
	r.ioapic = ioapic_init(r.ioapic_why, sizeof(r.ioapic_why));
	if (!r.ioapic) {
		report_banner("ioapic", "none (%s)", r.ioapic_why);
		return;
	}
	for (unsigned i = 0; i < ioapic_count(); i++) {
		ioapic_describe(i, buf, sizeof(buf));
		report_banner("ioapic", "%s", buf);
	}
}

const char *apic_lapic_missing(void)
{
	return r.lapic ? NULL : r.lapic_why;
}

const char *apic_ioapic_missing(void)
{
	return r.ioapic ? NULL : r.ioapic_why;
}

void apic_measure(const char *pmtimer_absent, const char *hpet_absent)
{
	r.ref = second_refclock(pmtimer_absent, hpet_absent, &r.ref_why);
	if (r.lapic && r.ref) {
		/* A short window thrown away first: under TCG the first pass is translation. */
		lapic_measure_rate_by(r.ref, us_to_tsc(APIC_REF_WINDOW_MS * 1000ull / 20), &r.ref_rate);
		lapic_measure_rate_by(r.ref, us_to_tsc(APIC_REF_WINDOW_MS * 1000ull), &r.ref_rate);
	}
	if (r.lapic) {
		for (unsigned i = 0; i < LAPIC_NR_DIVIDERS; i++) {
			struct periodic_result *p = &r.periodic[i];

			for (unsigned t = 1; t <= WINDOW_TRIES && !p->clean; t++) {
				*p = (struct periodic_result){ .tries = t };
				measure_periodic(i, p);
			}
		}
		measure_shots(false, &r.oneshot);
		if (lapic_tsc_deadline_supported())
			measure_shots(true, &r.deadline);
	}
	if (r.ioapic)
		measure_pit_via_ioapic(&r.pit);
}

/* ---- the checks ---- */

#define CLAIM_PERIODIC_TSC "lapic timer divide by %u: counts at 1/%u of the divide-by-1 rate and " \
			   "interrupts every initial count, measured by the tsc"
#define CLAIM_PERIODIC_REF "lapic timer divide by %u: interrupts every initial count, measured by the %s"
#define CLAIM_CLOCKS "lapic timer clock measured by the %s agrees with the one measured by the " \
		     "tsc, within their bounds + %u ppm"

static const char *ref_name(void)
{
	return r.ref ? r.ref->name : "pmtimer or hpet";
}

static bool fit_ok(const struct period_fit *f)
{
	return f->valid && abs64(f->err_mppm) <= f->bound_ppm * 1000;
}

/*
 * Why a periodic check is not judged: every window it had, the host took the CPU for a period
 * or more, long enough to merge a tick (QEMU drops ticks its thread could not deliver), so a
 * short count says nothing about the timer.  NULL when the last window was clean.
 */
static const char *periodic_not_judged(const struct periodic_result *p, char *why, size_t n)
{
	if (p->clean)
		return 0;
	window_not_judged(why, n, p->tries, &p->steal);
	return why;
}

/* The keys every periodic rate check carries (scripts/bench-devices lists them). */
static void fit_yaml(const struct periodic_result *p, const struct period_fit *f)
{
	report_yaml_u64("initial_count", p->count);
	report_yaml_fixed("programmed_hz", (int64_t)f->programmed_mhz, 3);
	report_yaml_fixed("measured_hz", (int64_t)f->measured_mhz, 3);
	report_yaml_fixed("error_ppm", f->err_mppm, 3);
	report_yaml_u64("bound_ppm", f->bound_ppm);
	report_yaml_u64("interrupts", p->irqs);
	report_yaml_u64("periods_measured", f->periods);
	report_yaml_u64("lost_ticks", f->lost);
}

static void report_periodic_tsc(unsigned index)
{
	const struct periodic_result *p = &r.periodic[index];
	const struct lapic_rate *rd = &lapic_calibration()->rate[index];
	const unsigned d = lapic_divider(index);
	char why[160];

	if (periodic_not_judged(p, why, sizeof(why)))
		report_skip(why, CLAIM_PERIODIC_TSC, d, d);
	else
		report_check(rd->hz && p->irqs >= MAX_SAMPLES &&
			     abs64(p->rate_err_ppm) <= p->rate_bound_ppm && fit_ok(&p->by_tsc),
			     CLAIM_PERIODIC_TSC, d, d);
	report_yaml_begin();
	report_yaml_u64("divider", d);
	fit_yaml(p, &p->by_tsc);
	window_yaml(p->tries, &p->steal);
	report_yaml_fixed("read_bracket_max_us",
			  (int64_t)cycles_to_ns(p->by_tsc.read_bracket, tsc_refclock.freq_hz), 3);
	report_yaml_fixed("max_latency_us", (int64_t)p->max_latency_ns, 3);
	report_yaml_u64("count_rate_hz", rd->hz);
	report_yaml_u64("counts", rd->counts);
	report_yaml_fixed("count_read_bracket_us", (int64_t)cycles_to_ns(rd->read_cycles,
									  tsc_refclock.freq_hz), 3);
	report_yaml("rate_error_ppm", "%lld", (long long)p->rate_err_ppm);
	report_yaml_u64("rate_bound_ppm", p->rate_bound_ppm);
	report_yaml_u64("calibration_bound_ppm", lapic_calibration()->bound_ppm);
	report_yaml_u64("limit_ppm", APIC_RATE_LIMIT_PPM);
	report_yaml_end();
}

static void report_periodic_ref(unsigned index)
{
	const struct periodic_result *p = &r.periodic[index];
	const unsigned d = lapic_divider(index);
	char why[160];

	if (!r.ref) {
		report_skip(r.ref_why, CLAIM_PERIODIC_REF, d, ref_name());
		return;
	}
	if (periodic_not_judged(p, why, sizeof(why)))
		report_skip(why, CLAIM_PERIODIC_REF, d, ref_name());
	else
		report_check(r.ref_rate.hz && p->irqs >= MAX_SAMPLES && fit_ok(&p->by_ref),
			     CLAIM_PERIODIC_REF, d, ref_name());
	report_yaml_begin();
	report_yaml_u64("divider", d);
	fit_yaml(p, &p->by_ref);
	window_yaml(p->tries, &p->steal);
	/* TCCR counts of d clocks, at the clock this reference measured */
	report_yaml_fixed("read_bracket_max_us", (int64_t)(p->by_ref.read_bracket * d * 1000000000ull /
							   (r.ref_rate.hz ? r.ref_rate.hz : 1)), 3);
	report_yaml_u64("reference_hz", r.ref->freq_hz);
	report_yaml_u64("clock_hz", r.ref_rate.hz);
	report_yaml_u64("calibration_bound_ppm", r.ref_rate.bound_ppm);
	report_yaml_u64("limit_ppm", APIC_RATE_LIMIT_PPM);
	report_yaml_end();
}

/*
 * The timer's clock by the TSC and by the second reference.  Each measurement has its own bound
 * (quantisation and read brackets); the TSC's rate is known to tsc_uncertainty_ppm, the second
 * reference's is nominal, and the nominal rates the TSC was calibrated with round differently
 * by up to APIC_NOMINAL_PPM; then the stated limit.
 */
static void report_clocks(void)
{
	const struct lapic_calibration *cal = lapic_calibration();
	const struct lapic_ref_rate *rr = &r.ref_rate;
	uint64_t bound = cal->bound_ppm + rr->bound_ppm + tsc_uncertainty_ppm() + APIC_NOMINAL_PPM +
			 APIC_RATE_LIMIT_PPM;
	int64_t diff = mppm((int64_t)rr->hz - (int64_t)cal->hz, cal->hz);

	if (!r.ref) {
		report_skip(r.ref_why, CLAIM_CLOCKS, ref_name(), APIC_RATE_LIMIT_PPM);
		return;
	}
	report_check(rr->hz && cal->hz && abs64(diff) <= bound * 1000, CLAIM_CLOCKS, ref_name(),
		     APIC_RATE_LIMIT_PPM);
	report_yaml_begin();
	report_yaml_u64("tsc_hz", cal->hz);
	report_yaml_u64("tsc_bound_ppm", cal->bound_ppm);
	report_yaml_u64("reference_hz", rr->hz);
	report_yaml_u64("reference_bound_ppm", rr->bound_ppm);
	report_yaml_u64("reference_window_ms", APIC_REF_WINDOW_MS);
	report_yaml_u64("reference_counts", rr->ref_delta);
	report_yaml_u64("timer_counts", rr->counts);
	report_yaml_u64("read_brackets_counts", rr->read_counts);
	report_yaml_fixed("difference_ppm", diff, 3);
	report_yaml_u64("tsc_uncertainty_ppm", tsc_uncertainty_ppm());
	report_yaml_u64("nominal_ppm", APIC_NOMINAL_PPM);
	report_yaml_u64("limit_ppm", APIC_RATE_LIMIT_PPM);
	report_yaml_u64("bound_ppm", bound);
	report_yaml_end();
}

static void report_shots(const struct shot_result *s, const char *what)
{
	report_yaml_begin();
	report_yaml("mode", "%s", what);
	report_yaml_fixed("delay_us", (int64_t)s->expected_ns, 3);
	report_yaml_u64("armed", s->armed);
	report_yaml_u64("fired_once", s->fired_once);
	report_yaml_u64("fired_twice", s->extra);
	report_yaml_u64("early", s->early);
	report_yaml_fixed("arm_bracket_max_us",
			  (int64_t)cycles_to_ns(s->arm_bracket, tsc_refclock.freq_hz), 3);
	report_yaml_fixed("latency_min_us", s->lat_min_ns, 3);
	report_yaml_fixed("latency_median_us", s->lat_med_ns, 3);
	report_yaml_fixed("latency_max_us", s->lat_max_ns, 3);
	report_yaml("counter_cleared", "%s", s->counter_cleared ? "true" : "false");
	report_yaml_u64("spurious_vector_0xff", lapic_spurious_count());
	report_yaml("esr", "0x%08x", lapic_error_status());
	report_yaml_end();
}

static bool shots_ok(const struct shot_result *s)
{
	return s->armed == APIC_ONESHOT_REPEATS && s->fired_once == s->armed && s->early == 0 &&
	       s->counter_cleared;
}

void apic_report_checks(void)
{
	if (!r.lapic) {
		report_skip(r.lapic_why, "lapic timer: counts at 1/d of the divide-by-1 rate and "
			    "interrupts every initial count, at every divider, measured by the tsc");
		report_skip(r.lapic_why, "lapic timer: interrupts every initial count, at every "
			    "divider, measured by the %s", ref_name());
		report_skip(r.lapic_why, CLAIM_CLOCKS, ref_name(), APIC_RATE_LIMIT_PPM);
		report_skip(r.lapic_why, "lapic one-shot timer fires once, never early");
		report_skip(r.lapic_why, "lapic TSC-deadline timer fires once, never before its deadline");
	} else {
		report_clocks();
		for (unsigned i = 0; i < LAPIC_NR_DIVIDERS; i++) {
			report_periodic_tsc(i);
			report_periodic_ref(i);
		}
		report_check(shots_ok(&r.oneshot), "lapic one-shot timer fires once, never early");
		report_shots(&r.oneshot, "one-shot, divide by 1");
		if (!lapic_tsc_deadline_supported()) {
			report_skip("no TSC-deadline mode (CPUID.01H:ECX[24] = 0)",
				    "lapic TSC-deadline timer fires once, never before its deadline");
		} else {
			report_check(shots_ok(&r.deadline),
				     "lapic TSC-deadline timer fires once, never before its deadline");
			report_shots(&r.deadline, "TSC-deadline");
		}
	}

	if (!r.ioapic) {
		report_skip(r.ioapic_why, "ioapic routes the PIT (ISA IRQ 0) at its programmed rate");
		return;
	}
	report_check(r.pit.valid && r.pit.stray == 0 &&
		     abs64(r.pit.err_ppm) <= r.pit.bound_ppm,
		     "ioapic routes the PIT (ISA IRQ 0) at its programmed rate");
	report_yaml_begin();
	report_yaml_u64("gsi", r.pit.pin.gsi);
	report_yaml_u64("ioapic_id", r.pit.pin.ioapic_id);
	report_yaml_u64("pin", r.pit.pin.pin);
	report_yaml("override", "%s", r.pit.pin.overridden ? "true" : "false");
	report_yaml("polarity", "%s", r.pit.pin.active_low ? "low" : "high");
	report_yaml("trigger", "%s", r.pit.pin.level ? "level" : "edge");
	report_yaml("redirection_entry", "0x%016llx", (unsigned long long)r.pit.pin.entry);
	report_yaml_fixed("programmed_hz", (int64_t)r.pit.programmed_mhz, 3);
	report_yaml_fixed("measured_hz", (int64_t)r.pit.measured_mhz, 3);
	report_yaml_u64("ticks", r.pit.ticks);
	report_yaml_u64("periods_measured", r.pit.periods);
	report_yaml_u64("lost_ticks", r.pit.lost);
	report_yaml("error_ppm", "%lld", (long long)r.pit.err_ppm);
	report_yaml_u64("bound_ppm", r.pit.bound_ppm);
	report_yaml_u64("stray_interrupts", r.pit.stray);
	report_yaml_end();
}
