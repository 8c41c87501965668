/*
 * Reading the Multiboot2 boot information (Multiboot2 spec 2.0, 3.6): a size, then tags of
 * (type, size) each starting on an 8-byte boundary, ended by a tag of type 0.  Unlike v1 it
 * can carry the ACPI RSDP, which a UEFI firmware does not leave in the BIOS area: the loader
 * copies it into a tag, the ACPI 2.0 one ("new") or the 1.0 one ("old").
 *
 * Input like any other: the whole information is reached through phys_map() once its size is
 * known and bounded, every tag must lie inside it and be at least its own header, a string
 * must end inside its tag, the memory map's entry size must cover an entry, and an RSDP tag
 * must hold a whole RSDP of its revision.  tests/fuzz/fuzz_multiboot2.c runs this over
 * arbitrary bytes.
 */
#include <stddef.h>
#include "kernel/multiboot.h"
#include "kernel/paging.h"

/* Tag types (spec 3.6.1 onwards). */
#define MB2_TAG_END             0
#define MB2_TAG_CMDLINE         1
#define MB2_TAG_LOADER          2
#define MB2_TAG_MEMINFO         4
#define MB2_TAG_MMAP            6
#define MB2_TAG_ACPI_OLD        14
#define MB2_TAG_ACPI_NEW        15
#define MB2_TAG_ALIGN           8
#define MB2_MMAP_TYPE_RAM       1
/* GRUB's information with an EFI memory map of a large machine is a few KiB; this bounds the
 * walk and refuses a size that wrapped. */
#define MB2_INFO_MAX            (1u << 20)
/* An RSDP's length: 20 bytes in ACPI 1.0, 36 from ACPI 2.0 (ACPI 6.5, 5.2.5.3). */
#define RSDP_V1_LEN             20
#define RSDP_V2_LEN             36

struct __attribute__((packed)) mb2_tag {
	uint32_t type, size;            /* size counts this header, not the padding after */
};

struct __attribute__((packed)) mb2_meminfo {
	struct mb2_tag tag;
	uint32_t mem_lower, mem_upper;
};

struct __attribute__((packed)) mb2_mmap {
	struct mb2_tag tag;
	uint32_t entry_size, entry_version;
};

struct __attribute__((packed)) mb2_mmap_entry {
	uint64_t addr, len;
	uint32_t type, reserved;
};

/* The tag's bytes after its header as a string, if a NUL ends it inside the tag. */
static const char *tag_string(const struct mb2_tag *t)
{
	const char *s = (const char *)(t + 1);
	uint32_t n = t->size - sizeof(*t);

	if (n > MULTIBOOT_STRING_MAX)
		n = MULTIBOOT_STRING_MAX;
	for (uint32_t i = 0; i < n; i++)
		if (s[i] == '\0')
			return s;
	return NULL;
}

static bool read_mmap(const struct mb2_tag *t, struct boot_info *bi)
{
	const struct mb2_mmap *m = (const void *)t;

	if (t->size < sizeof(*m) || m->entry_size < sizeof(struct mb2_mmap_entry))
		return false;
	bi->ram_bytes = 0;
	/* entries follow the header at entry_size strides, which may exceed the fields */
	for (uint32_t off = sizeof(*m); t->size - off >= m->entry_size; off += m->entry_size) {
		const struct mb2_mmap_entry *e = (const void *)((const uint8_t *)m + off);

		if (e->type == MB2_MMAP_TYPE_RAM)
			bi->ram_bytes += e->len;
		bi->mmap_entries++;
	}
	return true;
}

/* An RSDP copied into a tag: kept if the tag holds a whole one of its kind. */
static void read_rsdp(const struct mb2_tag *t, uint32_t need, const char *source,
		      struct boot_info *bi)
{
	if (t->size - sizeof(*t) < need)
		return;
	/* the ACPI 2.0 copy wins whatever order the tags come in */
	if (bi->rsdp && need == RSDP_V1_LEN)
		return;
	bi->rsdp = (const uint8_t *)(t + 1);
	bi->rsdp_len = t->size - sizeof(*t);
	bi->rsdp_source = source;
}

static bool fail(struct boot_info *bi, const char *why)
{
	bi->why = why;
	return false;
}

bool multiboot2_parse(uint32_t info_addr, struct boot_info *bi)
{
	const uint32_t *head = phys_map(info_addr, 8);
	const uint8_t *info;
	uint32_t total;

	if (!head)
		return fail(bi, "the multiboot2 information is not in memory");
	total = head[0];
	if (total < 8 + sizeof(struct mb2_tag) || total > MB2_INFO_MAX)
		return fail(bi, "the multiboot2 information's size is outside 16 bytes to 1 MiB");
	if (!(info = phys_map(info_addr, total)))
		return fail(bi, "the multiboot2 information is not in memory");
	for (uint32_t off = 8;;) {
		const struct mb2_tag *t = (const void *)(info + off);

		if (total - off < sizeof(*t) || t->size < sizeof(*t) || t->size > total - off)
			return fail(bi, "a multiboot2 tag runs past the information's size");
		switch (t->type) {
		case MB2_TAG_END:
			return true;
		case MB2_TAG_CMDLINE:
			if (!(bi->cmdline = tag_string(t))) {
				bi->cmdline = "";
				return fail(bi, "the multiboot2 command line is not a string inside "
					    "its tag");
			}
			break;
		case MB2_TAG_LOADER:
			if (!(bi->loader = tag_string(t)))
				bi->loader = "(unreadable)";
			break;
		case MB2_TAG_MEMINFO:
			if (t->size >= sizeof(struct mb2_meminfo)) {
				const struct mb2_meminfo *m = (const void *)t;

				bi->mem_lower_kib = m->mem_lower;
				bi->mem_upper_kib = m->mem_upper;
				if (!bi->mmap_entries)
					bi->ram_bytes = ((uint64_t)m->mem_lower + m->mem_upper) * 1024;
			}
			break;
		case MB2_TAG_MMAP:
			if (!read_mmap(t, bi))
				return fail(bi, "the multiboot2 memory map's entries are shorter than "
					    "their fields");
			break;
		case MB2_TAG_ACPI_OLD:
			read_rsdp(t, RSDP_V1_LEN, "the loader's ACPI 1.0 RSDP tag", bi);
			break;
		case MB2_TAG_ACPI_NEW:
			read_rsdp(t, RSDP_V2_LEN, "the loader's ACPI 2.0 RSDP tag", bi);
			break;
		default:
			break;
		}
		/* the next tag starts on an 8-byte boundary; the end tag must come before the end */
		off += (t->size + MB2_TAG_ALIGN - 1) & ~(uint32_t)(MB2_TAG_ALIGN - 1);
		if (off >= total)
			return fail(bi, "the multiboot2 information has no end tag");
	}
}
