# tickguest: build the kernel, boot it, test it.
#
#   make            build build/tickguest.elf
#   make run        the default run: a descheduled VM, with and without the sponge, in one table
#   make boot       boot it under QEMU and print the report   (CMDLINE='hz=250 ...', QEMUOPTS=...;
#                   `make run` with either set does this)
#   make iso        build build/tickguest.iso (GRUB, serial console; boots on BIOS and UEFI)
#   make run-iso    boot the ISO through GRUB                  (FIRMWARE=uefi: on OVMF)
#   make test       host unit tests, then the QEMU conformance tests (a representative subset)
#   make conformance  the whole conformance matrix, on QEMU= with QEMUOPTS= (slow)
#   make bench      figures, no verdict: the rate error of every timer check; the share of stolen
#                   time each accounting method charges, per way of descheduling, beside Linux's
#
# CROSS selects the toolchain prefix: Debian's i686-linux-gnu- by default, i686-elf- works too.

CROSS    ?= i686-linux-gnu-
CC       := $(CROSS)gcc
NASM     ?= nasm
HOSTCC   ?= gcc
PYTHON   ?= /usr/bin/python3
QEMU     ?= qemu-system-x86_64
CMDLINE  ?=
QEMUOPTS ?=
# The accelerator and machine type of `make run`: ACCEL=kvm asks for KVM (refused with the
# reason where /dev/kvm cannot run the guest), MACHINE=q35 another board.
ACCEL    ?= tcg
MACHINE  ?= pc
# The firmware of `make run-iso`: bios (QEMU's SeaBIOS) or uefi (OVMF).
FIRMWARE ?= bios
TIMEOUT  ?=

BUILD := build

# i486: the instruction set of every CPU it may boot on, so that one lacking what tickguest
# needs is told so (kernel/cpu.h) rather than faulting on a cmov before a line is printed.
CFLAGS := -std=c11 -m32 -march=i486 -mtune=generic -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	  -fno-omit-frame-pointer -fno-asynchronous-unwind-tables -mgeneral-regs-only \
	  -O2 -g -Wall -Wextra -Werror -I.
LDFLAGS := -m32 -nostdlib -no-pie -static -Wl,--build-id=none -Wl,-z,noexecstack -T linker.ld

