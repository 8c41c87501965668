/*
 * The parts of the boot information tickguest reads from a multiboot loader: v1 (Multiboot
 * spec 0.6.96, 3.3; QEMU's -kernel, GRUB's `multiboot`) or v2 (Multiboot2 spec 2.0, 3.6;
 * GRUB's `multiboot2`, the one that can hand over the ACPI RSDP under UEFI).
 */
#ifndef TICKGUEST_MULTIBOOT_H
#define TICKGUEST_MULTIBOOT_H

#include <stdbool.h>
#include <stdint.h>

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002
#define MULTIBOOT2_BOOTLOADER_MAGIC 0x36d76289
/* The longest string (command line, loader name) taken from the loader, its NUL included. */
#define MULTIBOOT_STRING_MAX    4096

struct boot_info {
	const char *cmdline;            /* "" when the loader gave none */
	const char *loader;             /* boot loader name, or "" */
	uint32_t mem_lower_kib, mem_upper_kib;
	uint64_t ram_bytes;             /* usable RAM from the memory map (or mem_upper) */
	unsigned mmap_entries;
	const uint8_t *rsdp;            /* v2: the loader's copy of the ACPI RSDP, or NULL */
	uint32_t rsdp_len;              /* the bytes of that copy */
	const char *rsdp_source;        /* which tag it came from, or "" */
	const char *why;                /* why multiboot_parse() failed, or "" */
};

/* Returns false, with why, when magic says we were not started by a multiboot loader (v1 or
 * v2) or the information it left is malformed. */
bool multiboot_parse(uint32_t magic, uint32_t info_addr, struct boot_info *bi);
/* The v2 information at info_addr, into a boot_info multiboot_parse() has cleared. */
bool multiboot2_parse(uint32_t info_addr, struct boot_info *bi);

#endif
