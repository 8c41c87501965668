/*
 * The two cascaded Intel 8259A programmable interrupt controllers of the PC.
 *
 * Register and command names follow the 8259A datasheet.  The BIOS leaves the master on vectors
 * 8..15, on top of the CPU's exception vectors, so both chips are re-initialised (ICW1..ICW4)
 * to deliver IRQ 0..15 on IRQ_VECTOR_BASE..+15.
 *
 * Spurious interrupts: when a request goes away before the CPU acknowledges it, the 8259
 * answers the INTA cycle with its lowest-priority line, IRQ 7 (IRQ 15 on the slave) without
 * setting the in-service bit.  The in-service register tells the two apart.  A spurious IRQ 7
 * must get no EOI; a spurious IRQ 15 still needs one to the master, whose cascade input (IRQ 2)
 * really was in service.
 */
#include "drivers/pic8259.h"
#include "kernel/x86.h"

#define PIC1_CMD        0x20
#define PIC1_DATA       0x21
#define PIC2_CMD        0xa0
#define PIC2_DATA       0xa1

#define ICW1_ICW4       0x01    /* ICW4 follows */
#define ICW1_INIT       0x10
#define ICW3_MASTER_IR2 0x04    /* the slave hangs off the master's IR2 */
#define ICW3_SLAVE_ID   0x02
#define ICW4_8086       0x01
#define OCW2_EOI        0x20    /* non-specific end of interrupt */
#define OCW3_READ_IRR   0x0a
#define OCW3_READ_ISR   0x0b

#define PIC_CASCADE_IRQ 2
#define PIC_SPURIOUS_LINE 7     /* on each chip */

static uint16_t mask_bits = 0xffff;     /* bit n set: IRQ n masked */

static void pic_write_masks(void)
{
	outb(PIC1_DATA, mask_bits & 0xff);
	outb(PIC2_DATA, mask_bits >> 8);
}

static void pic_unmask(unsigned irq)
{
	mask_bits &= ~(1u << irq);
	if (irq >= 8)
		mask_bits &= ~(1u << PIC_CASCADE_IRQ);
	pic_write_masks();
}

static void pic_mask(unsigned irq)
{
	mask_bits |= 1u << irq;
	pic_write_masks();
}

static void pic_mask_all(void)
{
	mask_bits = 0xffff;
	pic_write_masks();
}

static void pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, OCW2_EOI);
	outb(PIC1_CMD, OCW2_EOI);
}

static uint8_t pic_read_isr(uint16_t cmd_port)
{
	outb(cmd_port, OCW3_READ_ISR);
	return inb(cmd_port);
}

static bool pic_is_spurious(unsigned irq)
{
	if (irq == PIC_SPURIOUS_LINE)
		return !(pic_read_isr(PIC1_CMD) & (1u << PIC_SPURIOUS_LINE));
	if (irq == 8 + PIC_SPURIOUS_LINE &&
	    !(pic_read_isr(PIC2_CMD) & (1u << PIC_SPURIOUS_LINE))) {
		outb(PIC1_CMD, OCW2_EOI);
		return true;
	}
	return false;
}

static const struct irqchip pic_chip = {
	.name = "8259",
	.unmask = pic_unmask,
	.mask = pic_mask,
	.eoi = pic_eoi,
	.is_spurious = pic_is_spurious,
	.mask_all = pic_mask_all,
};

const struct irqchip *pic_init(void)
{
	/* The 8259 needs a moment between initialisation words on old hardware: io_delay. */
	outb(PIC1_CMD, ICW1_INIT | ICW1_ICW4);
	io_delay();
	outb(PIC2_CMD, ICW1_INIT | ICW1_ICW4);
	io_delay();
	outb(PIC1_DATA, IRQ_VECTOR_BASE);               /* ICW2: vector base */
	io_delay();
	outb(PIC2_DATA, IRQ_VECTOR_BASE + 8);
	io_delay();
	outb(PIC1_DATA, ICW3_MASTER_IR2);
	io_delay();
	outb(PIC2_DATA, ICW3_SLAVE_ID);
	io_delay();
	outb(PIC1_DATA, ICW4_8086);
	io_delay();
	outb(PIC2_DATA, ICW4_8086);
	io_delay();
	pic_mask_all();
	/* Leave OCW3 selecting the IRR, the power-on default some BIOS code expects. */
	outb(PIC1_CMD, OCW3_READ_IRR);
	outb(PIC2_CMD, OCW3_READ_IRR);
	return &pic_chip;
}
