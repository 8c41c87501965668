/*
 * ISA IRQ dispatch: spurious check, handler, end of interrupt.
 *
 * The EOI goes out after the handler, so the controller holds back a second interrupt on the
 * same line until this one is handled.  Handlers never switch tasks themselves: they ask for a
 * reschedule, and trap() switches after the EOI, so a preempted task never sits on an
 * unacknowledged interrupt.
 */
#include "kernel/irq.h"
#include "kernel/panic.h"
#include "kernel/x86.h"

static const struct irqchip *chip;
static irq_handler_fn handlers[NR_ISA_IRQS];
static struct irq_counts counts;

/*
 * The end-of-interrupt goes to whichever controller delivered the interrupt: the local APIC for
 * the IOAPIC's, the 8259 for its own.  An interrupt the old controller delivered just before
 * the switch can still be waiting for interrupts to be enabled, in the local APIC's IRR.
 * Taken after the switch, it would get the new controller's EOI, and the local APIC would
 * hold its in-service bit for good.  So the old controller is masked, and what it already
 * delivered is taken, and acknowledged, before the new one is in charge.
 */
void irq_set_chip(const struct irqchip *c)
{
	uint32_t flags = irq_save();

	if (chip && chip != c) {
		chip->mask_all();
		irq_window();
	}
	chip = c;
	irq_restore(flags);
}

const struct irqchip *irq_chip(void)
{
	return chip;
}

void irq_register(unsigned irq, irq_handler_fn fn)
{
	if (irq >= NR_ISA_IRQS)
		panic("irq_register: no ISA IRQ %u", irq);
	handlers[irq] = fn;
	chip->unmask(irq);
}

void irq_unregister(unsigned irq)
{
	chip->mask(irq);
	handlers[irq] = 0;
}

void irq_dispatch(unsigned irq, struct trapframe *tf)
{
	if (chip->is_spurious(irq)) {
		counts.spurious[irq]++;
		return;
	}
	if (handlers[irq]) {
		counts.handled[irq]++;
		handlers[irq](tf);
	} else {
		counts.unhandled[irq]++;
	}
	chip->eoi(irq);
}

const struct irq_counts *irq_counts(void)
{
	return &counts;
}
