/*
 * libFuzzer target: config_parse() over an arbitrary command line of up to
 * MULTIBOOT_STRING_MAX bytes (what multiboot_parse() lets through); an error must fit its
 * buffer and end in a NUL.  `make fuzz` runs it.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernel/config.h"
#include "kernel/multiboot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char line[MULTIBOOT_STRING_MAX];
	static struct config cfg;
	char err[CONFIG_ERR_LEN];

	if (size >= sizeof(line))
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	err[sizeof(err) - 1] = 'x';
	if (config_parse(&cfg, line, err, sizeof(err)) < 0 && memchr(err, '\0', sizeof(err)) == NULL)
		__builtin_trap();
	return 0;
}
