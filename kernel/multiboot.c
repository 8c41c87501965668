/*
 * Reading the multiboot information the loader left us.  Each field is valid only when its
 * flag bit is set, so every read is guarded by the bit the spec names for it.  A loader is
 * input like any other: every structure is reached through phys_map(), the memory map's length
 * and its entries' sizes are bounded before they are used, and the strings must end within
 * MULTIBOOT_STRING_MAX bytes.  tests/fuzz/fuzz_multiboot.c runs this over arbitrary bytes.
 */
#include <stddef.h>
#include "kernel/multiboot.h"
#include "kernel/paging.h"

#define MBI_FLAG_MEM      (1u << 0)
#define MBI_FLAG_CMDLINE  (1u << 2)
#define MBI_FLAG_MMAP     (1u << 6)
#define MBI_FLAG_LOADER   (1u << 9)
#define MMAP_TYPE_RAM     1
/* Far more than any firmware's map (QEMU's has 6 entries of 24 bytes), and a bound on the loop. */
#define MMAP_MAX_LEN      (64u << 10)
#define STR(x)            #x
#define XSTR(x)           STR(x)

struct __attribute__((packed)) multiboot_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
};

/* Each map entry is preceded by its size, which does not count the size field itself. */
struct __attribute__((packed)) multiboot_mmap_entry {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
};

/* The NUL-terminated string at addr, if it ends within MULTIBOOT_STRING_MAX bytes; else NULL. */
static const char *string_at(uint32_t addr)
{
	for (uint32_t n = 1; n <= MULTIBOOT_STRING_MAX; n++) {
		const char *s = phys_map(addr, n);

		if (!s)
			return NULL;
		if (s[n - 1] == '\0')
			return s;
	}
	return NULL;
}

bool multiboot_parse(uint32_t magic, uint32_t info_addr, struct boot_info *bi)
{
	const struct multiboot_info *mbi = phys_map(info_addr, sizeof(*mbi));

	*bi = (struct boot_info){ .cmdline = "", .loader = "", .rsdp_source = "", .why = "" };
	if (magic == MULTIBOOT2_BOOTLOADER_MAGIC)
		return multiboot2_parse(info_addr, bi);
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
		bi->why = "not started by a multiboot loader";
		return false;
	}
	if (!mbi) {
		bi->why = "the multiboot information is not in memory";
		return false;
	}
	if (mbi->flags & MBI_FLAG_CMDLINE && !(bi->cmdline = string_at(mbi->cmdline))) {
		bi->cmdline = "";
		bi->why = "the command line is not a string in memory of at most "
			  XSTR(MULTIBOOT_STRING_MAX) " bytes";
		return false;
	}
	if (mbi->flags & MBI_FLAG_LOADER && !(bi->loader = string_at(mbi->boot_loader_name)))
		bi->loader = "(unreadable)";
	if (mbi->flags & MBI_FLAG_MEM) {
		bi->mem_lower_kib = mbi->mem_lower;
		bi->mem_upper_kib = mbi->mem_upper;
		bi->ram_bytes = ((uint64_t)mbi->mem_lower + mbi->mem_upper) * 1024;
	}
	if (mbi->flags & MBI_FLAG_MMAP) {
		const uint32_t len = mbi->mmap_length;
		const uint8_t *map = phys_map(mbi->mmap_addr, len);

		if (len > MMAP_MAX_LEN || (len && !map)) {
			bi->why = "the memory map is longer than 64 KiB, or not in memory";
			return false;
		}
		bi->ram_bytes = 0;
		/* each entry's size field does not count itself; a size too small for the fields
		 * would put the next entry inside this one */
		for (uint32_t off = 0; off + sizeof(struct multiboot_mmap_entry) <= len; ) {
			const struct multiboot_mmap_entry *e = (const void *)(map + off);

			if (e->size < sizeof(*e) - sizeof(e->size)) {
				bi->why = "a memory map entry is shorter than its fields";
				return false;
			}
			if (e->type == MMAP_TYPE_RAM)
				bi->ram_bytes += e->len;
			bi->mmap_entries++;
			if (e->size > len - off - sizeof(e->size))
				break;
			off += e->size + sizeof(e->size);
		}
	}
	return true;
}
