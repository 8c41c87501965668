/*
 * ACPI table discovery, and soft-off through the PM1 control registers.
 *
 * Structures and field offsets follow the ACPI specification (6.5, chapter 5).  The RSDP is
 * taken from the loader when it hands one over (a Multiboot2 tag: the only way under UEFI,
 * whose firmware need not leave one in the BIOS area), else found by scanning the first KiB
 * of the EBDA and then the BIOS area 0xe0000-0xfffff on 16-byte boundaries (5.2.5.1).  Every
 * table's checksum is verified; a table that fails is ignored and counted, so a broken
 * firmware shows up in the report instead of as garbage values later.  Every length a table
 * declares is held to its structure's own minimum (a length of 0 would pass the checksum: a
 * sum over no bytes) and to ACPI_TABLE_MAX before anything is read by it, and all memory is
 * reached through phys_map(), which refuses what is not there; the host fuzz target
 * (tests/fuzz/fuzz_acpi.c) runs acpi_find_rsdp() and acpi_init() over arbitrary bytes.
 *
 * Soft-off needs the SLP_TYP value of the \_S5 object, which lives in the DSDT as AML.  A full
 * AML interpreter is out of scope; \_S5 is nearly always a plain Name with a Package of
 * constants, which acpi_parse_s5() decodes (20.2.5.1 PackageOp, 20.2.4 PkgLength).
 */
#include <stddef.h>
#include "drivers/acpi.h"
#include "kernel/paging.h"
#include "kernel/x86.h"

#define BDA_EBDA_SEGMENT        0x40e   /* real-mode segment of the EBDA, in the BIOS data area */
#define EBDA_SCAN_LEN           1024
#define BIOS_AREA_START         0xe0000
#define BIOS_AREA_END           0x100000

#define RSDP_V1_LEN             20
#define RSDP_V2_LEN             36      /* revision 2's Length field; a later one may be longer */
#define RSDP_MAX_LEN            4096
#define SDT_HEADER_LEN          36
#define FADT_V1_LEN             116     /* ACPI 1.0's FADT: every field read below unguarded */
/*
 * No table tickguest reads is near this: QEMU's DSDT is about 8 KiB, large servers' a few
 * hundred KiB.  It bounds the checksum loop over a corrupt length to a few milliseconds.
 */
#define ACPI_TABLE_MAX          (4u << 20)

/* FADT field offsets */
#define FADT_DSDT               40
#define FADT_SMI_CMD            48
#define FADT_ACPI_ENABLE        52
#define FADT_PM1A_CNT_BLK       64
#define FADT_PM1B_CNT_BLK       68
#define FADT_PM_TMR_BLK         76
#define FADT_PM_TMR_LEN         91
#define FADT_CENTURY            108
#define FADT_FLAGS              112
#define FADT_X_DSDT             140
#define FADT_FLAG_TMR_VAL_EXT   (1u << 8)

/* PM1 control register bits (4.8.3.2.1) */
#define PM1_CNT_SCI_EN          (1u << 0)
#define PM1_CNT_SLP_TYP_SHIFT   10
#define PM1_CNT_SLP_EN          (1u << 13)

/* AML opcodes used by \_S5 */
#define AML_ZERO_OP             0x00
#define AML_ONE_OP              0x01
#define AML_NAME_OP             0x08
#define AML_BYTE_PREFIX         0x0a
#define AML_PACKAGE_OP          0x12

static struct acpi_info info = { .rsdp_source = "", .loader_why = "",
				  .why = "acpi_init() was not called" };
static uint32_t bios_rsdp;              /* what acpi_find_rsdp() found, or 0 */
static const char *bios_rsdp_source = "";

static uint8_t rd8(const void *base, unsigned off) { return ((const uint8_t *)base)[off]; }
static uint16_t rd16(const void *base, unsigned off) { return rd8(base, off) | rd8(base, off + 1) << 8; }
static uint32_t rd32(const void *base, unsigned off) { return rd16(base, off) | (uint32_t)rd16(base, off + 2) << 16; }
static uint64_t rd64(const void *base, unsigned off) { return rd32(base, off) | (uint64_t)rd32(base, off + 4) << 32; }

/* The bytes of a valid ACPI structure sum to zero modulo 256. */
bool acpi_checksum_ok(const void *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += rd8(p, i);
	return sum == 0;
}

static bool sig_is(const void *p, const char *sig, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rd8(p, i) != (uint8_t)sig[i])
			return false;
	return true;
}

/* The physical address of the first valid RSDP structure in [start, end), or 0. */
static uint32_t rsdp_scan(uint32_t start, uint32_t end)
{
	for (uint32_t a = start; a + RSDP_V1_LEN <= end; a += 16) {
		const void *p = phys_map(a, RSDP_V1_LEN);

		if (p && sig_is(p, "RSD PTR ", 8) && acpi_checksum_ok(p, RSDP_V1_LEN))
			return a;
	}
	return 0;
}

