/* The IOAPIC's claim: it routes the PIT's ISA IRQ 0, through the MADT's override, at its rate. */
#ifndef TICKGUEST_CHECKS_IOAPIC_H
#define TICKGUEST_CHECKS_IOAPIC_H

/* After apic_init(), before the scheduler; ioapic_why: why there is no IOAPIC, or NULL.  Leaves
 * the interrupt controller that was in charge in charge. */
void ioapic_checks(const char *ioapic_why);

#endif
