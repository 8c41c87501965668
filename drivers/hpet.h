#ifndef TICKGUEST_HPET_H
#define TICKGUEST_HPET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernel/tick.h"

/*
 * Find the HPET through its ACPI table, check its capabilities, stop every timer and start the
 * main counter.  On false, *why says why there is no usable HPET ("no HPET table", ...).
 */
bool hpet_init(const char **why);

/* One line for the banner: base, counter period and width, timers, legacy route capability. */
void hpet_describe_device(char *buf, size_t len);

/*
 * The main counter as a reference clock: freq_hz = 10^15 / COUNTER_CLK_PERIOD, width 64 or 32
 * (COUNT_SIZE_CAP).  A 32-bit counter wraps every 43 s at 100 MHz, 5 min at 14.318 MHz.
 */
extern struct refclock hpet_refclock;

/*
 * Timer 0 as a tick source, periodic.  Routed by legacy replacement (timer 0 drives ISA IRQ 0
 * and the PIT is cut off from it, timer 1 drives IRQ 8 and the RTC is cut off) unless
 * hpet_route_timer0_gsi() chose an IOAPIC input.  stop() undoes the legacy route, which gives
 * IRQ 0 back to the PIT.
 */
extern const struct tick_source hpet_tick_source;

/*
 * Route timer 0 to IOAPIC input `gsi` through Tn_INT_ROUTE_CNF instead of legacy replacement,
 * from the next start on.  Returns -1 with the reason if Tn_INT_ROUTE_CAP does not allow it.
 * The tick source's connect() then programs that IOAPIC input for HPET_TIMER0_VECTOR.
 */
int hpet_route_timer0_gsi(unsigned gsi, char *why, size_t whylen);
/* Back to legacy replacement (the default). */
void hpet_route_timer0_legacy(void);
/* The IOAPIC input (16 and up) timer 0 can be routed to per Tn_INT_ROUTE_CAP, or -1. */
int hpet_ioapic_gsi_for_timer0(void);
/* A route in words: gsi an IOAPIC input, or -1 for legacy replacement. */
void hpet_describe_route(int gsi, char *buf, size_t len);

/* The local vector timer 0 uses when routed to an IOAPIC input. */
#define HPET_TIMER0_VECTOR 0xe0

/*
 * Arm timer 0 once: interrupt when the main counter reaches now + delta_counts (1 .. 2^31-1).
 * Returns 0, or -1 when the deadline had already passed by the time the comparator was written
 * (the HPET would then wait a whole counter wrap: retry with a larger delta).  Stop with
 * hpet_tick_source.stop().
 */
int hpet_arm_oneshot(uint64_t delta_counts);

/*
 * Main counter counts since timer 0's latest deadline: in an interrupt handler, how late the
 * interrupt is.  Negative when the deadline is still ahead (a one-shot interrupt came early).
 */
int32_t hpet_timer0_since_deadline(void);

#endif
