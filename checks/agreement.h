/*
 * A clock read against the TSC, and its rate against the TSC's between two such reads: what
 * the reference clocks' checks (checks/refclock.c, checks/pmtimer.c, checks/hpet.c) measure
 * with, beside checks/measure.h.
 */
#ifndef TICKGUEST_CHECKS_AGREEMENT_H
#define TICKGUEST_CHECKS_AGREEMENT_H

#include <stdint.h>
#include "checks/measure.h"
#include "kernel/tick.h"

/* A clock read between two RDTSCs: the read happened within half_gap cycles of tsc. */
struct sample {
	uint64_t tsc, half_gap;
	uint64_t count;         /* the clock, extended to 64 bits */
};

/* Read c, probing the window (checks/window.h) on both sides of the bracket. */
void sample_take(struct refclock *c, struct sample *s);

/* The longest bracket a window of `cycles` can take in: one as long as cycles * limit / 1e6
 * would make the bound's read latency as large as the limit it is there to hold. */
static inline uint64_t bracket_budget(uint64_t cycles)
{
	return cycles * DEVICE_RATE_LIMIT_PPM / 1000000;
}

/*
 * Read each of n clocks (NULL: absent, not read) at both ends of a window of `cycles`, and
 * every `step` cycles between (0: never) so that a narrow counter counts its wraps.  The
 * window is measured again, up to WINDOW_TRIES times, while a sample's bracket was as long as
 * its budget; wr says how it went.
 */
void sample_window(struct refclock *const clk[], unsigned n, uint64_t cycles, uint64_t step,
		   struct sample s0[], struct sample s1[], struct window_run *wr);

/* A clock's rate against the TSC's between two samples, and what its bound is made of. */
struct agreement {
	uint64_t cycles, counts;        /* the window, in TSC cycles and in the clock's counts */
	uint64_t res_ppm, read_ppm, tsc_ppm, nominal_ppm;
	struct ppm_error e;
};

void agree_with_tsc(const struct sample *s0, const struct sample *s1, uint64_t freq_hz,
		    struct agreement *a);
/* window_ms, counts, error_ppm, tolerance_ppm and the bound's terms */
void agreement_yaml(const struct agreement *a);

#endif
