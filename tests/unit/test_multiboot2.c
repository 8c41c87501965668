/*
 * Host tests of the Multiboot2 information parser (kernel/multiboot2.c) over simulated memory
 * (tests/unit/physmem.h): what GRUB leaves is read, the RSDP copy of ACPI 2.0 preferred to the
 * 1.0 one, and every malformed size refused with a reason instead of read past.
 * Build: make build/host/test_multiboot2
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/multiboot.h"
#include "tests/unit/mb2_image.h"
#include "tests/unit/physmem.h"

#define BASE    0x10000u

static struct mb2_image img;
static struct boot_info bi;

static int setup(void **state)
{
	(void)state;
	mb2_build(&img);
	physmem_set(BASE, img.b, img.len);
	return 0;
}

static bool parse(void)
{
	physmem_set(BASE, img.b, img.len);
	return multiboot_parse(MULTIBOOT2_BOOTLOADER_MAGIC, BASE, &bi);
}

static void test_grub_like_information(void **state)
{
	(void)state;
	assert_true(parse());
	assert_string_equal(bi.cmdline, "suite=devices");
	assert_string_equal(bi.loader, "GRUB 2.06");
	assert_int_equal(bi.mem_lower_kib, 639);
	assert_int_equal(bi.mmap_entries, 2);
	assert_int_equal(bi.ram_bytes, 0x9fc00 + 0x7ee0000ull);
	/* the ACPI 2.0 copy, though the 1.0 tag came first */
	assert_non_null(bi.rsdp);
	assert_int_equal(bi.rsdp_len, 36);
	assert_int_equal(bi.rsdp[15], 2);
	assert_memory_equal(bi.rsdp, "RSD PTR ", 8);
	assert_string_equal(bi.rsdp_source, "the loader's ACPI 2.0 RSDP tag");
	assert_string_equal(bi.why, "");
}

/* A loader that gives only the 1.0 copy (a BIOS machine with an ACPI 1.0 RSDP) */
static void test_old_rsdp_alone(void **state)
{
	(void)state;
	mb2_w32(&img, img.acpi_new, 21);        /* an unknown tag type: skipped */
	assert_true(parse());
	assert_int_equal(bi.rsdp_len, 20);
	assert_string_equal(bi.rsdp_source, "the loader's ACPI 1.0 RSDP tag");
}

/* An RSDP tag too short for its revision is not taken */
static void test_short_rsdp_tags_are_ignored(void **state)
{
	uint8_t rsdp[36];

	(void)state;
	memset(&img, 0, sizeof(img));
	img.len = 8;
	mb2_rsdp(rsdp, 2, 0x7fe0000);
	mb2_tag(&img, 15, rsdp, 20);            /* an ACPI 2.0 RSDP cut to 1.0's length */
	mb2_tag(&img, 14, rsdp, 19);
	mb2_tag(&img, 0, NULL, 0);
	mb2_w32(&img, 0, img.len);
	assert_true(parse());
	assert_null(bi.rsdp);
	assert_string_equal(bi.rsdp_source, "");
}

static void test_size_outside_bounds(void **state)
{
	(void)state;
	mb2_w32(&img, 0, 8);
	assert_false(parse());
	assert_string_equal(bi.why, "the multiboot2 information's size is outside 16 bytes to 1 MiB");
	mb2_w32(&img, 0, 0xfffffff8u);          /* a size that would wrap an address */
	assert_false(parse());
	/* a size beyond the memory there is */
	mb2_w32(&img, 0, img.len + 64);
	assert_false(parse());
	assert_string_equal(bi.why, "the multiboot2 information is not in memory");
}

static void test_tag_past_the_end(void **state)
{
	(void)state;
	mb2_w32(&img, img.mmap + 4, img.len);   /* the map's tag runs past the information */
	assert_false(parse());
	assert_string_equal(bi.why, "a multiboot2 tag runs past the information's size");
	setup(state);
	mb2_w32(&img, img.cmdline + 4, 4);      /* shorter than a tag header */
	assert_false(parse());
	assert_string_equal(bi.why, "a multiboot2 tag runs past the information's size");
}

static void test_missing_end_tag(void **state)
{
	(void)state;
	mb2_w32(&img, img.end, 21);             /* the end tag made an unknown one */
	assert_false(parse());
	assert_string_equal(bi.why, "the multiboot2 information has no end tag");
}

static void test_unterminated_command_line(void **state)
{
	(void)state;
	/* "suite=devices" is 13 bytes and its NUL: a tag of 8 + 13 leaves the NUL outside */
	mb2_w32(&img, img.cmdline + 4, 8 + 13);
	assert_false(parse());
	assert_string_equal(bi.cmdline, "");
	assert_string_equal(bi.why, "the multiboot2 command line is not a string inside its tag");
}

static void test_memory_map_entry_size(void **state)
{
	(void)state;
	mb2_w32(&img, img.mmap + 8, 16);        /* entries shorter than their fields */
	assert_false(parse());
	assert_string_equal(bi.why,
			    "the multiboot2 memory map's entries are shorter than their fields");
	setup(state);
	mb2_w32(&img, img.mmap + 8, 48);        /* a larger stride: one entry fits */
	assert_true(parse());
	assert_int_equal(bi.mmap_entries, 1);
	assert_int_equal(bi.ram_bytes, 0x9fc00);
}

/* Neither magic: refused before anything is read */
static void test_other_magic(void **state)
{
	(void)state;
	physmem_set(BASE, img.b, img.len);
	assert_false(multiboot_parse(0x12345678, BASE, &bi));
	assert_string_equal(bi.why, "not started by a multiboot loader");
	assert_null(bi.rsdp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_grub_like_information, setup),
		cmocka_unit_test_setup(test_old_rsdp_alone, setup),
		cmocka_unit_test_setup(test_short_rsdp_tags_are_ignored, setup),
		cmocka_unit_test_setup(test_size_outside_bounds, setup),
		cmocka_unit_test_setup(test_tag_past_the_end, setup),
		cmocka_unit_test_setup(test_missing_end_tag, setup),
		cmocka_unit_test_setup(test_unterminated_command_line, setup),
		cmocka_unit_test_setup(test_memory_map_entry_size, setup),
		cmocka_unit_test_setup(test_other_magic, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
