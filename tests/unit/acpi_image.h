/*
 * A small image of the BIOS area with the tables QEMU's firmware puts there (RSDP, RSDT, FADT,
 * DSDT with \_S5, MADT, HPET), built byte by byte from the ACPI 6.5 and IA-PC HPET layouts,
 * for the host tests of drivers/acpi.c (tests/unit/test_acpi_tables.c) and as the seed of its
 * fuzz target (tests/fuzz/).  Each test breaks one thing in it.
 */
#ifndef TICKGUEST_TEST_ACPI_IMAGE_H
#define TICKGUEST_TEST_ACPI_IMAGE_H

#include <stdint.h>
#include <string.h>

#define IMG_BASE        0xe0000u        /* the BIOS area, where acpi_init() scans */
#define IMG_LEN         0x800u
#define IMG_RSDT        0x100u
#define IMG_FADT        0x200u
#define IMG_DSDT        0x300u
#define IMG_MADT        0x400u
#define IMG_HPET        0x500u
#define IMG_SSDT        0x600u          /* listed in the RSDT only when a test asks */

#define IMG_PM_TMR      0x608
#define IMG_PM1A_CNT    0x604

struct acpi_image {
	uint8_t b[IMG_LEN];
};

static inline void img_w8(struct acpi_image *m, uint32_t off, uint8_t v) { m->b[off] = v; }
static inline void img_w16(struct acpi_image *m, uint32_t off, uint16_t v)
{
	img_w8(m, off, (uint8_t)v);
	img_w8(m, off + 1, (uint8_t)(v >> 8));
}
static inline void img_w32(struct acpi_image *m, uint32_t off, uint32_t v)
{
	img_w16(m, off, (uint16_t)v);
	img_w16(m, off + 2, (uint16_t)(v >> 16));
}
static inline uint32_t img_r32(const struct acpi_image *m, uint32_t off)
{
	return m->b[off] | m->b[off + 1] << 8 | m->b[off + 2] << 16 | (uint32_t)m->b[off + 3] << 24;
}

/* Set the checksum byte at off + at so that the len bytes from off sum to zero. */
static inline void img_sum(struct acpi_image *m, uint32_t off, uint32_t len, uint32_t at)
{
	uint8_t s = 0;

	m->b[off + at] = 0;
	for (uint32_t i = 0; i < len && off + i < IMG_LEN; i++)
		s += m->b[off + i];
	m->b[off + at] = (uint8_t)-s;
}

/* A table header: signature, length, revision 1; the checksum over the declared length. */
static inline void img_sdt(struct acpi_image *m, uint32_t off, const char *sig, uint32_t len)
{
	memcpy(&m->b[off], sig, 4);
	img_w32(m, off + 4, len);
	img_w8(m, off + 8, 1);
	memcpy(&m->b[off + 10], "TICKGS", 6);
}

static inline void img_fix(struct acpi_image *m, uint32_t off)
{
	img_sum(m, off, img_r32(m, off + 4), 9);
}

/* Every table's checksum again, after a test changed a field. */
static inline void img_fix_all(struct acpi_image *m)
{
	img_sum(m, 0, 20, 8);
	for (uint32_t t = IMG_RSDT; t <= IMG_SSDT; t += 0x100)
		if (img_r32(m, t + 4) && img_r32(m, t + 4) <= IMG_LEN - t)
			img_fix(m, t);
}

static inline void img_build(struct acpi_image *m)
{
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04,
				      0x0a, 0x05, 0x00, 0x00, 0x00 };
	/* the MADT after its header, little-endian: an entry a line, as the spec draws them */
	static const uint8_t madt[] = {
		0x00, 0x00, 0xe0, 0xfe, 1, 0, 0, 0,     /* local APIC at 0xfee00000, PC-AT compatible */
		0, 8, 0, 0, 1, 0, 0, 0,                 /* local APIC: UID 0, APIC ID 0, enabled */
		1, 12, 0, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0, /* IOAPIC 0 at 0xfec00000, GSI 0 up */
		2, 10, 0, 0, 2, 0, 0, 0, 0, 0,          /* override: ISA IRQ 0 on GSI 2, flags 0 */
	};
	const uint32_t tables[] = { IMG_FADT, IMG_MADT, IMG_HPET };

	memset(m, 0, sizeof(*m));
	/* RSDP, revision 0: the RSDT only */
	memcpy(&m->b[0], "RSD PTR ", 8);
	memcpy(&m->b[9], "TICKGS", 6);
	img_w32(m, 16, IMG_BASE + IMG_RSDT);
	/* RSDT */
	img_sdt(m, IMG_RSDT, "RSDT", 36 + 4 * 3);
	for (unsigned i = 0; i < 3; i++)
		img_w32(m, IMG_RSDT + 36 + 4 * i, IMG_BASE + tables[i]);
	/* FADT, ACPI 1.0's 116 bytes */
	img_sdt(m, IMG_FADT, "FACP", 116);
	img_w32(m, IMG_FADT + 40, IMG_BASE + IMG_DSDT);
	img_w32(m, IMG_FADT + 64, IMG_PM1A_CNT);
	img_w32(m, IMG_FADT + 76, IMG_PM_TMR);
	img_w8(m, IMG_FADT + 91, 4);
	img_w8(m, IMG_FADT + 108, 0x32);
	/* DSDT: Name (_S5, Package (4) { 5, 0, 0, 0 }) */
	img_sdt(m, IMG_DSDT, "DSDT", 36 + sizeof(s5));
	memcpy(&m->b[IMG_DSDT + 36], s5, sizeof(s5));
	/* MADT: the local APIC, an IOAPIC, IRQ 0 on GSI 2 */
	img_sdt(m, IMG_MADT, "APIC", 36 + sizeof(madt));
	memcpy(&m->b[IMG_MADT + 36], madt, sizeof(madt));
	/* HPET: registers in memory (address space 0) at 0xfed00000 */
	img_sdt(m, IMG_HPET, "HPET", 56);
	img_w32(m, IMG_HPET + 36, 0x8086a201u);
	img_w32(m, IMG_HPET + 44, 0xfed00000u);
	img_fix_all(m);
}

#endif
