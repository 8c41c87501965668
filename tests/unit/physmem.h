/*
 * Simulated physical memory for the host tests and fuzz targets of the code that reads what
 * firmware and loaders leave in memory (drivers/acpi.c, drivers/madt.c, kernel/multiboot.c):
 * their phys_map() (kernel/paging.h) sees one window of bytes at a physical base address and
 * nothing else, so a read outside it is refused as the guest's would be, and AddressSanitizer
 * catches one that bypasses phys_map().
 */
#ifndef TICKGUEST_TEST_PHYSMEM_H
#define TICKGUEST_TEST_PHYSMEM_H

#include <stddef.h>
#include <stdint.h>

/* Memory is bytes[0..len) at physical address base, until the next call (len 0: none). */
void physmem_set(uint64_t base, const void *bytes, size_t len);

#endif
