#ifndef TICKGUEST_IOAPIC_H
#define TICKGUEST_IOAPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernel/irq.h"

/* Where an ISA IRQ goes, for the report. */
struct ioapic_pin {
	uint8_t ioapic_id;
	uint32_t gsi;
	unsigned pin;
	bool active_low, level, overridden;
	uint64_t entry;                 /* the redirection entry as programmed, high:low */
};

/* Find the IOAPICs in the MADT and mask every input.  Needs lapic_init() (delivery and EOI go
 * through the local APIC).  False with the reason in why. */
bool ioapic_init(char *why, size_t whylen);
unsigned ioapic_count(void);
void ioapic_describe(unsigned i, char *buf, size_t len);

/*
 * Hand ISA interrupts to the IOAPIC: the local APIC closes its LINT0 virtual wire, and the
 * IOAPIC's irqchip is returned for irq_set_chip(), which masks the controller it replaces.
 * Select before registering handlers: lines are unmasked by irq_register().
 */
const struct irqchip *ioapic_select(void);
/* The way back: every IOAPIC input masked, LINT0's virtual wire open again.  The caller sets the
 * previous irqchip again (the 8259s stay remapped and masked meanwhile). */
void ioapic_deselect(void);

bool ioapic_route(unsigned irq, struct ioapic_pin *p);

/*
 * An input that is no ISA line (a PCI-style GSI, 16 and up): deliver it on `vector`, active
 * high, edge or level, unmasked.  False when no IOAPIC has that GSI.  The caller owns the
 * vector (trap_set_handler) and its EOI (the local APIC's).
 */
bool ioapic_route_gsi(uint32_t gsi, uint8_t vector, bool level);
void ioapic_mask_gsi(uint32_t gsi);

#endif
