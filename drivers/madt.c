/*
 * MADT parsing (ACPI 6.5, 5.2.12).
 *
 * After the standard 36-byte header come the local APIC address and a flags word, then a list
 * of variable-length entries, each starting with a type byte and a length byte.  tickguest
 * runs on one CPU and needs only: the local APIC address (type 5 replaces the 32-bit field with
 * a 64-bit one), the IOAPICs (type 1), and the Interrupt Source Overrides (type 2) that say an
 * ISA IRQ is not wired to the IOAPIC input of the same number, or not as an ISA line usually
 * is.  QEMU's table, for example, has IRQ 0 on GSI 2 (the PIT sits on the IOAPIC input that
 * the 8259 cascade would have used) and IRQs 5, 9, 10, 11 level-triggered for PCI.
 *
 * The parser works on a byte buffer so the host tests can feed it hand-built tables; every
 * read is bounds-checked against the length the caller gives, never against the table's own
 * length field alone.
 */
#include "drivers/madt.h"
#include "drivers/acpi.h"

#define SDT_HEADER_LEN          36
#define MADT_LAPIC_ADDR         36
#define MADT_FLAGS              40
#define MADT_ENTRIES            44

/* Entry types (table 5.20) and their lengths */
#define MADT_T_LOCAL_APIC       0
#define MADT_T_IOAPIC           1
#define MADT_T_ISO              2
#define MADT_T_LAPIC_OVERRIDE   5
#define MADT_LOCAL_APIC_LEN     8
#define MADT_IOAPIC_LEN         12
#define MADT_ISO_LEN            10
#define MADT_LAPIC_OVERRIDE_LEN 12

#define MADT_LOCAL_APIC_ENABLED (1u << 0)

#define ISA_BUS                 0

static struct madt_info info = { .why = "madt_init() was not called" };

static uint8_t rd8(const uint8_t *p, size_t off) { return p[off]; }
static uint16_t rd16(const uint8_t *p, size_t off) { return (uint16_t)(p[off] | p[off + 1] << 8); }
static uint32_t rd32(const uint8_t *p, size_t off) { return rd16(p, off) | (uint32_t)rd16(p, off + 2) << 16; }
static uint64_t rd64(const uint8_t *p, size_t off) { return rd32(p, off) | (uint64_t)rd32(p, off + 4) << 32; }

/* Room for one more in an array of max that holds n: else the entry is counted as dropped. */
static bool room(struct madt_info *m, unsigned n, unsigned max)
{
	if (n < max)
		return true;
	m->dropped++;
	return false;
}

/* One entry, already known to lie inside the buffer with at least its declared length. */
static void madt_entry(const uint8_t *e, struct madt_info *m)
{
	switch (rd8(e, 0)) {
	case MADT_T_LOCAL_APIC:
		if (rd8(e, 1) < MADT_LOCAL_APIC_LEN || !(rd32(e, 4) & MADT_LOCAL_APIC_ENABLED))
			return;
		if (room(m, m->ncpus, MADT_MAX_CPUS))
			m->cpu_apic_id[m->ncpus++] = rd8(e, 3);
		return;
	case MADT_T_IOAPIC:
		if (rd8(e, 1) < MADT_IOAPIC_LEN || !room(m, m->nioapics, MADT_MAX_IOAPICS))
			return;
		m->ioapic[m->nioapics++] = (struct madt_ioapic){
			.id = rd8(e, 2), .addr = rd32(e, 4), .gsi_base = rd32(e, 8) };
		return;
	case MADT_T_ISO:
		if (rd8(e, 1) < MADT_ISO_LEN || !room(m, m->noverrides, MADT_MAX_OVERRIDES))
			return;
		m->override[m->noverrides++] = (struct madt_override){
			.bus = rd8(e, 2), .source = rd8(e, 3), .gsi = rd32(e, 4), .flags = rd16(e, 8) };
		return;
	case MADT_T_LAPIC_OVERRIDE:
		if (rd8(e, 1) < MADT_LAPIC_OVERRIDE_LEN)
			return;
		m->lapic_addr = rd64(e, 4);
		m->lapic_addr_overridden = true;
		return;
	default:
		return;         /* NMI sources, x2APIC and GIC entries: nothing tickguest uses */
	}
}

bool madt_parse(const uint8_t *buf, size_t len, struct madt_info *m)
{
	size_t end, off;

	*m = (struct madt_info){ .why = "" };
	if (!buf || len < MADT_ENTRIES || rd32(buf, 0) != ('A' | 'P' << 8 | 'I' << 16 | (uint32_t)'C' << 24)) {
		m->why = "not an MADT";
		return false;
	}
	end = rd32(buf, 4);
	if (end < MADT_ENTRIES || end > len) {
		m->why = "MADT length field outside the table";
		return false;
	}
	m->found = true;
	m->lapic_addr = rd32(buf, MADT_LAPIC_ADDR);    /* a type 5 entry below may replace it */
	m->flags = rd32(buf, MADT_FLAGS);
	for (off = MADT_ENTRIES; off + 2 <= end; off += rd8(buf, off + 1)) {
		/* A zero length would loop for ever; one past the end would read outside. */
		if (rd8(buf, off + 1) < 2 || off + rd8(buf, off + 1) > end) {
			m->why = "malformed MADT entry; the rest of the table was ignored";
			break;
		}
		madt_entry(buf + off, m);
	}
	return true;
}

struct madt_route madt_isa_route(const struct madt_info *m, unsigned irq)
{
	/* Without an override, ISA IRQ n is GSI n, active high, edge-triggered (5.2.12.5). */
	struct madt_route r = { .gsi = irq };

	for (unsigned i = 0; i < m->noverrides; i++) {
		const struct madt_override *o = &m->override[i];

		if (o->bus != ISA_BUS || o->source != irq)
			continue;
		r.gsi = o->gsi;
		r.overridden = true;
		/* "Conforms" means the bus default, which for ISA is high/edge; the reserved
		 * encodings (10b) are read the same way rather than guessed at. */
		r.active_low = (o->flags & MADT_POLARITY_MASK) == MADT_POLARITY_LOW;
		r.level = (o->flags & MADT_TRIGGER_MASK) == MADT_TRIGGER_LEVEL;
		break;
	}
	return r;
}

void madt_init(void)
{
	const uint8_t *t = acpi_info()->madt;

	if (!t) {
		info = (struct madt_info){ .why = "no MADT" };
		return;
	}
	/* acpi_init() already checked the checksum over the table's own length. */
	madt_parse(t, rd32(t, 4), &info);
}

const struct madt_info *madt(void)
{
	return &info;
}
