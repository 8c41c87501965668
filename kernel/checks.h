/* Platform checks made by the kernel itself: the tick rate, stray interrupts. */
#ifndef TICKGUEST_CHECKS_H
#define TICKGUEST_CHECKS_H

#include "checks/limits.h"       /* REF_NOMINAL_PPM */
#include "checks/refclock.h"     /* second_refclock() */
#include "drivers/tsc.h"
#include "kernel/tick.h"
#include "kernel/tickstat.h"

void tick_report_check(void);
void tickclock_report_check(void);
/* The YAML lines of a tick interval classification (kernel/tickstat.h), times in us. */
void tick_stats_yaml(const struct tick_stats *st, uint64_t ref_hz);
void irq_report_check(void);

#endif
