/*
 * Host tests of drivers/madt.c on hand-built tables.  The first is laid out the way QEMU 7.2
 * builds it for -M pc: one CPU, one IOAPIC at 0xfec00000, IRQ 0 on GSI 2, and IRQs 5, 9, 10,
 * 11 level-triggered active high (flags 0x000d) for PCI.  Build: make build/host/test_madt
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "drivers/acpi.h"
#include "drivers/madt.h"

#define LE16(v) (uint8_t)(v), (uint8_t)((v) >> 8)
#define LE32(v) LE16((v) & 0xffff), LE16((uint32_t)(v) >> 16)
#define LE64(v) LE32((v) & 0xffffffffu), LE32((uint64_t)(v) >> 32)

#define HEADER(len) 'A', 'P', 'I', 'C', LE32(len), 1, 0, 'B', 'O', 'C', 'H', 'S', ' ', \
	'B', 'X', 'P', 'C', 'A', 'P', 'I', 'C', LE32(1), 'B', 'X', 'P', 'C', LE32(1)
#define LOCAL_APIC(uid, id, flags)      0, 8, uid, id, LE32(flags)
#define IOAPIC(id, addr, gsi)           1, 12, id, 0, LE32(addr), LE32(gsi)
#define ISO(src, gsi, flags)            2, 10, 0, src, LE32(gsi), LE16(flags)
#define LAPIC_NMI(uid, flags, lint)     4, 6, uid, LE16(flags), lint
#define LAPIC_OVERRIDE(addr)            5, 12, 0, 0, LE64(addr)

#define QEMU_PC_LEN (44 + 8 + 12 + 5 * 10 + 6)
static const uint8_t qemu_pc[QEMU_PC_LEN] = {
	HEADER(QEMU_PC_LEN), LE32(0xfee00000), LE32(1),
	LOCAL_APIC(0, 0, 1),
	IOAPIC(0, 0xfec00000, 0),
	ISO(0, 2, 0x0000),
	ISO(5, 5, 0x000d), ISO(9, 9, 0x000d), ISO(10, 10, 0x000d), ISO(11, 11, 0x000d),
	LAPIC_NMI(0xff, 0, 1),
};

/* A table that must parse: what it gives, for the test to look at. */
static struct madt_info parsed(const uint8_t *t, size_t len)
{
	struct madt_info m;

	assert_true(madt_parse(t, len, &m));
	return m;
}

/*
 * IOAPIC i, or override i, every field of it, against a line in words ("id 0 at 0xfec00000,
 * GSIs from 0"; "bus 0 IRQ 0 on GSI 2, flags 0x0000"), as expect_routes() does for a route.
 */
static void expect_ioapic(const struct madt_info *m, unsigned i, const char *want)
{
	char got[64];

	snprintf(got, sizeof(got), "id %u at 0x%08x, GSIs from %u", (unsigned)m->ioapic[i].id,
		 (unsigned)m->ioapic[i].addr, (unsigned)m->ioapic[i].gsi_base);
	assert_string_equal(got, want);
}

static void expect_override(const struct madt_info *m, unsigned i, const char *want)
{
	char got[64];

	snprintf(got, sizeof(got), "bus %u IRQ %u on GSI %u, flags 0x%04x",
		 (unsigned)m->override[i].bus, (unsigned)m->override[i].source,
		 (unsigned)m->override[i].gsi, (unsigned)m->override[i].flags);
	assert_string_equal(got, want);
}

static void test_qemu_pc_table(void **state)
{
	const struct madt_info m = parsed(qemu_pc, sizeof(qemu_pc));

	(void)state;
	assert_true(m.found);
	assert_string_equal(m.why, "");
	assert_int_equal(m.lapic_addr, 0xfee00000);
	assert_false(m.lapic_addr_overridden);
	assert_int_equal(m.flags & MADT_PCAT_COMPAT, MADT_PCAT_COMPAT);
	assert_int_equal(m.ncpus, 1);
	assert_int_equal(m.cpu_apic_id[0], 0);
	assert_int_equal(m.nioapics, 1);
	expect_ioapic(&m, 0, "id 0 at 0xfec00000, GSIs from 0");
	assert_int_equal(m.noverrides, 5);
	expect_override(&m, 0, "bus 0 IRQ 0 on GSI 2, flags 0x0000");
	expect_override(&m, 4, "bus 0 IRQ 11 on GSI 11, flags 0x000d");
	assert_int_equal(m.dropped, 0);
}

