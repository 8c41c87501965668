/* The 8254 PIT's channel 0 held to its datasheet: periodic rates, the mode 0 one-shot, the
 * read-back command (checks/pit.c, docs/pit.md). */
#ifndef TICKGUEST_CHECKS_PIT_H
#define TICKGUEST_CHECKS_PIT_H

/* Before the scheduler, with the 8259 in charge of IRQ 0 and the TSC calibrated; the reasons
 * the PM timer and the HPET are absent, or NULL.  IRQ 0 is the checks' alone for about 1.6 s;
 * returns with interrupts off, channel 0 stopped and IRQ 0 unregistered. */
void pit_checks(const char *pmtimer_absent, const char *hpet_absent);

#endif
