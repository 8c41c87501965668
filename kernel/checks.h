/* Platform checks made by the kernel itself: the tick rate, stray interrupts. */
#ifndef TICKGUEST_CHECKS_H
#define TICKGUEST_CHECKS_H

#include "checks/refclock.h"     /* second_refclock() */
#include "drivers/tsc.h"
#include "kernel/tick.h"
#include "kernel/tickstat.h"

void tick_report_check(void);
void tickclock_report_check(void);
/* A reference clock taken at its nominal rate: the ppm its integer frequency may round away. */
#define REF_NOMINAL_PPM 1
/* The YAML lines of a tick interval classification (kernel/tickstat.h), times in us. */
void tick_stats_yaml(const struct tick_stats *st, uint64_t ref_hz);
void irq_report_check(void);

#endif
