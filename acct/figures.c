/* The accounting report's arithmetic; see figures.h for the definitions and why. */
#include "acct/figures.h"

#define PS_PER_NS 1000

uint64_t acct_span_ns(const struct acct_run *run)
{
	uint64_t span = run->n * run->period_ps / PS_PER_NS;

	return span > run->extra_ns ? span - run->extra_ns : 0;
}

uint64_t acct_base_ns(const struct acct_run *run, uint64_t irq_ns)
{
	uint64_t span = acct_span_ns(run);

	return span > irq_ns ? span - irq_ns : 0;
}

/* x * num / den for a time x in ns (0 for a negative one, or no den) */
static int64_t scale(int64_t x, uint64_t num, uint64_t den)
{
	return den && x > 0 ? (int64_t)muldiv64((uint64_t)x, num, den) : 0;
}

/* Within the interval, the allowance and the owed periods the vCPU ran (figures.h). */
static bool inside(int64_t share_ppm, const struct acct_row *r)
{
	int64_t d = share_ppm - r->true_ppm;

	return (d < 0 ? -d : d) <= r->interval.half_ppm + r->allowance_ppm + r->owed_ran_ppm;
}

void acct_row_compute(const struct acct_inputs *in, const struct acct_run *run,
		      struct acct_row *out)
{
	uint64_t stolen = in->stolen_cycles < in->exact_cycles ? in->stolen_cycles : in->exact_cycles;
	uint64_t span_ns = acct_span_ns(run);

	out->sampled_ns = (int64_t)(in->ticks * run->period_ps / PS_PER_NS);
	out->steal_aware_ns = (int64_t)(in->aware_ticks * run->period_ps / PS_PER_NS) -
			      (int64_t)cycles_to_ns(in->taken_cycles, run->tsc_hz);
	out->exact_ns = (int64_t)cycles_to_ns(in->exact_cycles, run->tsc_hz);
	out->stolen_ns = (int64_t)cycles_to_ns(stolen, run->tsc_hz);
	out->true_ns = out->exact_ns - out->stolen_ns;
	out->sampled_err_ns = out->sampled_ns - out->true_ns;
	out->steal_aware_err_ns = out->steal_aware_ns - out->true_ns;
	out->exact_err_ns = out->exact_ns - out->true_ns;
	out->true_ppm = share_ppm((uint64_t)out->true_ns, run->base_ns);
	out->sampled_ppm = share_ppm(in->ticks, run->n);
	out->steal_aware_ppm = out->steal_aware_ns > 0 ?
			       share_ppm((uint64_t)out->steal_aware_ns, span_ns) : 0;
	binom_interval99(out->true_ppm, run->n, &out->interval);
	out->allowance_ppm = share_ppm((uint64_t)(run->allowance_ns > 0 ? run->allowance_ns : 0),
				       run->base_ns);
	out->owed_ran_ppm = share_ppm((uint64_t)(run->owed_ran_ns > 0 ? run->owed_ran_ns : 0),
				      run->base_ns);
	out->sampled_inside = inside(out->sampled_ppm, out);
	out->steal_aware_inside = inside(out->steal_aware_ppm, out);
	/* sampled x w, in two steps so that a long run cannot overflow */
	out->w_corrected_ns = run->w_ppm ? out->sampled_ns / PPM * run->w_ppm +
					   out->sampled_ns % PPM * run->w_ppm / PPM : 0;
}

void acct_steal_share(int64_t charged_ns, int64_t true_ns, int64_t stolen_ns, bool sampled,
		      int64_t workload_ppm, const struct acct_run *run, struct steal_share *out)
{
	uint64_t span_ns = acct_span_ns(run);
	struct binom_interval iv = { 0, 0, 0 };

	if (sampled) {
		/* the charge as a share of n periods, put in ns of the base true time is in */
		out->excess_ns = scale(charged_ns, run->base_ns, span_ns) - true_ns;
		binom_interval99(workload_ppm, run->n, &iv);
	} else {
		out->excess_ns = charged_ns - true_ns;
	}
	out->interval_ns = scale(iv.half_ppm, run->base_ns, PPM);
	out->bound_ns = out->interval_ns + (run->allowance_ns > 0 ? run->allowance_ns : 0);
	out->share_ppm = stolen_ns > 0 ? out->excess_ns * PPM / stolen_ns : 0;
	out->bound_ppm = stolen_ns > 0 ? out->bound_ns * PPM / stolen_ns : 0;
	out->judged = stolen_ns > out->bound_ns;
	out->inside = out->excess_ns <= out->bound_ns &&
		      -out->excess_ns <= out->bound_ns + (sampled && run->owed_ran_ns > 0 ?
							  run->owed_ran_ns : 0);
}
