#ifndef TICKGUEST_VMWARE_BACKDOOR_H
#define TICKGUEST_VMWARE_BACKDOOR_H

#include <stdbool.h>
#include <stdint.h>

#define VMW_BDOOR_MAGIC          0x564d5868u   /* "VMXh" */
#define VMW_BDOOR_PORT           0x5658u       /* "VX" */
#define VMW_BDOOR_CMD_GETVERSION 10
#define VMW_BDOOR_CMD_GETHZ      45

struct vmw_bdoor_regs {
	uint32_t eax, ebx, ecx, edx;
};

/*
 * One backdoor call: `in eax, dx` with EAX = magic, ECX = cmd, DX = port, EBX = ebx_in.
 * Returns false if the read raised #GP (no backdoor, or one the hypervisor forbids).
 */
bool vmw_bdoor_call(uint32_t cmd, uint32_t ebx_in, struct vmw_bdoor_regs *out);

/* GETVERSION: the backdoor answers when EBX comes back as the magic.  On false, *why says why. */
bool vmw_bdoor_present(const char **why);

#endif
