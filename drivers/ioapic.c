/*
 * The I/O APIC (Intel 82093AA datasheet; the same register set lives on in every chipset and
 * in QEMU's and VMware's virtual ones): it turns interrupt input pins into messages to a local
 * APIC.
 *
 * Only two registers are memory-mapped: IOREGSEL takes the index of an internal register and
 * IOWIN then reads or writes it.  The internal registers are the ID, the version (which also
 * says how many inputs there are), the arbitration ID, and one 64-bit redirection entry per
 * input (IOREDTBL), which holds the vector, the delivery mode, the pin's polarity and trigger,
 * a mask bit and the destination APIC ID.
 *
 * Each input is a global system interrupt (GSI) number: the IOAPIC's GSI base from the MADT
 * plus the pin.  ISA IRQ n is GSI n unless the MADT has an Interrupt Source Override for it;
 * on QEMU and most PCs the PIT's IRQ 0 is GSI 2.  Every ISA IRQ keeps the vector it has with
 * the 8259s, IRQ_VECTOR_BASE + n, so kernel/irq.c dispatches the same way whichever chip is in
 * charge.  The end of interrupt goes to the local APIC, which passes it on to the IOAPIC for
 * level-triggered inputs (clearing Remote IRR).
 */
#include "drivers/ioapic.h"
#include "drivers/lapic.h"
#include "drivers/madt.h"
#include "lib/format.h"
#include "kernel/x86.h"

#define IOREGSEL                0x00
#define IOWIN                   0x10

#define IOAPICID                0x00
#define IOAPICVER               0x01    /* bits 7:0 version, 23:16 maximum redirection entry */
#define IOREDTBL(pin)           (0x10 + 2 * (pin))      /* low dword; high dword follows */

#define VER_VERSION(v)          ((v) & 0xff)
#define VER_MAX_REDIR(v)        (((v) >> 16) & 0xff)

/* Redirection entry, low dword */
#define RTE_DELMOD_FIXED        (0u << 8)
#define RTE_DESTMOD_PHYSICAL    (0u << 11)
#define RTE_INTPOL_LOW          (1u << 13)
#define RTE_TRIGGER_LEVEL       (1u << 15)
#define RTE_MASKED              (1u << 16)
/* high dword */
#define RTE_DEST_SHIFT          24

#define MMIO_START              0xc0000000u

struct ioapic {
	volatile uint32_t *regs;
	uint8_t id;
	uint32_t gsi_base;
	unsigned pins;
	uint32_t version;
};

static struct ioapic ioapics[MADT_MAX_IOAPICS];
static unsigned nioapics;
static uint8_t dest_apic_id;

/* IOREGSEL then IOWIN is not atomic: with interrupts off, no handler can move IOREGSEL between. */
static uint32_t ioapic_read(const struct ioapic *io, uint8_t reg)
{
	uint32_t flags = irq_save(), v;

	io->regs[IOREGSEL / 4] = reg;
	v = io->regs[IOWIN / 4];
	irq_restore(flags);
	return v;
}

static void ioapic_write(const struct ioapic *io, uint8_t reg, uint32_t v)
{
	uint32_t flags = irq_save();

	io->regs[IOREGSEL / 4] = reg;
	io->regs[IOWIN / 4] = v;
	irq_restore(flags);
}

/* The IOAPIC and pin that carry gsi, or NULL. */
static const struct ioapic *ioapic_for_gsi(uint32_t gsi, unsigned *pin)
{
	for (unsigned i = 0; i < nioapics; i++) {
		if (gsi >= ioapics[i].gsi_base && gsi - ioapics[i].gsi_base < ioapics[i].pins) {
			*pin = gsi - ioapics[i].gsi_base;
			return &ioapics[i];
		}
	}
	return 0;
}

bool ioapic_route(unsigned irq, struct ioapic_pin *p)
{
	struct madt_route r = madt_isa_route(madt(), irq);
	const struct ioapic *io = ioapic_for_gsi(r.gsi, &p->pin);

	if (!io)
		return false;
	p->ioapic_id = io->id;
	p->gsi = r.gsi;
	p->active_low = r.active_low;
	p->level = r.level;
	p->overridden = r.overridden;
	p->entry = (uint64_t)ioapic_read(io, IOREDTBL(p->pin) + 1) << 32 |
		   ioapic_read(io, IOREDTBL(p->pin));
	return true;
}

static void ioapic_unmask(unsigned irq)
{
	struct ioapic_pin p;
	const struct ioapic *io;
	uint32_t low;

	if (!ioapic_route(irq, &p))
		return;         /* no input for this IRQ: it simply never arrives */
	io = ioapic_for_gsi(p.gsi, &p.pin);
	low = (IRQ_VECTOR_BASE + irq) | RTE_DELMOD_FIXED | RTE_DESTMOD_PHYSICAL;
	if (p.active_low)
		low |= RTE_INTPOL_LOW;
	if (p.level)
		low |= RTE_TRIGGER_LEVEL;
	/* Destination first, while the entry is still masked, so the pin never fires at a stale
	 * destination. */
	ioapic_write(io, IOREDTBL(p.pin) + 1, (uint32_t)dest_apic_id << RTE_DEST_SHIFT);
	ioapic_write(io, IOREDTBL(p.pin), low);
}

