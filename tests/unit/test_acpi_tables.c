/*
 * Host tests of acpi_init() over simulated memory (tests/unit/physmem.h): the tables QEMU's
 * firmware gives are found, and each malformed table the fuzz target or a broken firmware can
 * give is refused and counted, never read past.  Build: make build/host/test_acpi_tables
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "drivers/acpi.h"
#include "tests/unit/acpi_image.h"
#include "tests/unit/physmem.h"

#define RSDP_COPY       36

static struct acpi_image img;
/* A loader's copy of the image's RSDP, its 20 bytes of ACPI 1.0, as GRUB makes it (setup()). */
static uint8_t loader_copy[RSDP_COPY];

/* The tables acpi_init() keeps, as a set: expect_tables() checks each of them. */
enum { FADT = 1, DSDT = 2, MADT = 4, HPET = 8, ALL = FADT | DSDT | MADT | HPET };

/*
 * What a scan found: exactly the tables in kept (the others refused or never reached), bad
 * tables refused and counted, and why as the reason it gives ("" when nothing is missing).
 */
static void expect_tables(const struct acpi_info *a, unsigned kept, unsigned bad, const char *why)
{
	assert_int_equal(a->fadt != NULL, (kept & FADT) != 0);
	assert_int_equal(a->dsdt != NULL, (kept & DSDT) != 0);
	assert_int_equal(a->madt != NULL, (kept & MADT) != 0);
	assert_int_equal(a->hpet != NULL, (kept & HPET) != 0);
	assert_int_equal(a->bad_tables, bad);
	assert_string_equal(a->why, why);
}

/* acpi_init() over the image, with a loader's copy of the RSDP (copy, len bytes) or none. */
static const struct acpi_info *scan_with(const uint8_t *copy, uint32_t len, const char *source)
{
	physmem_set(IMG_BASE, img.b, sizeof(img.b));
	acpi_find_rsdp();
	acpi_init(copy, len, source);
	return acpi_info();
}

static const struct acpi_info *scan(void)
{
	return scan_with(NULL, 0, NULL);
}

/* The RSDP a scan went by, and what it said of the loader's copy ("" for none or a good one). */
static void expect_rsdp(const struct acpi_info *a, const char *source, const char *loader_why)
{
	assert_true(a->found);
	assert_string_equal(a->rsdp_source, source);
	assert_string_equal(a->loader_why, loader_why);
}

/* The table at off in the image declares len bytes (its checksum left as it was). */
static void set_length(uint32_t off, uint32_t len)
{
	img_w32(&img, off + 4, len);
}

static int setup(void **state)
{
	(void)state;
	img_build(&img);
	memcpy(loader_copy, img.b, 20);
	return 0;
}

static void test_every_table_found(void **state)
{
	const struct acpi_info *a = scan();

	(void)state;
	expect_rsdp(a, "the BIOS area", "");
	assert_int_equal(a->rsdp_addr, IMG_BASE);
	expect_tables(a, ALL, 0, "");
	assert_int_equal(a->pm_tmr, IMG_PM_TMR);
	assert_int_equal(a->pm1a_cnt, IMG_PM1A_CNT);
	assert_int_equal(a->century, 0x32);
	assert_true(a->s5_found);
	assert_int_equal(a->s5_slp_typ_a, 5);
}

/* A length of 0 "passes" a checksum over no bytes: it is refused for being below the header. */
static void test_zero_length_table_refused(void **state)
{
	(void)state;
	set_length(IMG_HPET, 0);
	img_w8(&img, IMG_HPET + 9, 0);
	expect_tables(scan(), FADT | DSDT | MADT, 1, "");       /* the rest still found */
}

/* A DSDT shorter than its header once made the AML length wrap to about 4 GiB. */
static void test_dsdt_shorter_than_its_header_refused(void **state)
{
	(void)state;
	set_length(IMG_DSDT, 20);
	img_sum(&img, IMG_DSDT, 20, 9);
	expect_tables(scan(), FADT | MADT | HPET, 1, "no valid DSDT");
	assert_false(acpi_info()->s5_found);
}

/*
 * A table that declares 14 MiB: never summed, let alone read past the memory there is; and
 * one that fits the 4 MiB limit but not the memory behind it.
 */
static void test_huge_length_refused(void **state)
{
	const uint32_t lengths[] = { 14u << 20, IMG_LEN };

	(void)state;
	for (unsigned i = 0; i < 2; i++) {
		set_length(IMG_MADT, lengths[i]);
		expect_tables(scan(), FADT | DSDT | HPET, 1, "");
	}
}

/* Each kind of table has its own minimum: fields past its end are never read. */
static void test_short_fadt_madt_hpet_refused(void **state)
{
	(void)state;
	set_length(IMG_FADT, 100);
	set_length(IMG_MADT, 40);
	set_length(IMG_HPET, 52);
	img_fix_all(&img);
	/* the DSDT is reached through the FADT alone */
	expect_tables(scan(), 0, 3, "no valid FADT");
}

static void test_bad_checksum_refused(void **state)
{
	(void)state;
	img.b[IMG_MADT + 50] ^= 0x40;
	expect_tables(scan(), FADT | DSDT | HPET, 1, "");
}

/* Revision 2 with a broken Length: the XSDT is not trusted, the RSDT still is. */
static void test_rsdp_v2_bad_length_falls_back_to_rsdt(void **state)
{
	(void)state;
	img_w8(&img, 15, 2);
	img_w32(&img, 20, 0);
	img_w32(&img, 24, 0xdeadbeef);          /* an XSDT address that is not memory */
	img_fix_all(&img);
	expect_tables(scan(), ALL, 0, "");
	assert_int_equal(acpi_info()->revision, 2);
}