ASM_SRCS := boot/entry.asm boot/stubs.asm boot/swtch.asm
C_SRCS   := $(wildcard kernel/*.c lib/*.c drivers/*.c sched/*.c acct/*.c checks/*.c)
OBJS     := $(ASM_SRCS:%.asm=$(BUILD)/%.o) $(C_SRCS:%.c=$(BUILD)/%.o)

KERNEL := $(BUILD)/tickguest.elf
ISO    := $(BUILD)/tickguest.iso

.PHONY: FORCE all deps iso run boot run-iso test unit fuzz fuzz-build fuzz-smoke conformance bench clean
all: $(KERNEL)

# Install missing Debian packages; quick when everything is there.
deps:
	@scripts/install-deps

# The objects depend on the flags they were built with: a changed CFLAGS rebuilds them all.
$(BUILD)/cflags: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CC) $(CFLAGS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS)' > $@

$(BUILD)/%.o: %.c $(BUILD)/cflags | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.o: %.asm | deps
	@mkdir -p $(dir $@)
	$(NASM) -f elf32 -g -o $@ $<

$(KERNEL): $(OBJS) linker.ld
	$(CC) $(LDFLAGS) -o $@ $(OBJS) -lgcc
	@scripts/check-multiboot $@

iso: $(ISO)
$(ISO): $(KERNEL) iso/boot/grub/grub.cfg | deps
	@rm -rf $(BUILD)/isoroot && mkdir -p $(BUILD)/isoroot/boot/grub
	cp iso/boot/grub/grub.cfg $(BUILD)/isoroot/boot/grub/
	cp $(KERNEL) $(BUILD)/isoroot/boot/tickguest.elf
	grub-mkrescue -o $@ $(BUILD)/isoroot 2>$(BUILD)/grub-mkrescue.log || \
		{ cat $(BUILD)/grub-mkrescue.log; exit 1; }

# With no CMDLINE= and no QEMUOPTS=, `make run` is the default run (tickguest/demo.py): a
# descheduled VM with and without the sponge, in one table.  With either, it is `make boot`.
run: $(KERNEL)
ifeq ($(strip $(CMDLINE)$(QEMUOPTS)),)
	$(PYTHON) scripts/tickguest demo --kernel $(KERNEL) --accel '$(ACCEL)'
else
	@$(MAKE) --no-print-directory boot
endif

boot: $(KERNEL)
	$(PYTHON) scripts/tickguest run --kernel $(KERNEL) --append '$(CMDLINE)' \
		--accel '$(ACCEL)' --machine '$(MACHINE)' \
		$(if $(TIMEOUT),--timeout $(TIMEOUT)) -- $(QEMUOPTS)

run-iso: $(ISO)
	$(PYTHON) scripts/tickguest run --iso $(ISO) --machine '$(MACHINE)' \
		$(if $(filter uefi,$(FIRMWARE)),--uefi) $(if $(TIMEOUT),--timeout $(TIMEOUT)) -- $(QEMUOPTS)

# Host unit tests of the pure code (cmocka).  Each test links the sources it tests.
UNIT_TESTS := config config_values config_task config_table cmdline_doc format lineq stats interval steal figures tick_account tickstat tickclock acpi acpi_tables multiboot multiboot2 refclock rtc_decode madt calib tsc_sources
unit_srcs_config   := tests/unit/config_expect.c kernel/config.c kernel/config_keys.c \
		      kernel/config_values.c kernel/config_task.c lib/format.c lib/string.c
unit_srcs_config_values := $(unit_srcs_config)
unit_srcs_config_task := $(unit_srcs_config)
unit_srcs_config_table := $(unit_srcs_config)
unit_srcs_cmdline_doc := $(filter kernel/% lib/%,$(unit_srcs_config))
unit_srcs_format   := lib/format.c lib/string.c
unit_srcs_lineq    := lib/lineq.c lib/format.c lib/string.c
unit_srcs_stats    := acct/stats.c
unit_srcs_interval := acct/stats.c
unit_srcs_steal    := acct/steal.c
unit_srcs_figures  := acct/figures.c acct/stats.c
unit_srcs_tick_account := acct/tick_account.c acct/steal.c acct/stats.c lib/tickclock.c
unit_srcs_tickstat := lib/tickstat.c
unit_srcs_tickclock := lib/tickclock.c
unit_srcs_acpi     := drivers/acpi.c tests/unit/physmem.c
unit_srcs_acpi_tables := drivers/acpi.c tests/unit/physmem.c
unit_srcs_multiboot := kernel/multiboot.c kernel/multiboot2.c tests/unit/physmem.c
unit_srcs_multiboot2 := kernel/multiboot.c kernel/multiboot2.c tests/unit/physmem.c
unit_srcs_calib    := lib/calib.c
unit_srcs_refclock := lib/refclock.c
unit_srcs_rtc_decode := lib/rtc_decode.c
unit_srcs_madt     := drivers/madt.c drivers/acpi.c tests/unit/physmem.c
unit_srcs_tsc_sources := lib/tsc_sources.c lib/calib.c lib/format.c lib/string.c
HOST_CFLAGS := -std=c11 -g -O1 -Wall -Wextra -Werror -I. -fsanitize=address,undefined

# The sources of each test are named in a variable, so expand them per target.  Every header
# is a prerequisite too: a host test is rebuilt when a table or a struct it compiles in changes.
HOST_HEADERS := $(wildcard kernel/*.h lib/*.h drivers/*.h sched/*.h acct/*.h checks/*.h tests/unit/*.h)
.SECONDEXPANSION:
$(BUILD)/host/test_%: tests/unit/test_%.c $$(unit_srcs_$$*) $(HOST_HEADERS) | deps
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOST_CFLAGS) -o $@ $(filter %.c,$^) -lcmocka

unit: $(UNIT_TESTS:%=$(BUILD)/host/test_%)
	@set -e; for t in $^; do echo "== $$t"; $$t; done

# Fuzz targets (libFuzzer, with AddressSanitizer and UBSan) for every parser of input from
# outside: the ACPI tables, the MADT, the multiboot and multiboot2 information, the command
# line.  `make test` runs each for FUZZ_SMOKE_SECONDS; `make fuzz` for FUZZ_SECONDS, keeping
# the corpus grown in build/fuzz/corpus-NAME.  A crash leaves its input as build/fuzz/crash-NAME-*.
FUZZ_TARGETS := acpi madt multiboot multiboot2 cmdline
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 10
fuzz_srcs_acpi := drivers/acpi.c drivers/madt.c tests/unit/physmem.c
fuzz_srcs_madt := drivers/madt.c drivers/acpi.c tests/unit/physmem.c
fuzz_srcs_multiboot := kernel/multiboot.c kernel/multiboot2.c tests/unit/physmem.c
fuzz_srcs_multiboot2 := kernel/multiboot.c kernel/multiboot2.c tests/unit/physmem.c
fuzz_srcs_cmdline := $(filter-out tests/%,$(unit_srcs_config))
FUZZ_CFLAGS := -std=c11 -g -O1 -Wall -Wextra -Werror -I. \
	       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(fuzz_srcs_$$*) $(HOST_HEADERS) $(wildcard tests/fuzz/*.h) | deps
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)

$(BUILD)/fuzz/seeds/.made: tests/fuzz/seeds.c tests/unit/acpi_image.h | deps
	@mkdir -p $(dir $@)
	$(HOSTCC) -std=c11 -Wall -Wextra -Werror -I. -o $(BUILD)/fuzz/seeds.bin tests/fuzz/seeds.c
	$(BUILD)/fuzz/seeds.bin $(dir $@) && touch $@

fuzz-build: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%) $(BUILD)/fuzz/seeds/.made

fuzz: fuzz-build
	tests/fuzz/run $(FUZZ_SECONDS) $(BUILD) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	tests/fuzz/run $(FUZZ_SMOKE_SECONDS) $(BUILD) $(FUZZ_TARGETS)

# The catalogue's runs (tests/suite.cfg, by `tickguest suite`): `make test` is its group test
# (pytest's conformance tests but the cases marked `full`, the host side's tests, a few guest
# runs), `make conformance` its group conformance (everything), with QEMU= and QEMUOPTS=
# reaching every boot.  Each run's log goes to build/logs/; the JUnit XML, TAP and HTML page
# of the whole to build/<target>.{xml,tap,html}.
SUITE = $(PYTHON) scripts/tickguest suite --kernel $(KERNEL) --iso $(ISO) --logs $(BUILD)/logs \
	--junit $(BUILD)/$@.xml --tap $(BUILD)/$@.tap --html $(BUILD)/$@.html

# Runs at a time (JOBS=1 for one after another).  Much of a run is the guest's own real-time
# run, so two at once take about a third less time on two cores; each run's checks already
# hold on a host that takes the CPU (the other run is such a host), and judge what it took.
JOBS ?= 2

conformance: $(KERNEL) $(ISO)
	QEMU='$(QEMU)' TICKGUEST_QEMU_ARGS='$(QEMUOPTS)' $(SUITE) -g conformance -j $(JOBS)

test: unit fuzz-smoke $(KERNEL) $(ISO)
	$(SUITE) -g test -j $(JOBS)

# Figures, not verdicts: the measured rate of every timer check on a few machine types, then
# the share of the stolen time each accounting method charged to the tasks under each way the
# host can take the CPU, with Debian's Linux beside it (scripts/bench-timekeeping).
bench: $(KERNEL)
	$(PYTHON) scripts/tickguest bench devices
	$(PYTHON) scripts/tickguest bench timekeeping

clean:
	rm -rf $(BUILD)

-include $(OBJS:.o=.d)