/*
 * A table we can use: below 4 GiB (we run 32-bit, identity mapped), its length at least its
 * structure's (min_len) and at most ACPI_TABLE_MAX, all of it memory, and checksummed.
 */
static const void *table_at(uint64_t addr, uint32_t min_len)
{
	const void *t = phys_map(addr, SDT_HEADER_LEN);
	uint32_t len;

	if (addr == 0)
		return NULL;
	if (!t) {
		info.bad_tables++;
		return NULL;
	}
	len = rd32(t, 4);
	if (len < min_len || len > ACPI_TABLE_MAX || !phys_map(addr, len) ||
	    !acpi_checksum_ok(t, len)) {
		info.bad_tables++;
		return NULL;
	}
	return t;
}

bool acpi_parse_s5(const uint8_t *aml, size_t len, uint8_t *slp_typ_a, uint8_t *slp_typ_b)
{
	for (size_t i = 1; i + 4 < len; i++) {
		size_t p;
		uint8_t vals[2];

		if (!sig_is(aml + i, "_S5_", 4))
			continue;
		/* NameOp directly before the name, or before a root prefix '\' */
		if (aml[i - 1] != AML_NAME_OP && !(i >= 2 && aml[i - 1] == '\\' && aml[i - 2] == AML_NAME_OP))
			continue;
		p = i + 4;
		if (p >= len || aml[p] != AML_PACKAGE_OP)
			continue;
		p++;
		if (p >= len)
			return false;
		p += 1 + (aml[p] >> 6);         /* PkgLength: bits 7:6 count its extra bytes */
		p++;                            /* NumElements */
		for (int k = 0; k < 2; k++) {
			if (p >= len)
				return false;
			switch (aml[p]) {
			case AML_ZERO_OP:     vals[k] = 0; p += 1; break;
			case AML_ONE_OP:      vals[k] = 1; p += 1; break;
			case AML_BYTE_PREFIX:
				if (p + 1 >= len)
					return false;
				vals[k] = aml[p + 1];
				p += 2;
				break;
			default:
				return false;   /* not a constant: would need an interpreter */
			}
		}
		*slp_typ_a = vals[0];
		*slp_typ_b = vals[1];
		return true;
	}
	return false;
}

static void fadt_parse(const void *f)
{
	uint32_t len = rd32(f, 4);
	uint64_t dsdt = rd32(f, FADT_DSDT);

	info.smi_cmd = (uint16_t)rd32(f, FADT_SMI_CMD);
	info.acpi_enable = rd8(f, FADT_ACPI_ENABLE);
	info.pm1a_cnt = (uint16_t)rd32(f, FADT_PM1A_CNT_BLK);
	info.pm1b_cnt = (uint16_t)rd32(f, FADT_PM1B_CNT_BLK);
	if (len > FADT_PM_TMR_LEN && rd8(f, FADT_PM_TMR_LEN) == 4)
		info.pm_tmr = (uint16_t)rd32(f, FADT_PM_TMR_BLK);
	if (len > FADT_CENTURY)
		info.century = rd8(f, FADT_CENTURY);
	if (len >= FADT_FLAGS + 4)
		info.pm_tmr_32bit = rd32(f, FADT_FLAGS) & FADT_FLAG_TMR_VAL_EXT;
	if (len >= FADT_X_DSDT + 8 && rd64(f, FADT_X_DSDT))
		dsdt = rd64(f, FADT_X_DSDT);
	info.dsdt = table_at(dsdt, SDT_HEADER_LEN);
	if (info.dsdt)
		info.s5_found = acpi_parse_s5((const uint8_t *)info.dsdt + SDT_HEADER_LEN,
					      rd32(info.dsdt, 4) - SDT_HEADER_LEN,
					      &info.s5_slp_typ_a, &info.s5_slp_typ_b);
}

void acpi_find_rsdp(void)
{
	const volatile uint16_t *bda = phys_map(BDA_EBDA_SEGMENT, 2);
	uint32_t ebda = bda ? (uint32_t)*bda << 4 : 0;

	bios_rsdp = 0;
	if (ebda >= 0x80000 && ebda < 0xa0000) {        /* the EBDA sits just below 640 KiB */
		bios_rsdp = rsdp_scan(ebda, ebda + EBDA_SCAN_LEN);
		bios_rsdp_source = "the EBDA";
	}
	if (!bios_rsdp) {
		bios_rsdp = rsdp_scan(BIOS_AREA_START, BIOS_AREA_END);
		bios_rsdp_source = "the BIOS area";
	}
}

/* The RSDT or XSDT of the RSDP at rsdp, of which avail bytes can be read (its v1 part is
 * checked already): ACPI 2.0+ has a 64-bit XSDT, with a fall back to the RSDT when it is
 * absent or broken. */
