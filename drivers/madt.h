/*
 * The ACPI Multiple APIC Description Table (MADT, signature "APIC"; ACPI 6.5, 5.2.12): where
 * the local APIC and the IOAPICs are, and how ISA IRQs are wired to the IOAPIC inputs.
 */
#ifndef TICKGUEST_MADT_H
#define TICKGUEST_MADT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MADT_MAX_IOAPICS        8
#define MADT_MAX_OVERRIDES      16
#define MADT_MAX_CPUS           16

/* Flags of the MADT header: PCAT_COMPAT says dual 8259s are present and must be masked before
 * the APICs take over. */
#define MADT_PCAT_COMPAT        (1u << 0)

/* MPS INTI flags of an Interrupt Source Override (5.2.12.5, table 5.26) */
#define MADT_POLARITY_MASK      0x3
#define MADT_POLARITY_CONFORMS  0x0     /* whatever the bus says: ISA is active high */
#define MADT_POLARITY_HIGH      0x1
#define MADT_POLARITY_LOW       0x3
#define MADT_TRIGGER_SHIFT      2
#define MADT_TRIGGER_MASK       (0x3u << MADT_TRIGGER_SHIFT)
#define MADT_TRIGGER_CONFORMS   (0x0u << MADT_TRIGGER_SHIFT)    /* ISA: edge */
#define MADT_TRIGGER_EDGE       (0x1u << MADT_TRIGGER_SHIFT)
#define MADT_TRIGGER_LEVEL      (0x3u << MADT_TRIGGER_SHIFT)

struct madt_ioapic {
	uint8_t id;
	uint32_t addr;
	uint32_t gsi_base;
};

struct madt_override {
	uint8_t bus;                    /* 0: ISA, the only bus ACPI defines */
	uint8_t source;                 /* ISA IRQ */
	uint32_t gsi;
	uint16_t flags;                 /* MADT_POLARITY_* | MADT_TRIGGER_* */
};

struct madt_info {
	bool found;
	uint64_t lapic_addr;            /* after any type 5 override */
	bool lapic_addr_overridden;
	uint32_t flags;                 /* MADT_PCAT_COMPAT */
	unsigned ncpus;                 /* enabled Processor Local APIC entries */
	uint8_t cpu_apic_id[MADT_MAX_CPUS];
	unsigned nioapics;
	struct madt_ioapic ioapic[MADT_MAX_IOAPICS];
	unsigned noverrides;
	struct madt_override override[MADT_MAX_OVERRIDES];
	unsigned dropped;               /* entries that did not fit the arrays above */
	const char *why;                /* why the table was rejected, or where parsing stopped */
};

/* How an ISA IRQ reaches the IOAPIC: its GSI and the line's electrical behaviour. */
struct madt_route {
	uint32_t gsi;
	bool active_low;
	bool level;
	bool overridden;                /* an Interrupt Source Override said so */
};

/* Pure: decode the table in buf (len bytes, header included).  False if it is not an MADT or is
 * cut short; entries after a malformed one are ignored and m->why says so. */
bool madt_parse(const uint8_t *buf, size_t len, struct madt_info *m);

/* Pure: the route of ISA IRQ irq: identity with ISA defaults unless an override says otherwise. */
struct madt_route madt_isa_route(const struct madt_info *m, unsigned irq);

/* Parse the table acpi_init() found; madt()->found is false (why: "no MADT") without one. */
void madt_init(void);
const struct madt_info *madt(void);

#endif
