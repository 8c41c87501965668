/*
 * Stolen time inside a device check's measurement window.
 *
 * A device check cannot tell "the device was wrong" from "the host took the CPU while I was
 * measuring" by its own figures alone: both look like late or missing interrupts.  But the
 * guest can see the second from inside, the way the workload's busy loops see stolen time
 * (acct/steal.h): every loop a check waits in reads the TSC once an iteration, and a step
 * between two reads far longer than an iteration is time the vCPU did not run.  Interrupt
 * handlers run inside those steps too; a device check's handler takes microseconds, far
 * below the threshold.
 *
 * window_begin() opens a window, window_wait_until() and window_probe() are the waiting, and
 * window_end() gives its figures.  A check decides from them, before it looks at its own
 * result, whether the window was clean enough for its claim; a window that was not is
 * measured again, up to WINDOW_TRIES times, and the claim is not judged if none was clean.
 * One window at a time: checks measure one after another.
 */
#ifndef TICKGUEST_WINDOW_H
#define TICKGUEST_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checks/limits.h"

struct window_steal {
	uint64_t stolen;        /* TSC cycles in steps over the threshold */
	uint64_t longest;       /* the longest step, counted or not */
	uint32_t gaps;          /* steps over the threshold */
};

void window_begin(void);
/* Once an iteration of any loop that waits inside the window. */
void window_probe(void);
/* Wait, probing, until the TSC passes tsc_end (wrap-safe). */
void window_wait_until(uint64_t tsc_end);
/* Wait, probing, until *n reaches want (a handler counts) or the TSC passes tsc_end; the
 * caller lets the interrupts in.  Returns whether *n got there. */
bool window_wait_count(const volatile unsigned *n, unsigned want, uint64_t tsc_end);
/* The window so far. */
struct window_steal window_end(void);

/* Why a claim whose `tries` windows were all robbed of a period or more is not judged, with
 * the last window's figures; and those figures as YAML keys (windows, window_stolen_ms,
 * window_longest_step_ms). */
void window_not_judged(char *why, size_t n, unsigned tries, const struct window_steal *w);
void window_yaml(unsigned tries, const struct window_steal *w);

/* A window is clean for a claim when no step of it was as long as `tolerable` TSC cycles. */
static inline bool window_clean(const struct window_steal *w, uint64_t tolerable)
{
	return w->longest < tolerable;
}

/*
 * A claim measured in windows until one is clean, up to WINDOW_TRIES:
 *
 *	struct window_run wr = WINDOW_RUN(tolerable);
 *	while (window_again(&wr))
 *		measure();              (probing: window_probe(), window_wait_until())
 *
 * Each call ends the window the measurement ran in (after the first) and opens the next;
 * afterwards wr says whether the last one was clean, and its figures.
 */
struct window_run {
	uint64_t tolerable;     /* TSC cycles: a step this long voids the window */
	unsigned tries;
	bool clean;
	/* Set by a measurement that saw the host take one of the moments its claim rests on
	 * (a bracketed read at one end of a span): void, whatever the steps in between. */
	bool spoilt;
	struct window_steal steal;      /* the last window's */
};
#define WINDOW_RUN(tol) ((struct window_run){ .tolerable = (tol) })

bool window_again(struct window_run *wr);

#endif
