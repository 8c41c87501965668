/*
 * libFuzzer target: multiboot_parse() with the input as the memory at MB_BASE, the
 * information structure at its start; pointers in it reach the input or nothing.
 * `make fuzz` runs it.
 */
#include "tests/fuzz/fuzz_multiboot.h"

#define MB_BASE 0x9000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct boot_info bi;

	(void)fuzz_parse_at(MULTIBOOT_BOOTLOADER_MAGIC, MB_BASE, data, size, &bi);
	return 0;
}
