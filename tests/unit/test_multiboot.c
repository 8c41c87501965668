/*
 * Host tests of multiboot_parse() over simulated memory (tests/unit/physmem.h): what GRUB and
 * QEMU's -kernel loader leave is read, and a malformed structure is refused with a reason
 * instead of read past.  Build: make build/host/test_multiboot
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/multiboot.h"
#include "tests/unit/physmem.h"

#define BASE            0x9000u
#define INFO            0x000u          /* offsets in mem */
#define CMDLINE         0x100u
#define LOADER          0x180u
#define MMAP            0x200u
#define FLAG_MEM        (1u << 0)
#define FLAG_CMDLINE    (1u << 2)
#define FLAG_MMAP       (1u << 6)
#define FLAG_LOADER     (1u << 9)

static uint8_t mem[0x2000];
static struct boot_info bi;

static void w32(uint32_t off, uint32_t v) { memcpy(&mem[off], &v, 4); }
static void w64(uint32_t off, uint64_t v) { memcpy(&mem[off], &v, 8); }

static void mmap_entry(unsigned i, uint64_t addr, uint64_t len, uint32_t type)
{
	const uint32_t e = MMAP + 24 * i;

	w32(e, 20);
	w64(e + 4, addr);
	w64(e + 12, len);
	w32(e + 20, type);
}

static int setup(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	w32(INFO + 0, FLAG_MEM | FLAG_CMDLINE | FLAG_MMAP | FLAG_LOADER);
	w32(INFO + 4, 639);
	w32(INFO + 8, 130048);
	w32(INFO + 16, BASE + CMDLINE);
	strcpy((char *)&mem[CMDLINE], "suite=devices timer=pit");
	w32(INFO + 44, 2 * 24);
	w32(INFO + 48, BASE + MMAP);
	w32(INFO + 64, BASE + LOADER);
	strcpy((char *)&mem[LOADER], "GRUB 2.06");
	mmap_entry(0, 0, 0x9fc00, 1);
	mmap_entry(1, 0x100000, 0x7ee0000, 1);
	physmem_set(BASE, mem, sizeof(mem));
	return 0;
}

static bool parse(void)
{
	return multiboot_parse(MULTIBOOT_BOOTLOADER_MAGIC, BASE + INFO, &bi);
}

static void test_grub_like_info(void **state)
{
	(void)state;
	assert_true(parse());
	assert_string_equal(bi.cmdline, "suite=devices timer=pit");
	assert_string_equal(bi.loader, "GRUB 2.06");
	assert_int_equal(bi.mmap_entries, 2);
	assert_int_equal(bi.ram_bytes, 0x9fc00 + 0x7ee0000);
	assert_string_equal(bi.why, "");
}

static void test_wrong_magic_or_no_info(void **state)
{
	(void)state;
	assert_false(multiboot_parse(0x1badb002, BASE, &bi));  /* the header's magic, not EAX's */
	assert_string_equal(bi.why, "not started by a multiboot loader");
	assert_false(multiboot_parse(MULTIBOOT_BOOTLOADER_MAGIC, 0x100000, &bi));
	assert_string_equal(bi.why, "the multiboot information is not in memory");
}

/* A command line that never ends (here: runs to the end of memory) is refused. */
static void test_unterminated_cmdline(void **state)
{
	(void)state;
	memset(&mem[CMDLINE], 'x', sizeof(mem) - CMDLINE);
	assert_false(parse());
	assert_string_equal(bi.cmdline, "");
	assert_non_null(strstr(bi.why, "command line"));
}

/* An entry whose size field is too small for its fields would overlap the next: refused. */
static void test_mmap_entry_too_short(void **state)
{
	(void)state;
	w32(MMAP + 24, 0);
	assert_false(parse());
	assert_string_equal(bi.why, "a memory map entry is shorter than its fields");
}

static void test_mmap_too_long_or_outside(void **state)
{
	(void)state;
	w32(INFO + 44, 1u << 20);
	assert_false(parse());
	w32(INFO + 44, 48);
	w32(INFO + 48, 0xfffffff0u);
	assert_false(parse());
	assert_non_null(strstr(bi.why, "memory map"));
}

/* A huge size field in the last entry ends the walk instead of wrapping the offset. */
static void test_mmap_huge_entry_size(void **state)
{
	(void)state;
	w32(MMAP + 24, 0xfffffffcu);
	assert_true(parse());
	assert_int_equal(bi.mmap_entries, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_grub_like_info, setup),
		cmocka_unit_test_setup(test_wrong_magic_or_no_info, setup),
		cmocka_unit_test_setup(test_unterminated_cmdline, setup),
		cmocka_unit_test_setup(test_mmap_entry_too_short, setup),
		cmocka_unit_test_setup(test_mmap_too_long_or_outside, setup),
		cmocka_unit_test_setup(test_mmap_huge_entry_size, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
