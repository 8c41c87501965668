/*
 * What every device check measures with, written once: named conversions between the TSC and
 * time, rate errors in ppm against a bound, the claim with its skip and not-judged cases, the
 * retried window, and the one-shot fire with its bounded re-arm.
 *
 * A device check (checks/<device>.c) reads as a list of claims, each measured and then judged
 * on the spot, kvm-unit-tests style:
 *
 *	claim_open(&c, "pit channel 0 %s ticks at %u Hz, measured by the %s", ...);
 *	claim_needs(&c, ref != NULL, ref_why);          (a SKIP in the claim's own words)
 *	for (struct window_run wr = WINDOW_RUN; window_again(&wr, period);)
 *		measure(...);                           (measured again while robbed)
 *	if (claim_judge(&c, &wr, ppm_ok(&e) && ...)) {  (ok / not ok / not judged)
 *		ppm_yaml(&e);
 *		...
 *		claim_close();
 *	}
 *
 * Checks are held (kernel/report.h) while their device measures and printed when it is done
 * (checks/suite.c).
 */
#ifndef TICKGUEST_CHECKS_MEASURE_H
#define TICKGUEST_CHECKS_MEASURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "checks/limits.h"
#include "checks/window.h"
#include "drivers/tsc.h"

#define NS_PER_US       1000ull
#define NS_PER_MS       1000000ull
#define NS_PER_S        1000000000ull
#define US_PER_S        1000000ull
#define MS_PER_S        1000ull
#define MPPM            (1000000ll * 1000)      /* errors are kept in thousandths of a ppm */

static inline uint64_t div_up(uint64_t a, uint64_t b)
{
	return b ? (a + b - 1) / b : 0;
}

/* ---- time and the TSC ---- */

static inline uint64_t tsc_from_us(uint64_t us)
{
	return us * tsc_refclock.freq_hz / US_PER_S;
}

static inline uint64_t tsc_from_ms(uint64_t ms)
{
	return ms * tsc_refclock.freq_hz / MS_PER_S;
}

/* counts of a clock at hz, as TSC cycles */
static inline uint64_t tsc_from_counts(uint64_t counts, uint64_t hz)
{
	return hz ? counts * tsc_refclock.freq_hz / hz : 0;
}

/* events per second, in thousandths of a Hz, over a span of counts of a clock at hz */
static inline uint64_t rate_mhz(uint64_t events, uint64_t hz, uint64_t span)
{
	return span ? events * hz * MS_PER_S / span : 0;
}

/* a signed span of TSC cycles in ns */
int64_t tsc_signed_ns(int64_t cycles);

/* With interrupts on for ms, take whatever interrupt is pending or comes (a stale edge of the
 * previous program) with the handler registered now; returns with interrupts off. */
void irq_drain_ms(uint64_t ms);

/* ---- rate errors ---- */

struct ppm_error {
	bool valid;             /* something was measured */
	int64_t err_mppm;       /* the device's rate error, in 1/1000 ppm: + is fast */
	uint64_t bound_ppm;     /* what a sound device stays within, derived by the check */
};

/*
 * Rate errors, in 1/1000 ppm, positive when the device ran fast: for a span of the device's
 * periods, expected / measured - 1 (it took less time than it should), for a rate, measured /
 * expected - 1.  Exact for any 64-bit figures (muldiv64).
 */
struct ppm_error ppm_of_span(uint64_t measured, uint64_t expected, uint64_t bound_ppm);
struct ppm_error ppm_of_rate(uint64_t measured, uint64_t expected, uint64_t bound_ppm);
bool ppm_ok(const struct ppm_error *e);
/* error_ppm, tolerance_ppm */
void ppm_yaml(const struct ppm_error *e);

/* ---- a claim ---- */

struct claim {
	char text[192];         /* the claim, as every outcome states it */
	const char *skip;       /* the first requirement that was missing: why not made */
};

