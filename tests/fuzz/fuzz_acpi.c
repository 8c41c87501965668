/*
 * libFuzzer target: acpi_init() and madt_init() over arbitrary bytes as the BIOS area.
 * The input is the memory at IMG_BASE (where the RSDP scan looks) and there is no other;
 * every table address the input holds is either inside it or refused by phys_map().  Seeded
 * with the QEMU-like image of tests/unit/acpi_image.h.  `make fuzz` runs it.
 */
#include <stddef.h>
#include <stdint.h>

#include "drivers/acpi.h"
#include "drivers/madt.h"
#include "tests/unit/acpi_image.h"
#include "tests/unit/physmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct acpi_info *a;

	physmem_set(IMG_BASE, data, size);
	acpi_find_rsdp();
	/* the input's first bytes stand for a loader's RSDP copy as well, when they are one */
	acpi_init(size >= 20 ? data : NULL, size < 36 ? (uint32_t)size : 36, "the fuzz input");
	madt_init();
	a = acpi_info();
	/* what later code does with the tables it was given: read their declared length */
	if (a->dsdt || a->madt || a->hpet || a->fadt) {
		const uint8_t *t[] = { a->dsdt, a->madt, a->hpet, a->fadt };
		volatile uint8_t sink = 0;

		for (unsigned i = 0; i < 4; i++)
			if (t[i])
				for (uint32_t k = 0, n = t[i][4] | t[i][5] << 8 | t[i][6] << 16 |
						  (uint32_t)t[i][7] << 24; k < n; k++)
					sink ^= t[i][k];
		(void)sink;
	}
	return 0;
}
