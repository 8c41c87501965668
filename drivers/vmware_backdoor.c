/*
 * VMware's "backdoor" I/O port: a hypervisor call made with an IN from port 0x5658 with a magic
 * number in EAX and a command in ECX; the hypervisor fills in the registers.  No manual
 * describes it; open-vm-tools' backdoor_def.h names the commands, and QEMU implements a few of
 * them in its vmport device (hw/i386/vmport.c, on by default on pc and q35).
 *
 * On a PC without it the read returns whatever floats on the bus; a hypervisor may also make it
 * raise #GP (VMware with the backdoor restricted).  The call therefore runs under
 * trap_io_probe_begin/end, and the reply counts only when EBX comes back as the magic.
 */
#include "drivers/vmware_backdoor.h"
#include "kernel/trap.h"

bool vmw_bdoor_call(uint32_t cmd, uint32_t ebx_in, struct vmw_bdoor_regs *out)
{
	trap_io_probe_begin();
	/* The IN must be the only instruction here: the #GP fixup steps over exactly that byte. */
	__asm__ volatile("inl %%dx, %%eax"
			 : "=a"(out->eax), "=b"(out->ebx), "=c"(out->ecx), "=d"(out->edx)
			 : "a"(VMW_BDOOR_MAGIC), "b"(ebx_in), "c"(cmd), "d"(VMW_BDOOR_PORT)
			 : "memory");
	return !trap_io_probe_end();
}

bool vmw_bdoor_present(const char **why)
{
	struct vmw_bdoor_regs r;

	/* EBX goes in as anything but the magic, so an idle bus cannot fake the answer. */
	if (!vmw_bdoor_call(VMW_BDOOR_CMD_GETVERSION, ~VMW_BDOOR_MAGIC, &r)) {
		*why = "the backdoor port raised #GP";
		return false;
	}
	if (r.ebx != VMW_BDOOR_MAGIC) {
		*why = "no VMware backdoor (GETVERSION did not answer with the magic)";
		return false;
	}
	*why = "";
	return true;
}
