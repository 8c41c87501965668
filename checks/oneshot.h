/* The one-shot half of the tick-source interface, held to its contract on every device. */
#ifndef TICKGUEST_CHECKS_ONESHOT_H
#define TICKGUEST_CHECKS_ONESHOT_H

/* Before the scheduler runs; the reasons the HPET and the local APIC are absent, or NULL. */
void oneshot_checks(const char *hpet_why, const char *lapic_why);

#endif
