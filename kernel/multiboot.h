/* The parts of the multiboot v1 information structure tickguest reads (Multiboot spec 0.6.96, 3.3). */
#ifndef TICKGUEST_MULTIBOOT_H
#define TICKGUEST_MULTIBOOT_H

#include <stdbool.h>
#include <stdint.h>

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002
/* The longest string (command line, loader name) taken from the loader, its NUL included. */
#define MULTIBOOT_STRING_MAX    4096

struct boot_info {
	const char *cmdline;            /* "" when the loader gave none */
	const char *loader;             /* boot loader name, or "" */
	uint32_t mem_lower_kib, mem_upper_kib;
	uint64_t ram_bytes;             /* usable RAM from the memory map (or mem_upper) */
	unsigned mmap_entries;
	const char *why;                /* why multiboot_parse() failed, or "" */
};

/* Returns false, with why, when magic says we were not started by a multiboot loader or the
 * information it left is malformed. */
bool multiboot_parse(uint32_t magic, uint32_t info_addr, struct boot_info *bi);

#endif