/*
 * An ISA IRQ's route, every field of it, against a line in words ("GSI 2, edge, active high,
 * override"): a test reads as the table's meaning, and a failure shows the whole route.
 */
struct route_case {
	unsigned irq;
	const char *want;
};

static void expect_routes(const struct madt_info *m, const struct route_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct madt_route r = madt_isa_route(m, c[i].irq);
		char got[64];

		snprintf(got, sizeof(got), "GSI %u, %s, %s, %s", (unsigned)r.gsi,
			 r.level ? "level" : "edge", r.active_low ? "active low" : "active high",
			 r.overridden ? "override" : "identity");
		if (strcmp(got, c[i].want) != 0)
			fail_msg("IRQ %u: \"%s\", not \"%s\"", c[i].irq, got, c[i].want);
	}
}

static void test_qemu_pc_routes(void **state)
{
	static const struct route_case routes[] = {
		/* The PIT: moved to GSI 2, flags "conforms" = ISA defaults */
		{ 0, "GSI 2, edge, active high, override" },
		/* A PCI line: same GSI, level, active high (01b) */
		{ 9, "GSI 9, level, active high, override" },
		/* The RTC: no override, identity and ISA defaults */
		{ 8, "GSI 8, edge, active high, identity" },
	};
	const struct madt_info m = parsed(qemu_pc, sizeof(qemu_pc));

	(void)state;
	expect_routes(&m, routes, sizeof(routes) / sizeof(routes[0]));
}

/* Active low (11b) and explicit edge (01b); an override for another bus is not ISA's. */
static void test_polarity_trigger_and_bus(void **state)
{
	enum { LEN = 44 + 3 * 10 };
	uint8_t t[LEN] = {
		HEADER(LEN), LE32(0xfee00000), LE32(0),
		ISO(3, 19, 0x0007),     /* edge, active low */
		ISO(4, 20, 0x000f),     /* level, active low */
		ISO(6, 21, 0x0000),
	};
	static const struct route_case routes[] = {
		{ 3, "GSI 19, edge, active low, override" },
		{ 4, "GSI 20, level, active low, override" },
		{ 6, "GSI 6, edge, active high, identity" },
	};
	struct madt_info m;

	(void)state;
	t[44 + 20 + 2] = 1;             /* the third override is on bus 1 */
	m = parsed(t, sizeof(t));
	assert_int_equal(m.flags & MADT_PCAT_COMPAT, 0);
	expect_override(&m, 2, "bus 1 IRQ 6 on GSI 21, flags 0x0000");
	expect_routes(&m, routes, sizeof(routes) / sizeof(routes[0]));
}

/* A type 5 entry replaces the 32-bit address, wherever it sits in the list. */
static void test_lapic_address_override(void **state)
{
	enum { LEN = 44 + 12 + 8 };
	const uint8_t t[LEN] = {
		HEADER(LEN), LE32(0xfee00000), LE32(1),
		LAPIC_OVERRIDE(0x00000000fed00000ull),
		LOCAL_APIC(0, 3, 1),
	};
	const struct madt_info m = parsed(t, sizeof(t));

	(void)state;
	assert_true(m.lapic_addr_overridden);
	assert_int_equal(m.lapic_addr, 0xfed00000);
	assert_int_equal(m.cpu_apic_id[0], 3);
}

