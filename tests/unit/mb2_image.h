/*
 * A Multiboot2 boot information block as GRUB 2.06 leaves one (Multiboot2 spec 2.0, 3.6):
 * command line, loader name, basic memory, a memory map of two RAM ranges, and both ACPI RSDP
 * tags, each tag on an 8-byte boundary, then the end tag.  Shared by the host tests
 * (test_multiboot2.c) and the fuzz seeds (tests/fuzz/seeds.c); tests edit a built image to make
 * each malformed one.
 */
#ifndef TICKGUEST_TEST_MB2_IMAGE_H
#define TICKGUEST_TEST_MB2_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MB2_IMG_CAP     0x400

struct mb2_image {
	uint8_t b[MB2_IMG_CAP];
	uint32_t len;                   /* bytes used, the end tag included */
	uint32_t cmdline, mmap, acpi_old, acpi_new, end;        /* tag offsets */
};

static inline void mb2_w32(struct mb2_image *m, uint32_t off, uint32_t v)
{
	memcpy(&m->b[off], &v, 4);
}

static inline void mb2_w64(struct mb2_image *m, uint32_t off, uint64_t v)
{
	memcpy(&m->b[off], &v, 8);
}

/* A tag of type with n bytes of payload after its header; returns its offset. */
static inline uint32_t mb2_tag(struct mb2_image *m, uint32_t type, const void *payload,
			       uint32_t n)
{
	const uint32_t off = m->len;

	mb2_w32(m, off, type);
	mb2_w32(m, off + 4, 8 + n);
	if (n)
		memcpy(&m->b[off + 8], payload, n);
	m->len = (off + 8 + n + 7) & ~7u;
	return off;
}

/* An RSDP of revision rev (0: 20 bytes, 2: 36), its checksums right, pointing at rsdt. */
static inline void mb2_rsdp(uint8_t *r, int rev, uint32_t rsdt)
{
	uint8_t sum = 0;

	memset(r, 0, 36);
	memcpy(r, "RSD PTR ", 8);
	memcpy(&r[9], "BOCHS ", 6);
	r[15] = (uint8_t)rev;
	memcpy(&r[16], &rsdt, 4);
	for (int i = 0; i < 20; i++)
		sum += r[i];
	r[8] = (uint8_t)-sum;
	if (rev >= 2) {
		uint32_t len = 36;

		memcpy(&r[20], &len, 4);
		sum = 0;
		for (int i = 0; i < 36; i++)
			sum += r[i];
		r[32] = (uint8_t)-sum;
	}
}

static inline void mb2_build(struct mb2_image *m)
{
	uint8_t rsdp[36];
	uint8_t mmap[8 + 2 * 24] = { 0 };
	const uint32_t meminfo[2] = { 639, 130048 };
	const uint32_t entry_size = 24, ram = 1;
	const uint64_t ranges[2][2] = { { 0, 0x9fc00 }, { 0x100000, 0x7ee0000 } };

	memset(m, 0, sizeof(*m));
	m->len = 8;
	m->cmdline = mb2_tag(m, 1, "suite=devices", sizeof("suite=devices"));
	mb2_tag(m, 2, "GRUB 2.06", sizeof("GRUB 2.06"));
	mb2_tag(m, 4, meminfo, sizeof(meminfo));
	memcpy(&mmap[0], &entry_size, 4);
	for (int i = 0; i < 2; i++) {
		memcpy(&mmap[8 + 24 * i], &ranges[i][0], 8);
		memcpy(&mmap[16 + 24 * i], &ranges[i][1], 8);
		memcpy(&mmap[24 + 24 * i], &ram, 4);
	}
	m->mmap = mb2_tag(m, 6, mmap, sizeof(mmap));
	mb2_rsdp(rsdp, 0, 0x7fe0000);
	m->acpi_old = mb2_tag(m, 14, rsdp, 20);
	mb2_rsdp(rsdp, 2, 0x7fe0000);
	m->acpi_new = mb2_tag(m, 15, rsdp, 36);
	m->end = mb2_tag(m, 0, NULL, 0);
	mb2_w32(m, 0, m->len);
}

#endif
