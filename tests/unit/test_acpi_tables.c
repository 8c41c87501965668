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

static const struct acpi_info *scan(void)
{
	physmem_set(IMG_BASE, img.b, sizeof(img.b));
	acpi_find_rsdp();
	acpi_init(NULL, 0, NULL);
	return acpi_info();
}

static int setup(void **state)
{
	(void)state;
	img_build(&img);
	return 0;
}

static void test_every_table_found(void **state)
{
	const struct acpi_info *a = scan();

	(void)state;
	assert_true(a->found);
	assert_int_equal(a->rsdp_addr, IMG_BASE);
	assert_string_equal(a->rsdp_source, "the BIOS area");
	assert_non_null(a->fadt);
	assert_non_null(a->dsdt);
	assert_non_null(a->madt);
	assert_non_null(a->hpet);
	assert_int_equal(a->bad_tables, 0);
	assert_int_equal(a->pm_tmr, IMG_PM_TMR);
	assert_int_equal(a->pm1a_cnt, IMG_PM1A_CNT);
	assert_int_equal(a->century, 0x32);
	assert_true(a->s5_found);
	assert_int_equal(a->s5_slp_typ_a, 5);
	assert_string_equal(a->why, "");
}

/* A length of 0 "passes" a checksum over no bytes: it is refused for being below the header. */
static void test_zero_length_table_refused(void **state)
{
	const struct acpi_info *a;

	(void)state;
	img_w32(&img, IMG_HPET + 4, 0);
	img_w8(&img, IMG_HPET + 9, 0);
	a = scan();
	assert_null(a->hpet);
	assert_int_equal(a->bad_tables, 1);
	assert_non_null(a->madt);       /* the rest still found */
}

/* A DSDT shorter than its header once made the AML length wrap to about 4 GiB. */
static void test_dsdt_shorter_than_its_header_refused(void **state)
{
	const struct acpi_info *a;

	(void)state;
	img_w32(&img, IMG_DSDT + 4, 20);
	img_sum(&img, IMG_DSDT, 20, 9);
	a = scan();
	assert_non_null(a->fadt);
	assert_null(a->dsdt);
	assert_false(a->s5_found);
	assert_string_equal(a->why, "no valid DSDT");
	assert_int_equal(a->bad_tables, 1);
}

/* A table that declares 14 MiB: never summed, let alone read past the memory there is. */
static void test_huge_length_refused(void **state)
{
	const struct acpi_info *a;

	(void)state;
	img_w32(&img, IMG_MADT + 4, 14u << 20);
	a = scan();
	assert_null(a->madt);
	assert_int_equal(a->bad_tables, 1);
	/* and one that fits the 4 MiB limit but not the memory behind it */
	img_w32(&img, IMG_MADT + 4, IMG_LEN);
	a = scan();
	assert_null(a->madt);
	assert_int_equal(a->bad_tables, 1);
}

/* Each kind of table has its own minimum: fields past its end are never read. */
static void test_short_fadt_madt_hpet_refused(void **state)
{
	const struct acpi_info *a;

	(void)state;
	img_w32(&img, IMG_FADT + 4, 100);
	img_w32(&img, IMG_MADT + 4, 40);
	img_w32(&img, IMG_HPET + 4, 52);
	img_fix_all(&img);
	a = scan();
	assert_null(a->fadt);
	assert_null(a->madt);
	assert_null(a->hpet);
	assert_int_equal(a->bad_tables, 3);
	assert_string_equal(a->why, "no valid FADT");
}

static void test_bad_checksum_refused(void **state)
{
	const struct acpi_info *a;

	(void)state;
	img.b[IMG_MADT + 50] ^= 0x40;
	a = scan();
	assert_null(a->madt);
	assert_int_equal(a->bad_tables, 1);
}

/* Revision 2 with a broken Length: the XSDT is not trusted, the RSDT still is. */
static void test_rsdp_v2_bad_length_falls_back_to_rsdt(void **state)
{
	const struct acpi_info *a;

	(void)state;
	img_w8(&img, 15, 2);
	img_w32(&img, 20, 0);
	img_w32(&img, 24, 0xdeadbeef);          /* an XSDT address that is not memory */
	img_fix_all(&img);
	a = scan();
	assert_int_equal(a->revision, 2);
	assert_non_null(a->fadt);
	assert_int_equal(a->bad_tables, 0);
}

