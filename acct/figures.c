/* A task's line of the accounting table; see figures.h for the definitions and why. */
#include "acct/figures.h"

#define PS_PER_NS 1000

uint64_t acct_base_ns(uint64_t n, uint64_t period_ps, uint64_t irq_ns)
{
	uint64_t span = n * period_ps / PS_PER_NS;

	return span > irq_ns ? span - irq_ns : 0;
}

void acct_row_compute(const struct acct_inputs *in, uint64_t n, uint64_t period_ps,
		      uint64_t base_ns, uint64_t tsc_hz, uint32_t w_ppm, struct acct_row *out)
{
	uint64_t stolen = in->stolen_cycles < in->exact_cycles ? in->stolen_cycles : in->exact_cycles;
	uint64_t stolen_long = in->stolen_long_cycles < stolen ? in->stolen_long_cycles : stolen;

	out->sampled_ns = (int64_t)(in->ticks * period_ps / PS_PER_NS);
	out->exact_ns = (int64_t)cycles_to_ns(in->exact_cycles, tsc_hz);
	out->stolen_ns = (int64_t)cycles_to_ns(stolen, tsc_hz);
	out->true_ns = out->exact_ns - out->stolen_ns;
	out->sampled_err_ns = out->sampled_ns - out->true_ns;
	out->exact_err_ns = out->exact_ns - out->true_ns;
	out->sampling_ref_ns = out->exact_ns - (int64_t)cycles_to_ns(stolen_long, tsc_hz);
	out->sampled_ppm = share_ppm(in->ticks, n);
	out->true_ppm = share_ppm((uint64_t)out->true_ns, base_ns);
	out->ref_ppm = share_ppm((uint64_t)out->sampling_ref_ns, base_ns);
	binom_interval99(out->ref_ppm, n, &out->interval);
	out->inside = out->sampled_ppm >= out->interval.lo_ppm &&
		      out->sampled_ppm <= out->interval.hi_ppm;
	/* sampled x w, in two steps so that a long run cannot overflow */
	out->w_corrected_ns = w_ppm ? out->sampled_ns / PPM * w_ppm +
				      out->sampled_ns % PPM * w_ppm / PPM : 0;
}
