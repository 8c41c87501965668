/*
 * Reading the multiboot information the loader left us.  Each field is valid only when its
 * flag bit is set, so every read is guarded by the bit the spec names for it.
 */
#include "kernel/multiboot.h"

#define MBI_FLAG_MEM      (1u << 0)
#define MBI_FLAG_CMDLINE  (1u << 2)
#define MBI_FLAG_MMAP     (1u << 6)
#define MBI_FLAG_LOADER   (1u << 9)
#define MMAP_TYPE_RAM     1

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

bool multiboot_parse(uint32_t magic, uint32_t info_addr, struct boot_info *bi)
{
	const struct multiboot_info *mbi = (const void *)(uintptr_t)info_addr;

	*bi = (struct boot_info){ .cmdline = "", .loader = "" };
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC || info_addr == 0)
		return false;
	if (mbi->flags & MBI_FLAG_CMDLINE)
		bi->cmdline = (const char *)(uintptr_t)mbi->cmdline;
	if (mbi->flags & MBI_FLAG_LOADER)
		bi->loader = (const char *)(uintptr_t)mbi->boot_loader_name;
	if (mbi->flags & MBI_FLAG_MEM) {
		bi->mem_lower_kib = mbi->mem_lower;
		bi->mem_upper_kib = mbi->mem_upper;
		bi->ram_bytes = ((uint64_t)mbi->mem_lower + mbi->mem_upper) * 1024;
	}
	if (mbi->flags & MBI_FLAG_MMAP) {
		uint32_t off = 0;

		bi->ram_bytes = 0;
		while (off + sizeof(struct multiboot_mmap_entry) <= mbi->mmap_length) {
			const struct multiboot_mmap_entry *e =
				(const void *)(uintptr_t)(mbi->mmap_addr + off);

			if (e->type == MMAP_TYPE_RAM)
				bi->ram_bytes += e->len;
			bi->mmap_entries++;
			off += e->size + sizeof(e->size);
		}
	}
	return true;
}