/* An RSDT entry pointing outside memory, and one at a table of no interest that is broken. */
static void test_entries_outside_memory_and_unknown_tables(void **state)
{
	(void)state;
	set_length(IMG_RSDT, 36 + 4 * 5);
	img_w32(&img, IMG_RSDT + 36 + 12, 0xfffffffcu);
	img_w32(&img, IMG_RSDT + 36 + 16, IMG_BASE + IMG_SSDT);
	img_sdt(&img, IMG_SSDT, "SSDT", 40);
	img_fix_all(&img);
	img.b[IMG_SSDT + 39] ^= 1;
	/* one bad table, the SSDT; the address outside is not a table */
	expect_tables(scan(), ALL, 1, "");
}

static void test_no_rsdp(void **state)
{
	const struct acpi_info *a;

	(void)state;
	img.b[3] = 'X';
	a = scan();
	assert_false(a->found);
	assert_string_equal(a->why, "no RSDP from the loader, in the EBDA or the BIOS area");
	physmem_set(0, NULL, 0);                /* and no memory at all */
	acpi_find_rsdp();
	acpi_init(NULL, 0, NULL);
	assert_false(acpi_info()->found);
}

/* A loader's copy of the RSDP (a Multiboot2 tag), len bytes of it, with the BIOS area's own
 * RSDP there or not. */
static const struct acpi_info *from_loader(const uint8_t *copy, uint32_t len, bool bios)
{
	if (!bios)
		img.b[0] = 'X';
	return scan_with(copy, len, "the loader's tag");
}

/* Under UEFI the BIOS area holds no RSDP: the loader's copy is the only way to the tables. */
static void test_loader_rsdp_is_enough(void **state)
{
	const struct acpi_info *a;

	(void)state;
	a = from_loader(loader_copy, 20, false);
	expect_rsdp(a, "the loader's tag", "");
	expect_tables(a, ALL, 0, "");
	assert_true(a->s5_found);
}

/* The ACPI checksum byte for n bytes that hold 0 where it goes. */
static uint8_t checksum(const uint8_t *p, unsigned n)
{
	uint8_t sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += p[i];
	return (uint8_t)-sum;
}

/* An ACPI 2.0 copy leads to the XSDT, which this image alone has (its RSDT address is 0). */
static void test_loader_rsdp_v2_reaches_the_xsdt(void **state)
{
	const uint32_t xsdt = 0x700, tables[] = { IMG_FADT, IMG_MADT, IMG_HPET };
	uint8_t copy[RSDP_COPY] = { 0 };

	(void)state;
	img_sdt(&img, xsdt, "XSDT", 36 + 8 * 3);
	for (unsigned i = 0; i < 3; i++)
		img_w32(&img, xsdt + 36 + 8 * i, IMG_BASE + tables[i]);
	img_fix(&img, xsdt);
	memcpy(copy, "RSD PTR ", 8);
	copy[15] = 2;
	copy[20] = 36;
	memcpy(&copy[24], &(uint32_t){ IMG_BASE + xsdt }, 4);
	copy[8] = checksum(copy, 20);           /* the 1.0 part's, then the whole copy's */
	copy[32] = checksum(copy, 36);
	expect_tables(from_loader(copy, 36, false), ALL, 0, "");
	assert_int_equal(acpi_info()->revision, 2);
	/* the same copy cut to its 1.0 part has only the RSDT, at 0: nothing */
	expect_tables(from_loader(copy, 20, false), 0, 0,
		      "the RSDT/XSDT is missing, malformed or fails its checksum");
	assert_true(acpi_info()->found);
}

/* A broken copy is set aside, saying so, for the BIOS area's RSDP; with none there either,
 * the report says both. */
static void test_broken_loader_rsdp_falls_back(void **state)
{
	const struct acpi_info *a;

	(void)state;
	loader_copy[9] ^= 1;
	a = from_loader(loader_copy, 20, true);
	expect_rsdp(a, "the BIOS area", "the loader's RSDP fails its signature or checksum");
	expect_tables(a, ALL, 0, "");
	loader_copy[9] ^= 1;                    /* whole again, but */
	a = from_loader(loader_copy, 19, true); /* too short to be one */
	assert_string_equal(a->rsdp_source, "the BIOS area");
	assert_string_not_equal(a->loader_why, "");
	loader_copy[9] ^= 1;
	a = from_loader(loader_copy, 20, false);
	assert_false(a->found);
	assert_string_equal(a->why, "the loader's RSDP is broken and there is none in the EBDA "
			    "or the BIOS area");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_every_table_found, setup),
		cmocka_unit_test_setup(test_zero_length_table_refused, setup),
		cmocka_unit_test_setup(test_dsdt_shorter_than_its_header_refused, setup),
		cmocka_unit_test_setup(test_huge_length_refused, setup),
		cmocka_unit_test_setup(test_short_fadt_madt_hpet_refused, setup),
		cmocka_unit_test_setup(test_bad_checksum_refused, setup),
		cmocka_unit_test_setup(test_rsdp_v2_bad_length_falls_back_to_rsdt, setup),
		cmocka_unit_test_setup(test_entries_outside_memory_and_unknown_tables, setup),
		cmocka_unit_test_setup(test_no_rsdp, setup),
		cmocka_unit_test_setup(test_loader_rsdp_is_enough, setup),
		cmocka_unit_test_setup(test_loader_rsdp_v2_reaches_the_xsdt, setup),
		cmocka_unit_test_setup(test_broken_loader_rsdp_falls_back, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
