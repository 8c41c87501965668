/*
 * What the two multiboot fuzz targets share (fuzz_multiboot.c, fuzz_multiboot2.c): the input
 * as the memory at base, parsed with one of the two magics.
 */
#ifndef TICKGUEST_FUZZ_MULTIBOOT_H
#define TICKGUEST_FUZZ_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernel/multiboot.h"
#include "tests/unit/physmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Parses the input; on success reads both strings to their NUL, so ASan catches one that runs
 * off the input.
 */
static inline bool fuzz_parse_at(uint32_t magic, uint32_t base, const uint8_t *data, size_t size,
				 struct boot_info *bi)
{
	physmem_set(base, data, size);
	if (!multiboot_parse(magic, base, bi))
		return false;
	(void)(strlen(bi->cmdline) + strlen(bi->loader));
	return true;
}

#endif
