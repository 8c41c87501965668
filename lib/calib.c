/* Calibration window choice; see calib.h for why the smallest bound wins. */
#include "lib/calib.h"

void calib_pick(const uint64_t *err_ppm, unsigned n, unsigned *best, unsigned *second)
{
	unsigned b = 0, s = 1;

	if (err_ppm[1] < err_ppm[0]) {
		b = 1;
		s = 0;
	}
	for (unsigned i = 2; i < n; i++) {
		if (err_ppm[i] < err_ppm[b]) {
			s = b;
			b = i;
		} else if (err_ppm[i] < err_ppm[s]) {
			s = i;
		}
	}
	*best = b;
	*second = s;
}