void claim_open(struct claim *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The claim needs `have`; if not, it is skipped with why (the first missing one wins). */
void claim_needs(struct claim *c, bool have, const char *why);
/*
 * Judge the claim: a SKIP when a requirement was missing (no YAML follows: returns false), a
 * SKIP saying not judged when its window run found no clean window (wr may be NULL for a claim
 * measured without one), else ok when `ok`.  Returns true with the YAML block open, the window
 * run's figures in it: the caller adds its own and calls claim_close().
 */
bool claim_judge(const struct claim *c, const struct window_run *wr, bool ok);
/* A claim whose measurement saw the host take what it rests on, and says how ("not judged:
 * " and the reason); YAML open as claim_judge (unless skipped for a missing requirement). */
bool claim_not_judged(const struct claim *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void claim_close(void);

/* ---- one-shot timers ---- */

/*
 * One shot of a one-shot timer.  arm(ctx) programs it and returns 0, or < 0 when the device
 * refused (a deadline that passed before the write landed): it is armed again, with a quiet
 * time between in which the refused deadline's interrupt, if it came after all, lands there
 * and not in this shot, up to TICK_ONESHOT_ARM_TRIES tries.  The device's handler calls
 * shot_interrupt() with its first TSC reading.  The wait for the interrupt is a window
 * (checks/window.h), so a shot knows whether the host let it alone.
 */
struct shot {
	uint64_t before, after;         /* the TSC around the arm that took */
	uint64_t fired;                 /* the handler's TSC at the first interrupt */
	unsigned irqs;                  /* interrupts in the wait and the quiet time after */
	unsigned foreign;               /* of the interrupts, those the device had not raised */
	bool after_wait;                /* the first came only in the drain after the wait */
	/* No interrupt in the wait, though the device said its shot had come due (plan.expired),
	 * and the interrupt came in up to HELD_UP_WAITS waits more: the device was on time and the
	 * delivery late.  QEMU raises a device's interrupt from its main loop, which a loaded
	 * host can hold off while the vCPU runs on and its probes see nothing: such a shot says
	 * nothing about the device and counts as robbed.  One that never comes is a miss. */
	bool held_up;
	/* A refused arm in this shot, or a wait in the one before that was missed or robbed:
	 * a deadline that may still have an interrupt on its way from QEMU's main loop, which
	 * can land in this shot and make it look early or doubled (seen on a loaded host: a
	 * clean shot after a robbed one fired 8 us after it was armed, another fired twice).
	 * Such a shot's early or extra interrupt says nothing about the device: it counts as
	 * robbed.  The same for an extra interrupt in a robbed shot. */
	bool suspect;
	unsigned retries;               /* refusals before the arm that took */
	/* Refusals whose arm took at least the shot's earliest moment by the TSC: a device refuses
	 * a deadline that passed before the comparator was written, which takes an arm as long
	 * as the delay, so a loaded host (under TCG an HPET access waits for QEMU's main loop)
	 * can cause it; a refusal after a shorter arm is the device's own. */
	unsigned held_refusals;
	bool armed;                     /* false: refused every try */
	struct window_steal steal;      /* the wait's */
};

struct shot_plan {
	int (*arm)(void *ctx);
	/* Cancel a shot that missed its wait (NULL: the device has nothing to cancel), so that
	 * if it fires after all, it does so in the drain after it, not in the next shot, where
	 * it would look early: QEMU raises a device's interrupt from its main loop, which the
	 * host can hold off while the vCPU runs on, so the wait's probes need not see it. */
	void (*disarm)(void *ctx);
	void *ctx;
	uint64_t wait;                  /* TSC cycles to wait for the interrupt before giving up */
	uint64_t quiet;                 /* then this long for a second one that must not come */
	/* tick_source.oneshot_due, or NULL: whether the shot has come due by the device's own
	 * count.  shot_handler() asks it of each interrupt (one taken while not due is not the
	 * shot's), and shot_fire() of a wait that ended with none where there is no expired. */
	bool (*due)(void);
	/* tick_source.oneshot_expired, or NULL for due: whether the device's count ran out, asked
	 * only of a wait that ended with no interrupt (shot.held_up), never of an interrupt. */
	bool (*expired)(void);
};

/* early_by: the series' (shot_series_fire), by which a refusal is told held or not. */
void shot_fire(const struct shot_plan *p, uint64_t early_by, struct shot *s);
void shot_interrupt(uint64_t tsc);
/*
 * The same, from a handler that asked the device whether its shot had come due
 * (tick_source.oneshot_due): an interrupt while it had not was not raised by this shot (an
 * edge left over from before the arm, or one the emulator raised on the line by itself), so
 * it is counted apart, as not the device's, and neither fires the shot nor doubles it.
 */
void shot_interrupt_by(uint64_t tsc, bool raised);
/* The whole handler, for a device whose interrupt needs no acknowledging but the EOI. */
struct trapframe;
void shot_handler(struct trapframe *tf);

/*
 * A claim's shots, as a sound one-shot timer behaves: every shot fires once and none before
 * the earliest moment it could (`early_by`: TSC cycles after `before`, the delay less what the
 * conversion may be off).  A host that takes the CPU can only delay a shot, never make it early
 * or fire twice, so every shot counts for those; only a shot whose wait the host left alone
 * counts for "fires" and for the latency figures.  Robbed shots are fired again, up to
 * WINDOW_TRIES times as many as wanted; the claim is not judged with fewer clean ones.
 */
struct shot_series {
	unsigned wanted, armed, clean, robbed, fired_once, extra, early, retries, refused;
	unsigned held_arms;             /* shots never armed, every refusal held (robbed too) */
	unsigned after_wait;            /* shots that fired only after their wait */
	unsigned held_up;               /* of them, those the device had on time (shot.held_up) */
	unsigned foreign;               /* interrupts taken while the device's shot was not due */
	int64_t lat_min_ns, lat_med_ns, lat_max_ns;     /* handler after the latest due moment */
	struct window_steal worst;      /* the robbed shot with the longest step */
};

/*
 * Fire `wanted` clean shots (plus one unmeasured first: cold code and a route switched to the
 * device may deliver a stale edge or widen the first).  after(ctx, s) is called for each
 * measured shot (device-specific looks: a counter read back, an output pin); due_late is the
 * latest the shot was due after `after` in TSC cycles, for the latency figures.
 */
void shot_series_fire(const struct shot_plan *p, unsigned wanted, uint64_t early_by,
		      uint64_t due_late, void (*after)(void *ctx, const struct shot *s),
		      struct shot_series *r);
/* Whether a series' shots showed a fault the steal cannot explain, and whether it is judged. */
bool shot_series_bad(const struct shot_series *r);
bool shot_series_judged(const struct shot_series *r);
/* Judge a claim by its shots (with the extra condition `ok`), YAML open as claim_judge. */
bool claim_judge_shots(const struct claim *c, const struct shot_series *r, bool ok);
void shot_series_yaml(const struct shot_series *r);

#endif
