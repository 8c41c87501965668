/*
 * Integer statistics for the accounting report.  See acct/stats.h for what each function
 * promises; the comments here say how the 64-bit arithmetic keeps those promises.
 */
#include "acct/stats.h"

/*
 * Digit-by-digit square root, the binary form of the method once taught for finding square
 * roots by hand.  It needs no division and no multiplication, so it is exact for every
 * 64-bit input, including UINT64_MAX, with no risk of overflow: res never exceeds 2^63.
 */
uint64_t isqrt64(uint64_t x)
{
	uint64_t res = 0;
	uint64_t bit = 1ULL << 62;      /* the highest power of four in 64 bits */

	while (bit > x)
		bit >>= 2;

	while (bit) {
		if (x >= res + bit) {
			x -= res + bit;
			res = (res >> 1) + bit;
		} else {
			res >>= 1;
		}
		bit >>= 2;
	}
	return res;
}

/* (a + b) mod m for a, b < m, counting in *wraps how often the sum reached m. */
static uint64_t add_mod(uint64_t a, uint64_t b, uint64_t m, uint64_t *wraps)
{
	/* a + b >= m, tested without computing a + b, which may not fit in 64 bits */
	if (a >= m - b) {
		(*wraps)++;
		return a - (m - b);
	}
	return a + b;
}

/*
 * floor(r * 10^digits / d) for r < d, and the remainder in *rem.
 *
 * When r * 10^digits fits in 64 bits this is one multiplication and one division.  Otherwise
 * (d above about 1.8e13 for six digits) we do long division as on paper, one decimal digit at
 * a time: each digit is how many times d goes into 10 * rem, and 10 * rem is built by ten
 * additions modulo d, which never overflow.  Both paths give the same, exact answer.
 */
static uint64_t scaled_fraction(uint64_t r, uint64_t d, unsigned digits, uint64_t *rem)
{
	uint64_t scale = 1;
	uint64_t q = 0;
	unsigned i;

	for (i = 0; i < digits; i++)
		scale *= 10;

	if (r <= UINT64_MAX / scale) {
		*rem = r * scale % d;
		return r * scale / d;
	}

	for (i = 0; i < digits; i++) {
		uint64_t digit = 0;
		uint64_t acc = 0;
		unsigned j;

		for (j = 0; j < 10; j++)
			acc = add_mod(acc, r, d, &digit);
		q = q * 10 + digit;
		r = acc;
	}
	*rem = r;
	return q;
}

/*
 * part / whole = q + r / whole with q = part / whole and r = part % whole, so the share is
 * q * 1e6 plus the rounded value of r * 1e6 / whole.  The second term is below 1e6 (or equal
 * after rounding up), and scaled_fraction() computes it exactly for any whole.  A share too big
 * for int64_t (part more than about 9.2e12 times whole) saturates at INT64_MAX.
 */
int64_t share_ppm(uint64_t part, uint64_t whole)
{
	uint64_t q, r, frac, rem;

	if (whole == 0)
		return 0;

	q = part / whole;
	r = part % whole;
	frac = scaled_fraction(r, whole, 6, &rem);
	/* round half up: the remainder is at least half of whole (2 * rem >= whole, overflow-free) */
	if (rem >= whole - rem)
		frac++;

	if (q > ((uint64_t)INT64_MAX - frac) / PPM)
		return INT64_MAX;
	return (int64_t)(q * PPM + frac);
}

/*
 * The 99 % interval in integer arithmetic.  With p in ppm, the standard deviation of the
 * sampled share is sqrt(p * (1e6 - p) / n) ppm.
 *
 *   a   = p * (1e6 - p)                 at most 2.5e11 ppm^2
 *   var = a * 1e6 / n                   the variance in units of 1e-6 ppm^2: at most 2.5e17,
 *                                       so it fits, and the division loses < 1e-6 ppm^2
 *   sd  = isqrt64(var)                  the standard deviation in milli-ppm (sqrt of 1e-6
 *                                       is 1e-3); at most 5e8
 *   zsd = sd * 25758 / 10000            z * sd in milli-ppm, z = 2.5758; at most 1.3e13
 *   cc  = 500000000 / n                 the continuity correction 1 / (2n) in milli-ppm
 *   half = ceil((zsd + cc) / 1000)      back to ppm
 *
 * Working in milli-ppm keeps the truncations (< 1 milli-ppm each, about 5 milli-ppm in total
 * after the multiplication by z) far below the 1 ppm we report.  We round half up to a whole
 * ppm, so the interval is never narrower than the formula says; it may be wider by < 1 ppm.
 * A p outside [0, 1e6] is clamped into it first.
 */
void binom_interval99(int64_t p_ppm, uint64_t n, struct binom_interval *out)
{
	uint64_t p, a, sd, zsd_mppm, cc_mppm;
	int64_t half;

	if (p_ppm < 0)
		p_ppm = 0;
	if (p_ppm > PPM)
		p_ppm = PPM;

	if (n == 0) {
		/* no samples: the share could be anything */
		out->half_ppm = PPM;
		out->lo_ppm = 0;
		out->hi_ppm = PPM;
		return;
	}

	p = (uint64_t)p_ppm;
	a = p * (PPM - p);
	sd = isqrt64(a * 1000000 / n);
	zsd_mppm = sd * 25758 / 10000;
	cc_mppm = 500000000 / n;
	half = (int64_t)((zsd_mppm + cc_mppm + 999) / 1000);

	out->half_ppm = half;
	out->lo_ppm = p_ppm - half < 0 ? 0 : p_ppm - half;
	out->hi_ppm = p_ppm + half > PPM ? PPM : p_ppm + half;
}

/*
 * cycles / hz seconds = s + r / hz with s = cycles / hz and r = cycles % hz.  r * 1e6 (or
 * 1e9) overflows only for hz above 1.8e13 (1.8e10 for ns), and scaled_fraction() handles even
 * that exactly.  If the time itself does not fit in 64 bits (only for a tiny hz) the result
 * saturates at UINT64_MAX.
 */
static uint64_t cycles_to_unit(uint64_t cycles, uint64_t hz, unsigned digits)
{
	uint64_t per_second = 1;
	uint64_t s, frac, rem;
	unsigned i;

	if (hz == 0)
		return 0;
	for (i = 0; i < digits; i++)
		per_second *= 10;

	s = cycles / hz;
	frac = scaled_fraction(cycles % hz, hz, digits, &rem);
	if (s > (UINT64_MAX - frac) / per_second)
		return UINT64_MAX;
	return s * per_second + frac;
}

uint64_t muldiv64(uint64_t a, uint64_t b, uint64_t c)
{
	/* a * b / c = (a / c) * b + (a % c) * b / c; the second term by binary long
	 * multiplication, keeping (a % c) * (the bits of b so far) as q * c + r with r < c */
	uint64_t whole = a / c * b, q = 0, r = 0;

	a %= c;
	for (int bit = 63; bit >= 0; bit--) {
		q <<= 1;
		if (r >= c - r) {
			r -= c - r;
			q++;
		} else {
			r <<= 1;
		}
		if (b >> bit & 1) {
			if (r >= c - a) {
				r -= c - a;
				q++;
			} else {
				r += a;
			}
		}
	}
	return whole + q;
}

uint64_t cycles_to_us(uint64_t cycles, uint64_t hz)
{
	return cycles_to_unit(cycles, hz, 6);
}

uint64_t cycles_to_ns(uint64_t cycles, uint64_t hz)
{
	return cycles_to_unit(cycles, hz, 9);
}

void sort_i64(int64_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
			int64_t t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}
