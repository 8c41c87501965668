/*
 * What the arithmetic tests share (test_stats.c, test_interval.c): a fixed pseudo-random
 * sequence (xorshift64), so failures can be reproduced, and 128-bit integers to compare with
 * (a GCC extension on 64-bit hosts), which cannot overflow for the tests' inputs.
 */
#ifndef TICKGUEST_TEST_RNG_H
#define TICKGUEST_TEST_RNG_H

#include <stdint.h>

typedef unsigned __int128 u128;

/* The state: every test program starts from the same seed. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static inline uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A random value whose size is random too, so small and huge numbers are both common. */
static inline uint64_t rng_any(void)
{
	unsigned bits = (unsigned)(rng() % 64) + 1;

	return bits == 64 ? rng() : rng() & ((1ULL << bits) - 1);
}

#endif
