/*
 * The reference clocks: every read goes forward, and every clock keeps the TSC's time.  A read
 * of a slow clock (an I/O port for the PM timer, MMIO for the HPET: microseconds each under
 * emulation) is bracketed by two RDTSCs; the read happened somewhere in the bracket, so half of
 * it is the sample's timing error, in the bound of every claim that uses it.  In the order
 * measured: reads, the PM timer's extension (checks/pmtimer.c), the rates against the TSC and
 * each other over one window, the HPET's timer 0 (checks/hpet.c).
 */
#include "checks/checks.h"
#include "checks/agreement.h"
#include "acct/stats.h"
#include "lib/format.h"
#include "kernel/report.h"
#include "kernel/x86.h"
#include "drivers/acpi_pmtimer.h"
#include "drivers/hpet.h"
#include "drivers/tsc.h"

#define MONOTONIC_READS         1000
#define AGREE_WINDOW_MS         200

void sample_take(struct refclock *c, struct sample *s)
{
	uint64_t before, after;

	window_probe();
	before = rdtsc();
	s->count = refclock_read(c);
	after = rdtsc();
	window_probe();
	s->tsc = before + (after - before) / 2;
	s->half_gap = div_up(after - before, 2);
}

/*
 * Both clocks of an agreement are counters that count on whether the vCPU runs or not (a
 * hypervisor whose devices run in apparent time, behind while the VM is descheduled, has a PM
 * timer or HPET that does not keep the TSC's time, which is what the claim says), so a step
 * the host took between two samples moves neither: the window's steal is shown, not held
 * against it.  A step inside a sample's bracket widens the bracket, which the bound takes in;
 * a bracket as long as its budget would make the bound the host's rather than the clocks', so
 * the window is measured again.
 */
void sample_window(struct refclock *const clk[], unsigned n, uint64_t cycles, uint64_t step,
		   struct sample s0[], struct sample s1[], struct window_run *wr)
{
	const uint64_t budget = bracket_budget(cycles);

	*wr = WINDOW_RUN(UINT64_MAX);          /* the steps between samples move neither clock */
	while (window_again(wr)) {
		uint64_t start = rdtsc(), widest = 0;

		for (unsigned i = 0; i < n; i++)
			if (clk[i])
				sample_take(clk[i], &s0[i]);
		for (uint64_t t = step; step && t < cycles; t += step) {
			window_wait_until(start + t);
			for (unsigned i = 0; i < n; i++)
				if (clk[i])
					refclock_read(clk[i]);
		}
		window_wait_until(start + cycles);
		for (unsigned i = 0; i < n; i++) {
			if (!clk[i])
				continue;
			sample_take(clk[i], &s1[i]);
			widest = s0[i].half_gap > widest ? s0[i].half_gap : widest;
			widest = s1[i].half_gap > widest ? s1[i].half_gap : widest;
		}
		wr->spoilt = 2 * widest >= budget;
	}
}

/*
 * A clock's rate between two samples, against the TSC, and the bound a sound clock stays in:
 *   resolution: each elapsed count is off by less than one count of that clock, and one cycle
 *     of the TSC: 1/counts of the window each;
 *   read latency: each sample may lie half its bracket from its TSC time, at both ends;
 *   the TSC's calibrated frequency is itself known only to tsc_uncertainty_ppm();
 *   the clock is taken at its nominal rate in whole Hz: REF_NOMINAL_PPM;
 *   plus DEVICE_RATE_LIMIT_PPM for the oscillators.  On a PC the PIT (which calibrated the
 *   TSC), the PM timer and usually the HPET run from one 14.31818 MHz crystal, and under QEMU
 *   all of them follow one host clock, so any real difference is far below it; a wrong
 *   COUNTER_CLK_PERIOD (VMware's timekeeping paper has seen 800 ppm) is far above it.
 * A clock that counted nothing in the window is wrong: the error is invalid, the claim fails.
 */
void agree_with_tsc(const struct sample *s0, const struct sample *s1, uint64_t freq_hz,
		    struct agreement *a)
{
	uint64_t dt = s1->tsc - s0->tsc, dx = s1->count - s0->count;

	a->cycles = dt;
	a->counts = dx;
	a->res_ppm = div_up(PPM, dx) + div_up(PPM, dt);
	a->read_ppm = div_up((s0->half_gap + s1->half_gap) * PPM, dt);
	a->tsc_ppm = tsc_uncertainty_ppm();
	a->nominal_ppm = REF_NOMINAL_PPM;
	a->e = ppm_of_rate(tsc_from_counts(dx, freq_hz), dt, a->res_ppm + a->read_ppm +
			   a->tsc_ppm + a->nominal_ppm + DEVICE_RATE_LIMIT_PPM);
}

/*
 * The PM timer and the HPET compared through the same TSC window: the TSC's own frequency error
 * scales both alike and cancels, so the bound is their resolutions, read latencies and nominal
 * rates plus the limit.  (err_pm - err_hpet is the ratio's error to first order; the
 * second-order term is below 0.01 ppm while both are within 100 ppm.)
 */