bool ioapic_route_gsi(uint32_t gsi, uint8_t vector, bool level)
{
	unsigned pin;
	const struct ioapic *io = ioapic_for_gsi(gsi, &pin);
	uint32_t low = vector | RTE_DELMOD_FIXED | RTE_DESTMOD_PHYSICAL;

	if (!io)
		return false;
	if (level)
		low |= RTE_TRIGGER_LEVEL;
	ioapic_write(io, IOREDTBL(pin) + 1, (uint32_t)dest_apic_id << RTE_DEST_SHIFT);
	ioapic_write(io, IOREDTBL(pin), low);
	return true;
}

void ioapic_mask_gsi(uint32_t gsi)
{
	unsigned pin;
	const struct ioapic *io = ioapic_for_gsi(gsi, &pin);

	if (io)
		ioapic_write(io, IOREDTBL(pin), ioapic_read(io, IOREDTBL(pin)) | RTE_MASKED);
}

static void ioapic_mask(unsigned irq)
{
	struct ioapic_pin p;
	const struct ioapic *io;

	if (!ioapic_route(irq, &p))
		return;
	io = ioapic_for_gsi(p.gsi, &p.pin);
	ioapic_write(io, IOREDTBL(p.pin), (uint32_t)p.entry | RTE_MASKED);
}

static void ioapic_mask_all(void)
{
	for (unsigned i = 0; i < nioapics; i++)
		for (unsigned pin = 0; pin < ioapics[i].pins; pin++)
			ioapic_write(&ioapics[i], IOREDTBL(pin), RTE_MASKED);
}

static void ioapic_eoi(unsigned irq)
{
	(void)irq;
	lapic_eoi();
}

static bool ioapic_is_spurious(unsigned irq)
{
	/* The IOAPIC sends messages, it answers no INTA cycle: a withdrawn request shows up as
	 * the local APIC's own spurious vector, never on an ISA vector. */
	(void)irq;
	return false;
}

static const struct irqchip ioapic_chip = {
	.name = "ioapic",
	.unmask = ioapic_unmask,
	.mask = ioapic_mask,
	.eoi = ioapic_eoi,
	.is_spurious = ioapic_is_spurious,
	.mask_all = ioapic_mask_all,
};

bool ioapic_init(char *why, size_t whylen)
{
	const struct madt_info *m = madt();

	nioapics = 0;
	if (!m->found) {
		ksnprintf(why, whylen, "%s", m->why);
		return false;
	}
	if (m->nioapics == 0) {
		ksnprintf(why, whylen, "no IOAPIC in the MADT");
		return false;
	}
	if (!lapic_ready()) {
		ksnprintf(why, whylen, "no local APIC to deliver to");
		return false;
	}
	for (unsigned i = 0; i < m->nioapics; i++) {
		struct ioapic *io = &ioapics[nioapics];

		if (m->ioapic[i].addr < MMIO_START)
			continue;       /* not in the uncached window paging set up: not ours to use */
		io->regs = (volatile uint32_t *)(uintptr_t)phys_ptr(m->ioapic[i].addr);
		io->id = m->ioapic[i].id;
		io->gsi_base = m->ioapic[i].gsi_base;
		io->version = ioapic_read(io, IOAPICVER);
		io->pins = VER_MAX_REDIR(io->version) + 1;
		nioapics++;
	}
	if (nioapics == 0) {
		ksnprintf(why, whylen, "IOAPIC at 0x%08x, outside the uncached top GiB",
			  m->ioapic[0].addr);
		return false;
	}
	/* Physical destination mode to the CPU we run on: one CPU, so no logical groups. */
	dest_apic_id = (uint8_t)lapic_id();
	ioapic_mask_all();
	return true;
}

unsigned ioapic_count(void)
{
	return nioapics;
}

void ioapic_describe(unsigned i, char *buf, size_t len)
{
	const struct ioapic *io = &ioapics[i];

	ksnprintf(buf, len, "id %u at 0x%08x, version 0x%02x, %u inputs (GSI %u-%u)", io->id,
		  (uint32_t)(uintptr_t)io->regs, VER_VERSION(io->version), io->pins, io->gsi_base,
		  io->gsi_base + io->pins - 1);
}

const struct irqchip *ioapic_select(void)
{
	lapic_lint0_extint(false);
	return &ioapic_chip;
}

void ioapic_deselect(void)
{
	ioapic_mask_all();
	lapic_lint0_extint(true);
}