/* Disabled processors are not counted; two IOAPICs keep their GSI bases. */
static void test_disabled_cpu_and_two_ioapics(void **state)
{
	enum { LEN = 44 + 2 * 8 + 2 * 12 };
	const uint8_t t[LEN] = {
		HEADER(LEN), LE32(0xfee00000), LE32(1),
		LOCAL_APIC(0, 0, 1), LOCAL_APIC(1, 1, 0),
		IOAPIC(8, 0xfec00000, 0), IOAPIC(9, 0xfec01000, 24),
	};
	const struct madt_info m = parsed(t, sizeof(t));

	(void)state;
	assert_int_equal(m.ncpus, 1);
	assert_int_equal(m.nioapics, 2);
	expect_ioapic(&m, 0, "id 8 at 0xfec00000, GSIs from 0");
	expect_ioapic(&m, 1, "id 9 at 0xfec01000, GSIs from 24");
}

/* More overrides than fit: the extra ones are counted, not written past the array. */
static void test_too_many_overrides(void **state)
{
	enum { N = MADT_MAX_OVERRIDES + 3, LEN = 44 + N * 10 };
	uint8_t t[LEN] = { HEADER(LEN), LE32(0xfee00000), LE32(1) };
	struct madt_info m;

	(void)state;
	for (int i = 0; i < N; i++) {
		const uint8_t e[] = { ISO(i, 100 + i, 0) };

		memcpy(t + 44 + i * 10, e, sizeof(e));
	}
	m = parsed(t, sizeof(t));
	assert_int_equal(m.noverrides, MADT_MAX_OVERRIDES);
	assert_int_equal(m.dropped, 3);
}

/* A zero-length entry would loop for ever; an entry running off the end would read outside. */
static void test_malformed_entries(void **state)
{
	enum { LEN = 44 + 12 + 4 };
	uint8_t t[LEN] = {
		HEADER(LEN), LE32(0xfee00000), LE32(1),
		IOAPIC(0, 0xfec00000, 0),
		2, 0, 0, 0,
	};
	struct madt_info m;

	(void)state;
	m = parsed(t, sizeof(t));
	assert_int_equal(m.nioapics, 1);
	assert_string_not_equal(m.why, "");
	t[44 + 12 + 1] = 10;            /* an override that claims 10 bytes where 4 are left */
	m = parsed(t, sizeof(t));
	assert_int_equal(m.noverrides, 0);
	assert_string_not_equal(m.why, "");
}

static void test_rejects(void **state)
{
	uint8_t t[sizeof(qemu_pc)];
	struct madt_info m;

	(void)state;
	assert_false(madt_parse(NULL, 0, &m));
	assert_false(m.found);
	memcpy(t, qemu_pc, sizeof(t));
	t[0] = 'X';
	assert_false(madt_parse(t, sizeof(t), &m));
	memcpy(t, qemu_pc, sizeof(t));
	t[4] = sizeof(t) + 1;           /* length field past the buffer */
	assert_false(madt_parse(t, sizeof(t), &m));
}

/* Cut short at every length: never a read past the buffer (ASan checks), never an entry
 * that was not wholly inside. */
static void test_truncated(void **state)
{
	struct madt_info m;

	(void)state;
	for (size_t len = 0; len < sizeof(qemu_pc); len++) {
		uint8_t *copy = malloc(len ? len : 1);

		memcpy(copy, qemu_pc, len);
		if (len >= 8) {         /* keep the length field honest, as acpi_init() ensures */
			copy[4] = (uint8_t)len;
			copy[5] = 0;
		}
		if (madt_parse(copy, len, &m))
			assert_true(m.nioapics <= 1 && m.noverrides <= 5);
		else
			assert_true(len < 44);
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_pc_table),
		cmocka_unit_test(test_qemu_pc_routes),
		cmocka_unit_test(test_polarity_trigger_and_bus),
		cmocka_unit_test(test_lapic_address_override),
		cmocka_unit_test(test_disabled_cpu_and_two_ioapics),
		cmocka_unit_test(test_too_many_overrides),
		cmocka_unit_test(test_malformed_entries),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests_name("madt", tests, NULL, NULL);
}
