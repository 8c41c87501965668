#ifndef TICKGUEST_LAPIC_H
#define TICKGUEST_LAPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernel/tick.h"
#include "kernel/trap.h"

#define LAPIC_TIMER_VECTOR      0xf0
/* The low four bits of the spurious vector are hard-wired to 1 on P6-era APICs: 0xff fits all. */
#define LAPIC_SPURIOUS_VECTOR   0xff
#define LAPIC_NR_DIVIDERS       8       /* TDCR: divide by 1, 2, 4, ... 128 */

/* One divider's count rate, measured against the TSC (lapic_measure_rate). */
struct lapic_rate {
	uint32_t divider;
	uint64_t counts;                /* TCCR decrements over the window */
	uint64_t tsc_delta;             /* TSC cycles between the two samples */
	uint64_t read_cycles;           /* the wider of the two samples' rdtsc..TCCR..rdtsc brackets */
	uint64_t hz;                    /* counts per second, by the calibrated TSC */
	uint64_t bound_ppm;             /* quantisation + read brackets, the TSC's own error aside */
};

/*
 * The divide-by-1 rate measured against a reference clock other than the TSC
 * (lapic_measure_rate_by).  The reference is read between two TCCR reads, so its moment is
 * known in the timer's own counts.
 */
struct lapic_ref_rate {
	uint64_t counts;                /* TCCR decrements over the window */
	uint64_t ref_delta;             /* reference counts between the two samples */
	uint64_t read_counts;           /* the two samples' TCCR..reference..TCCR brackets, summed */
	uint64_t hz;                    /* counts per second, by the reference's nominal rate */
	uint64_t bound_ppm;             /* quantisation + read brackets, the reference's rate aside */
};

struct lapic_calibration {
	struct lapic_rate rate[LAPIC_NR_DIVIDERS];
	uint64_t hz;                    /* the timer's input clock: the divide-by-1 rate */
	uint64_t bound_ppm;             /* its measurement bound (rate[0].bound_ppm) */
};

/* Detect (CPUID, IA32_APIC_BASE), software-enable and program the LVTs.  False with the
 * reason in why when there is no usable local APIC. */
bool lapic_init(char *why, size_t whylen);
bool lapic_ready(void);
uint32_t lapic_base(void);
uint32_t lapic_id(void);
uint32_t lapic_version(void);           /* the VER register */
uint32_t lapic_spurious_count(void);
uint32_t lapic_error_status(void);      /* ESR, latched */
bool lapic_tsc_deadline_supported(void);
void lapic_eoi(void);
/* The highest vector in service (ISR: taken, not yet acknowledged), and the highest requested
 * (IRR: accepted, not yet taken); -1 for none. */
int lapic_in_service(void);
int lapic_requested(void);

/* The virtual-wire path from the 8259 through LINT0 (ExtINT): on for the 8259, off when the
 * IOAPIC delivers instead, so an 8259 glitch cannot arrive as a second copy. */
void lapic_lint0_extint(bool on);

/* Calibration against the TSC (tsc_refclock must be calibrated): every divider in turn. */
unsigned lapic_divider(unsigned index);         /* 1 << index */
void lapic_measure_rate(unsigned index, uint64_t window_tsc, struct lapic_rate *r);
void lapic_calibrate(void);
/* The divide-by-1 rate against ref, over window_tsc TSC cycles; hz stays 0 if it did not count. */
void lapic_measure_rate_by(struct refclock *ref, uint64_t window_tsc, struct lapic_ref_rate *r);
const struct lapic_calibration *lapic_calibration(void);

/* The timer, for the tick source and the checks. */
void lapic_timer_connect(trap_handler_fn fn);   /* NULL disconnects */
void lapic_timer_periodic(unsigned divider, uint32_t count);
int lapic_set_divider(unsigned divider);        /* for lapic_arm_oneshot; -1 if not 1..128 */
int lapic_arm_oneshot(uint32_t count);          /* -1 if no APIC or count 0 */
int lapic_arm_tsc_deadline(uint64_t tsc);       /* -1 without TSC-deadline mode */
void lapic_timer_stop(void);
uint32_t lapic_timer_current(void);             /* TCCR */
uint64_t lapic_tsc_deadline_read(void);         /* IA32_TSC_DEADLINE: 0 once it has fired */
/* Read TCCR between two TSC reads: *tsc gets their midpoint, *width their distance. */
uint32_t lapic_timer_sample(uint64_t *tsc, uint64_t *width);

extern const struct tick_source lapic_tick_source;

#endif
