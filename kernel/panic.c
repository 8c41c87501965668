/*
 * The panic path: say what happened, in enough detail to debug from a serial log alone, and
 * exit with the panic status.  Everything here polls the UART with interrupts off, so it works
 * from any context, including inside an interrupt handler.
 */
#include <stdarg.h>
#include "kernel/panic.h"
#include "kernel/console.h"
#include "kernel/exit.h"
#include "kernel/gdt.h"
#include "kernel/paging.h"
#include "kernel/x86.h"

#define BACKTRACE_MAX 16

extern char _kernel_end[];

static const char *const exception_names[NR_EXCEPTIONS] = {
	[0] = "#DE divide error",
	[1] = "#DB debug",
	[2] = "NMI",
	[3] = "#BP breakpoint",
	[4] = "#OF overflow",
	[5] = "#BR bound range exceeded",
	[6] = "#UD invalid opcode",
	[7] = "#NM device not available",
	[8] = "#DF double fault",
	[9] = "coprocessor segment overrun",
	[10] = "#TS invalid TSS",
	[11] = "#NP segment not present",
	[12] = "#SS stack-segment fault",
	[13] = "#GP general protection",
	[14] = "#PF page fault",
	[16] = "#MF x87 floating-point error",
	[17] = "#AC alignment check",
	[18] = "#MC machine check",
	[19] = "#XM SIMD floating-point exception",
	[20] = "#VE virtualization exception",
	[21] = "#CP control protection",
	[28] = "#HV hypervisor injection",
	[29] = "#VC VMM communication",
	[30] = "#SX security exception",
};

/*
 * Follow the saved-EBP chain (the kernel is built with frame pointers).  Stop at the zero EBP
 * that boot/entry.asm planted, or at anything that is not a plausible stack address, so a
 * corrupted stack cannot turn the panic into a second fault.
 */
static void backtrace(uint32_t eip, uint32_t ebp)
{
	kprintf("# backtrace (addr2line -e build/tickguest.elf ADDR):\n");
	kprintf("#   0x%08x\n", eip);
	for (int i = 0; i < BACKTRACE_MAX; i++) {
		const uint32_t *frame = (const uint32_t *)(uintptr_t)ebp;

		if (ebp == 0 || (ebp & 3) || ebp < 0x100000 || ebp >= (uint32_t)(uintptr_t)_kernel_end)
			return;
		if (frame[1] == 0)
			return;
		kprintf("#   0x%08x\n", frame[1]);
		ebp = frame[0];
	}
}

void panic(const char *fmt, ...)
{
	va_list ap;
	uint32_t ebp;

	cli();
	kprintf("Bail out! panic: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	__asm__ volatile("mov %%ebp, %0" : "=r"(ebp));
	backtrace((uint32_t)(uintptr_t)__builtin_return_address(0), ((const uint32_t *)(uintptr_t)ebp)[0]);
	exit_guest(EXIT_PANIC);
}

/*
 * IA32_EFER, for the dump: a #GP on the CR0 write that turns paging on is architectural when
 * EFER.LME is set and CR4.PAE clear (SDM vol. 3, 4.1.2), which only a hypervisor can have done
 * to a guest that never writes EFER.  The MSR exists where CPUID 0x80000001 reports long mode,
 * NX or SYSCALL; elsewhere reading it would fault again.
 */
#define MSR_IA32_EFER           0xc0000080u
#define CPUID_EXT_EDX_EFER      ((1u << 11) | (1u << 20) | (1u << 29))

static void efer_line(void)
{
	uint32_t a, b, c, d;

	cpuid(0x80000000u, 0, &a, &b, &c, &d);
	if (a < 0x80000001u)
		return;
	cpuid(0x80000001u, 0, &a, &b, &c, &d);
	if (d & CPUID_EXT_EDX_EFER)
		kprintf("# EFER 0x%016llx\n", (unsigned long long)rdmsr(MSR_IA32_EFER));
}

void panic_exception(const struct trapframe *tf)
{
	const char *name = exception_names[tf->vector];

	if (!name)
		name = "reserved exception";
	kprintf("Bail out! panic: CPU exception %s at EIP 0x%08x\n", name, tf->eip);
	kprintf("# vector %u (%s), error code 0x%08x\n", tf->vector, name, tf->error);
	kprintf("# EIP 0x%08x  CS 0x%04x  EFLAGS 0x%08x\n", tf->eip, tf->cs, tf->eflags);
	kprintf("# EAX 0x%08x  EBX 0x%08x  ECX 0x%08x  EDX 0x%08x\n",
		tf->eax, tf->ebx, tf->ecx, tf->edx);
	kprintf("# ESI 0x%08x  EDI 0x%08x  EBP 0x%08x  ESP 0x%08x\n",
		tf->esi, tf->edi, tf->ebp, trapframe_esp(tf));
	kprintf("# CR0 0x%08x  CR2 0x%08x  CR3 0x%08x  CR4 0x%08x\n",
		read_cr0(), read_cr2(), read_cr3(), read_cr4());
	efer_line();
	backtrace(tf->eip, tf->ebp);
	exit_guest(EXIT_PANIC);
}

void panic_double_fault(void)
{
	const struct tss *t = gdt_interrupted_task();
	const uint32_t cr2 = read_cr2();
	const char *owner = paging_guard_owner(t->esp);

	if (!owner)
		owner = paging_guard_owner(cr2);
	kprintf("Bail out! panic: CPU exception #DF double fault at EIP 0x%08x%s%s\n", t->eip,
		owner ? ": stack overflow of " : "", owner ? owner : "");
	kprintf("# vector 8 (#DF double fault), taken by a task gate on its own stack; the "
		"registers are those the task switch saved\n");
	if (owner)
		kprintf("# ESP 0x%08x, CR2 0x%08x: in the guard page below the stack of %s\n",
			t->esp, cr2, owner);
	kprintf("# EIP 0x%08x  CS 0x%04x  EFLAGS 0x%08x\n", t->eip, t->cs, t->eflags);
	kprintf("# EAX 0x%08x  EBX 0x%08x  ECX 0x%08x  EDX 0x%08x\n", t->eax, t->ebx, t->ecx,
		t->edx);
	kprintf("# ESI 0x%08x  EDI 0x%08x  EBP 0x%08x  ESP 0x%08x\n", t->esi, t->edi, t->ebp,
		t->esp);
	kprintf("# CR0 0x%08x  CR2 0x%08x  CR3 0x%08x  CR4 0x%08x\n",
		read_cr0(), cr2, read_cr3(), read_cr4());      /* a task switch saves no CR3 */
	backtrace(t->eip, t->ebp);
	exit_guest(EXIT_PANIC);
}
