/*
 * Platform bring-up of the APICs: the MADT, the local APIC (with its timer's calibration) and
 * the IOAPIC, found and initialised once, with their banner lines.  Not a check: the tick
 * source, the interrupt routing and the device checks (checks/lapic.c, checks/ioapic.c) all
 * start from what it found.
 */
#ifndef TICKGUEST_APIC_SETUP_H
#define TICKGUEST_APIC_SETUP_H

/* After calibrate() (the timer is calibrated against the TSC); leaves the 8259 in charge. */
void apic_init(void);
/* Why there is no usable local APIC / IOAPIC, or NULL when there is one. */
const char *apic_lapic_missing(void);
const char *apic_ioapic_missing(void);

#endif