static void agree_pairwise(const struct agreement *x, const struct agreement *y,
			   struct agreement *a)
{
	a->cycles = x->cycles;
	a->counts = x->counts;
	a->res_ppm = x->res_ppm + y->res_ppm;
	a->read_ppm = x->read_ppm + y->read_ppm;
	a->tsc_ppm = 0;
	a->nominal_ppm = x->nominal_ppm + y->nominal_ppm;
	a->e = (struct ppm_error){
		.valid = x->e.valid && y->e.valid, .err_mppm = x->e.err_mppm - y->e.err_mppm,
		.bound_ppm = a->res_ppm + a->read_ppm + a->nominal_ppm + DEVICE_RATE_LIMIT_PPM,
	};
}

void agreement_yaml(const struct agreement *a)
{
	report_yaml_fixed("window_ms", (int64_t)(tsc_ns(a->cycles) / NS_PER_US), 3);
	report_yaml_u64("counts", a->counts);
	ppm_yaml(&a->e);
	report_yaml_u64("resolution_ppm", a->res_ppm);
	report_yaml_u64("read_latency_ppm", a->read_ppm);
	report_yaml_u64("tsc_uncertainty_ppm", a->tsc_ppm);
	report_yaml_u64("nominal_ppm", a->nominal_ppm);
	report_yaml_u64("limit_ppm", DEVICE_RATE_LIMIT_PPM);
}

/*
 * Successive reads never go backwards.  No window: a host that takes the CPU between two reads
 * makes the step between them longer, never negative, so every read counts.
 */
static void monotonic(struct refclock *clk, const char *absent)
{
	uint64_t prev, max_step = 0, start = 0, ns = 0;
	uint32_t backwards = 0, repeats = 0;
	struct claim c;

	claim_open(&c, "%s never goes backwards over %d reads", clk->name, MONOTONIC_READS);
	claim_needs(&c, !absent, absent);
	if (!c.skip) {
		start = rdtsc();
		prev = refclock_read(clk);
		for (int i = 0; i < MONOTONIC_READS; i++) {
			uint64_t x = refclock_read(clk);

			if (x < prev) {
				backwards++;
			} else {
				repeats += x == prev;
				if (x - prev > max_step)
					max_step = x - prev;
			}
			prev = x;
		}
		ns = tsc_ns(rdtsc() - start);
	}
	if (!claim_judge(&c, NULL, backwards == 0))
		return;
	report_yaml_u64("reads", MONOTONIC_READS);
	report_yaml_u64("backwards", backwards);
	report_yaml_u64("repeats", repeats);
	report_yaml_u64("width_bits", clk->width);
	report_yaml_u64("freq_hz", clk->freq_hz);
	report_yaml_u64("mean_read_ns", ns / MONOTONIC_READS);
	report_yaml_fixed("max_step_us", (int64_t)(cycles_to_ns(max_step, clk->freq_hz) / 10), 2);
	claim_close();
}

static void agreement_claim(const char *x, const char *y, const char *absent,
			    const struct window_run *wr, const struct agreement *a)
{
	struct claim c;

	claim_open(&c, "%s frequency agrees with the %s", x, y);
	claim_needs(&c, !absent, absent);
	if (!claim_judge(&c, wr, ppm_ok(&a->e)))
		return;
	agreement_yaml(a);
	claim_close();
}

/* One window in which every clock there is is read at both ends. */
static void agreement_checks(const char *pm_absent, const char *hpet_absent)
{
	struct refclock *const clk[] = { pm_absent ? NULL : &pmtimer_refclock,
					 hpet_absent ? NULL : &hpet_refclock };
	struct sample s0[2] = { { 0 } }, s1[2] = { { 0 } };
	struct agreement pm = { 0 }, hpet = { 0 }, both = { 0 };
	struct window_run wr = { 0 };

	if (clk[0] || clk[1])
		sample_window(clk, 2, tsc_from_ms(AGREE_WINDOW_MS), 0, s0, s1, &wr);
	agree_with_tsc(&s0[0], &s1[0], PM_TMR_HZ, &pm);
	agree_with_tsc(&s0[1], &s1[1], hpet_refclock.freq_hz, &hpet);
	agree_pairwise(&pm, &hpet, &both);
	agreement_claim("pmtimer", "tsc", pm_absent, &wr, &pm);
	agreement_claim("hpet", "tsc", hpet_absent, &wr, &hpet);
	agreement_claim("pmtimer", "hpet", pm_absent ? pm_absent : hpet_absent, &wr, &both);
}

void refclock_checks(const char *pmtimer_absent, const char *hpet_absent)
{
	monotonic(&tsc_refclock, NULL);
	monotonic(&pmtimer_refclock, pmtimer_absent);
	monotonic(&hpet_refclock, hpet_absent);
	pmtimer_checks(pmtimer_absent);
	agreement_checks(pmtimer_absent, hpet_absent);
	hpet_checks(hpet_absent, pmtimer_absent);
}

struct refclock *second_refclock(const char *pmtimer_absent, const char *hpet_absent,
				 const char **why)
{
	static char buf[160];

	*why = NULL;
	if (!pmtimer_absent)
		return &pmtimer_refclock;
	if (!hpet_absent)
		return &hpet_refclock;
	ksnprintf(buf, sizeof(buf), "no ACPI PM timer (%s) and no HPET (%s)", pmtimer_absent,
		  hpet_absent);
	*why = buf;
	return NULL;
}
