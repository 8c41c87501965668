/*
 * ISA interrupt lines and the controller that delivers them.
 *
 * Drivers ask for an ISA IRQ line by number; the interrupt controller in use (the 8259 pair, or
 * the IOAPIC with the local APIC: irq_set_chip) decides which vector it arrives on, tells
 * spurious interrupts apart, and takes the end-of-interrupt.  Handlers run with interrupts off
 * and must be short.
 */
#ifndef TICKGUEST_IRQ_H
#define TICKGUEST_IRQ_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/trap.h"

typedef void (*irq_handler_fn)(struct trapframe *tf);

struct irqchip {
	const char *name;
	void (*unmask)(unsigned irq);
	void (*mask)(unsigned irq);
	void (*eoi)(unsigned irq);
	/* True when the controller raised the line without a real request (8259 IRQ 7/15). */
	bool (*is_spurious)(unsigned irq);
	/* Stop delivering everything (before the report, with the tick source stopped). */
	void (*mask_all)(void);
};

void irq_set_chip(const struct irqchip *chip);
const struct irqchip *irq_chip(void);
void irq_register(unsigned irq, irq_handler_fn fn);
void irq_unregister(unsigned irq);

/* Called from trap() for vectors IRQ_VECTOR_BASE .. +15. */
void irq_dispatch(unsigned irq, struct trapframe *tf);

struct irq_counts {
	uint32_t handled[NR_ISA_IRQS];
	uint32_t spurious[NR_ISA_IRQS];   /* seen by the controller as spurious: not ticks */
	uint32_t unhandled[NR_ISA_IRQS];  /* real interrupts on a line nobody registered */
};
const struct irq_counts *irq_counts(void);

#endif
