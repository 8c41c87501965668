/*
 * Leaving the guest.
 *
 * QEMU's isa-debug-exit device (kvm-unit-tests puts it at port 0xf4, 4 bytes wide) ends QEMU
 * with status (value << 1) | 1 when written.  On a platform without it the write goes nowhere
 * and we power off through ACPI (S5) instead, or halt when that is impossible, after saying
 * so: the verdict is already on the serial port.
 */
#include "kernel/exit.h"
#include "kernel/console.h"
#include "kernel/x86.h"
#include "drivers/acpi.h"

#define DEBUG_EXIT_PORT 0xf4

const char *exit_status_name(enum exit_status s)
{
	switch (s) {
	case EXIT_PASSED:     return "passed";
	case EXIT_FAILED:     return "failed";
	case EXIT_BAD_CONFIG: return "bad configuration";
	case EXIT_PANIC:      return "panic";
	case EXIT_DEVICE:     return "device failed";
	case EXIT_SKIPPED:    return "skipped";
	}
	return "unknown";
}

void exit_guest(enum exit_status s)
{
	cli();
	kprintf("# exit: %s (status %d)\n", exit_status_name(s), (int)s);
	outl(DEBUG_EXIT_PORT, (uint32_t)s);
	if (acpi_info()->s5_found) {
		kprintf("# no isa-debug-exit device at port 0x%x; powering off through ACPI\n",
			DEBUG_EXIT_PORT);
		acpi_poweroff();
	}
	kprintf("# no isa-debug-exit device at port 0x%x and no ACPI soft-off (%s); "
		"halting with interrupts off\n", DEBUG_EXIT_PORT, acpi_info()->why);
	for (;;)
		hlt();
}