static const void *root_table(const uint8_t *rsdp, uint32_t avail, unsigned *entry_size)
{
	const void *sdt = NULL;
	uint32_t len;

	*entry_size = 8;
	if (rd8(rsdp, 15) >= 2 && avail >= RSDP_V2_LEN && (len = rd32(rsdp, 20)) >= RSDP_V2_LEN &&
	    len <= RSDP_MAX_LEN && len <= avail && acpi_checksum_ok(rsdp, len))
		sdt = table_at(rd64(rsdp, 24), SDT_HEADER_LEN);
	if (!sdt) {
		sdt = table_at(rd32(rsdp, 16), SDT_HEADER_LEN);
		*entry_size = 4;
	}
	return sdt;
}

static void tables(const void *sdt, unsigned entry_size)
{
	for (uint32_t off = SDT_HEADER_LEN; off + entry_size <= rd32(sdt, 4); off += entry_size) {
		uint64_t addr = entry_size == 8 ? rd64(sdt, off) : rd32(sdt, off);
		const void *t = phys_map(addr, 4);

		/* the signature first: each kind of table has its own minimum length */
		if (!t)
			continue;
		if (sig_is(t, "FACP", 4) && !info.fadt)
			info.fadt = table_at(addr, FADT_V1_LEN);
		else if (sig_is(t, "APIC", 4) && !info.madt)
			info.madt = table_at(addr, ACPI_MADT_MIN_LEN);
		else if (sig_is(t, "HPET", 4) && !info.hpet)
			info.hpet = table_at(addr, ACPI_HPET_MIN_LEN);
		else
			(void)table_at(addr, SDT_HEADER_LEN);   /* counted if broken */
	}
}

void acpi_init(const void *loader_rsdp, uint32_t loader_len, const char *loader_source)
{
	const uint8_t *rsdp = loader_rsdp;
	uint32_t avail = loader_len;
	const void *sdt;
	unsigned entry_size;

	info = (struct acpi_info){ 0 };
	info.loader_why = "";
	/* A loader's copy is a structure like any other: its signature and checksum first. */
	if (rsdp && (avail < RSDP_V1_LEN || !sig_is(rsdp, "RSD PTR ", 8) ||
		     !acpi_checksum_ok(rsdp, RSDP_V1_LEN))) {
		info.loader_why = "the loader's RSDP fails its signature or checksum";
		rsdp = NULL;
	}
	if (rsdp) {
		info.rsdp_addr = (uint32_t)(uintptr_t)rsdp;
		info.rsdp_source = loader_source ? loader_source : "the loader";
	} else if (bios_rsdp && (rsdp = phys_map(bios_rsdp, RSDP_V1_LEN))) {
		/* as much as its Length says, where that is memory; root_table() judges the rest */
		uint32_t len = phys_map(bios_rsdp, RSDP_V2_LEN) ? rd32(rsdp, 20) : 0;

		avail = len >= RSDP_V2_LEN && len <= RSDP_MAX_LEN && phys_map(bios_rsdp, len) ?
			len : RSDP_V1_LEN;
		info.rsdp_addr = bios_rsdp;
		info.rsdp_source = bios_rsdp_source;
	} else {
		info.why = loader_rsdp ? "the loader's RSDP is broken and there is none in the EBDA "
			   "or the BIOS area" : "no RSDP from the loader, in the EBDA or the BIOS area";
		return;
	}
	info.found = true;
	info.revision = rd8(rsdp, 15);
	if (!(sdt = root_table(rsdp, avail, &entry_size))) {
		info.why = "the RSDT/XSDT is missing, malformed or fails its checksum";
		return;
	}
	tables(sdt, entry_size);
	if (info.fadt)
		fadt_parse(info.fadt);
	info.why = !info.fadt ? "no valid FADT" : !info.dsdt ? "no valid DSDT" :
		   !info.s5_found ? "no \\_S5 package of constants in the DSDT" : "";
}

const struct acpi_info *acpi_info(void)
{
	return &info;
}

void acpi_poweroff(void)
{
	if (!info.s5_found || !info.pm1a_cnt)
		return;
	/* In legacy mode SLP_EN is ignored: ask the firmware to hand ACPI over first (4.8.2.1). */
	if (!(inw(info.pm1a_cnt) & PM1_CNT_SCI_EN) && info.smi_cmd && info.acpi_enable) {
		outb(info.smi_cmd, info.acpi_enable);
		for (int i = 0; i < 1000000 && !(inw(info.pm1a_cnt) & PM1_CNT_SCI_EN); i++)
			io_delay();
	}
	outw(info.pm1a_cnt, (uint16_t)(info.s5_slp_typ_a << PM1_CNT_SLP_TYP_SHIFT | PM1_CNT_SLP_EN));
	if (info.pm1b_cnt)
		outw(info.pm1b_cnt, (uint16_t)(info.s5_slp_typ_b << PM1_CNT_SLP_TYP_SHIFT | PM1_CNT_SLP_EN));
}