/* An RSDT entry pointing outside memory, and one at a table of no interest that is broken. */
static void test_entries_outside_memory_and_unknown_tables(void **state)
{
	const struct acpi_info *a;

	(void)state;
	img_w32(&img, IMG_RSDT + 4, 36 + 4 * 5);
	img_w32(&img, IMG_RSDT + 36 + 12, 0xfffffffcu);
	img_w32(&img, IMG_RSDT + 36 + 16, IMG_BASE + IMG_SSDT);
	img_sdt(&img, IMG_SSDT, "SSDT", 40);
	img_fix_all(&img);
	img.b[IMG_SSDT + 39] ^= 1;
	a = scan();
	assert_non_null(a->fadt);
	assert_non_null(a->hpet);
	assert_int_equal(a->bad_tables, 1);     /* the SSDT; the address outside is not a table */
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

/* A loader's copy of the RSDP (a Multiboot2 tag), len bytes of it, with the BIOS area's
 * own RSDP there or not. */
static const struct acpi_info *from_loader(const uint8_t *copy, uint32_t len, bool bios)
{
	if (!bios)
		img.b[0] = 'X';
	physmem_set(IMG_BASE, img.b, sizeof(img.b));
	acpi_find_rsdp();
	acpi_init(copy, len, "the loader's tag");
	return acpi_info();
}

/* Under UEFI the BIOS area holds no RSDP: the loader's copy is the only way to the tables. */
static void test_loader_rsdp_is_enough(void **state)
{
	uint8_t copy[RSDP_COPY];
	const struct acpi_info *a;

	(void)state;
	memcpy(copy, img.b, 20);
	a = from_loader(copy, 20, false);
	assert_true(a->found);
	assert_string_equal(a->rsdp_source, "the loader's tag");
	assert_string_equal(a->loader_why, "");
	assert_non_null(a->fadt);
	assert_non_null(a->madt);
	assert_non_null(a->hpet);
	assert_true(a->s5_found);
}

/* An ACPI 2.0 copy leads to the XSDT, which this image alone has (its RSDT address is 0). */
static void test_loader_rsdp_v2_reaches_the_xsdt(void **state)
{
	const uint32_t xsdt = 0x700, tables[] = { IMG_FADT, IMG_MADT, IMG_HPET };
	uint8_t copy[RSDP_COPY] = { 0 };
	const struct acpi_info *a;
	uint8_t sum = 0;

	(void)state;
	img_sdt(&img, xsdt, "XSDT", 36 + 8 * 3);
	for (unsigned i = 0; i < 3; i++)
		img_w32(&img, xsdt + 36 + 8 * i, IMG_BASE + tables[i]);
	img_fix(&img, xsdt);
	memcpy(copy, "RSD PTR ", 8);
	copy[15] = 2;
	copy[20] = 36;
	memcpy(&copy[24], &(uint32_t){ IMG_BASE + xsdt }, 4);
	for (unsigned i = 0; i < 20; i++)
		sum += copy[i];
	copy[8] = (uint8_t)-sum;
	sum = 0;
	for (unsigned i = 0; i < 36; i++)
		sum += copy[i];
	copy[32] = (uint8_t)-sum;
	a = from_loader(copy, 36, false);
	assert_int_equal(a->revision, 2);
	assert_non_null(a->fadt);
	assert_non_null(a->madt);
	assert_non_null(a->hpet);
	/* the same copy cut to its 1.0 part has only the RSDT, at 0: nothing */
	a = from_loader(copy, 20, false);
	assert_true(a->found);
	assert_null(a->fadt);
	assert_string_equal(a->why, "the RSDT/XSDT is missing, malformed or fails its checksum");
}

/* A broken copy is set aside, saying so, for the BIOS area's RSDP; with none there either,
 * the report says both. */
static void test_broken_loader_rsdp_falls_back(void **state)
{
	uint8_t copy[RSDP_COPY];
	const struct acpi_info *a;

	(void)state;
	memcpy(copy, img.b, 20);
	copy[9] ^= 1;
	a = from_loader(copy, 20, true);
	assert_true(a->found);
	assert_string_equal(a->rsdp_source, "the BIOS area");
	assert_string_equal(a->loader_why, "the loader's RSDP fails its signature or checksum");
	assert_non_null(a->fadt);
	memcpy(copy, img.b, 20);
	a = from_loader(copy, 19, true);        /* too short to be one */
	assert_string_equal(a->rsdp_source, "the BIOS area");
	assert_string_not_equal(a->loader_why, "");
	copy[9] ^= 1;
	a = from_loader(copy, 20, false);
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
