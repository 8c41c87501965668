/*
 * libFuzzer target: madt_parse() over arbitrary bytes as an MADT, then every ISA IRQ's route
 * through the overrides it found.  `make fuzz` runs it.
 */
#include <stddef.h>
#include <stdint.h>

#include "drivers/madt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct madt_info m;

	if (madt_parse(data, size, &m))
		for (unsigned irq = 0; irq < 16; irq++)
			(void)madt_isa_route(&m, irq);
	return 0;
}
