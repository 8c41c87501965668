#ifndef TICKGUEST_PAGING_H
#define TICKGUEST_PAGING_H

#include <stdint.h>

#define PAGE_SIZE       4096u

void paging_init(void);

/*
 * Unmap the 4 KiB page at `page` (page-aligned, below 4 MiB, after paging_init) as the guard
 * below the stack of `owner`: a stack that overflows into it faults, and the double fault that
 * follows (kernel/gdt.c) is reported as that stack's overflow.
 */
void paging_guard(void *page, const char *owner);
/* The owner of the guard page that addr falls in, or NULL. */
const char *paging_guard_owner(uint32_t addr);

/*
 * len bytes of physical memory at addr, for reading what the firmware and the loader left
 * there (ACPI tables, the multiboot information), or NULL where there is no such memory: a
 * range that wraps, that reaches past the 4 GiB a 32-bit kernel addresses, or (once paging is
 * on) that touches page 0.  Every length such a structure declares goes through here before
 * it is used.  The host tests and fuzz targets link their own, over a buffer
 * (tests/unit/physmem.c).
 */
const void *phys_map(uint64_t addr, uint64_t len);

#endif
