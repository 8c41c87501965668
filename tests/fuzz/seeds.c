/*
 * Writes the fuzz targets' seed inputs into the directory named by argv[1]: the QEMU-like
 * ACPI image (tests/unit/acpi_image.h), its MADT alone, a GRUB-like multiboot information
 * block, a GRUB-like multiboot2 one (tests/unit/mb2_image.h), and command lines from
 * docs/cmdline.md.  The Makefile runs it before `make fuzz`.
 */
#include <stdio.h>
#include <string.h>

#include "tests/unit/acpi_image.h"
#include "tests/unit/mb2_image.h"

static int put(const char *dir, const char *name, const void *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "wb")) || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const char *lines[] = {
		"suite=devices timer=pit",
		"timer=rtc irq=ioapic sponge=run duration=12 tasks=a:2,b:1",
		"timer=lapic hz=1000 sampling=steal-aware fault=none",
		"timer=hpet hz=250 suite=accounting",
	};
	struct acpi_image img;
	struct mb2_image mb2;
	uint8_t mb[0x300] = { 0 };
	char name[32];
	int bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	img_build(&img);
	bad |= put(argv[1], "acpi-qemu-like", img.b, sizeof(img.b));
	bad |= put(argv[1], "madt-qemu-like", &img.b[IMG_MADT], img_r32(&img, IMG_MADT + 4));
	/* multiboot: flags mem|cmdline|mmap|loader, the strings and a two-entry map after it,
	 * addresses as fuzz_multiboot.c's MB_BASE (0x9000) puts them */
	{
		const uint32_t base = 0x9000, fl = 1u << 0 | 1u << 2 | 1u << 6 | 1u << 9;
		const uint32_t words[][2] = { { 0, fl }, { 4, 639 }, { 8, 130048 },
					      { 16, base + 0x100 }, { 44, 48 },
					      { 48, base + 0x200 }, { 64, base + 0x180 } };

		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			memcpy(&mb[words[i][0]], &words[i][1], 4);
		strcpy((char *)&mb[0x100], "suite=devices");
		strcpy((char *)&mb[0x180], "GRUB 2.06");
		for (uint32_t e = 0; e < 2; e++) {
			const uint32_t size = 20, type = 1;
			const uint64_t addr = e ? 0x100000 : 0, len = e ? 0x7ee0000 : 0x9fc00;

			memcpy(&mb[0x200 + 24 * e], &size, 4);
			memcpy(&mb[0x204 + 24 * e], &addr, 8);
			memcpy(&mb[0x20c + 24 * e], &len, 8);
			memcpy(&mb[0x214 + 24 * e], &type, 4);
		}
		bad |= put(argv[1], "multiboot-grub-like", mb, sizeof(mb));
	}
	mb2_build(&mb2);
	bad |= put(argv[1], "multiboot2-grub-like", mb2.b, mb2.len);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(name, sizeof(name), "cmdline-%zu", i);
		bad |= put(argv[1], name, lines[i], strlen(lines[i]));
	}
	return bad;
}
