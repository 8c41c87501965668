/*
 * Integer statistics for the accounting report: shares in parts per million and the 99 %
 * binomial interval that a sample count allows.  The kernel has no floating point, so all of
 * this is 64-bit integer arithmetic; it is pure code, tested on the host.
 */
#ifndef TICKGUEST_STATS_H
#define TICKGUEST_STATS_H

#include <stdint.h>

#define PPM 1000000LL

/* floor(sqrt(x)) for any 64-bit x. */
uint64_t isqrt64(uint64_t x);

/* part / whole in ppm, rounded to nearest; 0 when whole is 0. */
int64_t share_ppm(uint64_t part, uint64_t whole);

/*
 * With n independent samples of a task whose true share is p (ppm), the sampled share lies
 * within p +- half_ppm with 99 % probability: half = z * sqrt(p(1-p)/n) + 1/(2n)
 * (z = 2.5758, the normal quantile; 1/(2n) is the continuity correction for a count).
 * lo/hi are clamped to [0, 1e6].  n == 0 gives the whole range.
 */
struct binom_interval {
	int64_t half_ppm;
	int64_t lo_ppm;
	int64_t hi_ppm;
};
void binom_interval99(int64_t p_ppm, uint64_t n, struct binom_interval *out);

/* Sort a few values in place, ascending (insertion sort: the lists here are a handful long). */
void sort_i64(int64_t *v, unsigned n);

/* floor(a * b / c), exact for any a, b and c > 0 whose result fits in 64 bits (no 128-bit
 * arithmetic on i686: the product is reduced modulo c a bit at a time). */
uint64_t muldiv64(uint64_t a, uint64_t b, uint64_t c);

/* Convert a cycle count to a time, exactly for any 64-bit count (no intermediate overflow). */
uint64_t cycles_to_us(uint64_t cycles, uint64_t hz);
uint64_t cycles_to_ns(uint64_t cycles, uint64_t hz);

#endif
