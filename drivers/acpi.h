#ifndef TICKGUEST_ACPI_H
#define TICKGUEST_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The shortest table of each kind whose fields tickguest reads: the header, the local APIC
 * address and flags (ACPI 6.5, 5.2.12); through the base address, HPET number, minimum tick
 * and page protection (IA-PC HPET 1.0a, 3.2.4). */
#define ACPI_MADT_MIN_LEN       44
#define ACPI_HPET_MIN_LEN       56

/* What tickguest takes from the ACPI tables (ACPI 6.5 chapter 5). */
struct acpi_info {
	bool found;                     /* an RSDP with a valid checksum */
	uint32_t rsdp_addr;             /* where it is (a loader's: where its copy is) */
	const char *rsdp_source;        /* "the EBDA", "the BIOS area", or the loader's tag */
	const char *loader_why;         /* why a loader's RSDP was not used, or "" */
	uint8_t revision;               /* RSDP revision: 0 = ACPI 1.0 (RSDT), >= 2 (XSDT) */
	const void *fadt, *madt, *hpet, *dsdt;
	unsigned bad_tables;            /* tables skipped: bad checksum, length or address */
	/* FADT fields */
	uint16_t pm1a_cnt, pm1b_cnt;    /* PM1 control blocks (I/O ports), 0 if absent */
	uint16_t pm_tmr;                /* PM timer block, 0 if absent */
	bool pm_tmr_32bit;              /* FADT flag TMR_VAL_EXT */
	uint16_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t century;                /* CMOS index of the century register, 0 if none */
	/* \_S5 from the DSDT: the sleep type values that mean "soft off" */
	bool s5_found;
	uint8_t s5_slp_typ_a, s5_slp_typ_b;
	const char *why;                /* why something is missing, for the report */
};

/* Look for the RSDP in the EBDA and the BIOS area.  Reads the BIOS data area in page 0, so
 * call it before paging_init(). */
void acpi_find_rsdp(void);
/* Find and check the tables, from the loader's copy of the RSDP (loader_len bytes of it;
 * loader_source says which tag) when there is one and it is sound, else from what
 * acpi_find_rsdp() found.  loader_rsdp may be NULL. */
void acpi_init(const void *loader_rsdp, uint32_t loader_len, const char *loader_source);
const struct acpi_info *acpi_info(void);

/* Pure helpers, tested on the host. */
bool acpi_checksum_ok(const void *p, size_t len);
/* Find "Name(_S5_, Package() { a, b, ... })" in AML and return its first two constants. */
bool acpi_parse_s5(const uint8_t *aml, size_t len, uint8_t *slp_typ_a, uint8_t *slp_typ_b);

/* Enter S5 (soft off).  Returns only if that is impossible or did not take. */
void acpi_poweroff(void);

#endif
