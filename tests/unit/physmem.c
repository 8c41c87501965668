/* The window of simulated physical memory; see physmem.h. */
#include "tests/unit/physmem.h"
#include "kernel/paging.h"

static uint64_t window_base;
static const uint8_t *window;
static size_t window_len;

void physmem_set(uint64_t base, const void *bytes, size_t len)
{
	window_base = base;
	window = bytes;
	window_len = len;
}

const void *phys_map(uint64_t addr, uint64_t len)
{
	if (len == 0 || addr < window_base || addr - window_base > window_len ||
	    len > window_len - (addr - window_base))
		return NULL;
	return window + (addr - window_base);
}
