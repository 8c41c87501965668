#ifndef TICKGUEST_PAGING_H
#define TICKGUEST_PAGING_H

#include <stdint.h>

void paging_init(void);

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
