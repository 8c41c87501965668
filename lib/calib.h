/*
 * Choosing among calibration windows: pure arithmetic, tested on the host.
 *
 * Each window is an estimate with its own error bound (how wide the TSC brackets around its
 * edges were).  A window the host disturbed -- the vCPU descheduled between an I/O and the
 * RDTSC beside it -- shows it in a wide bracket, so the best estimate is the one with the
 * smallest bound, not the median: under load most windows can be disturbed at once.
 */
#ifndef TICKGUEST_CALIB_H
#define TICKGUEST_CALIB_H

#include <stdint.h>

/* Indices of the window with the smallest bound and of the next smallest (n >= 2). */
void calib_pick(const uint64_t *err_ppm, unsigned n, unsigned *best, unsigned *second);

#endif
