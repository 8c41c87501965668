/*
 * libFuzzer target: the Multiboot2 information parser (multiboot_parse() with the v2 magic)
 * with the input as the memory at MB2_BASE, the information at its start.  `make fuzz` runs it.
 */
#include "tests/fuzz/fuzz_multiboot.h"

#define MB2_BASE 0x10000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct boot_info bi;

	/* the RSDP copy must lie inside the input */
	if (fuzz_parse_at(MULTIBOOT2_BOOTLOADER_MAGIC, MB2_BASE, data, size, &bi) && bi.rsdp &&
	    (bi.rsdp < data || bi.rsdp + bi.rsdp_len > data + size))
		__builtin_trap();
	return 0;
}
