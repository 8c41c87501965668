#ifndef TICKGUEST_PIC8259_H
#define TICKGUEST_PIC8259_H

#include "kernel/irq.h"

/* Remap both 8259s to IRQ_VECTOR_BASE, all lines masked, and return their irqchip. */
const struct irqchip *pic_init(void);

#endif
