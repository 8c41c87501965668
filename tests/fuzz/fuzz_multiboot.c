/*
 * libFuzzer target: multiboot_parse() with the input as the memory at MB_BASE, the
 * information structure at its start; pointers in it reach the input or nothing.
 * `make fuzz` runs it.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernel/multiboot.h"
#include "tests/unit/physmem.h"

#define MB_BASE 0x9000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct boot_info bi;

	physmem_set(MB_BASE, data, size);
	if (multiboot_parse(MULTIBOOT_BOOTLOADER_MAGIC, MB_BASE, &bi))
		(void)(strlen(bi.cmdline) + strlen(bi.loader));
	return 0;
}
