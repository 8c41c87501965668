; Multiboot v1 and Multiboot2 entry point.
;
; The image carries both headers, so either kind of loader can start it: QEMU's -kernel and
; GRUB's `multiboot` read the v1 one, GRUB's `multiboot2` (the only way to be handed the ACPI
; RSDP under UEFI) the v2 one.  Both jump here in 32-bit protected mode with paging off and
; interrupts off, EBX = physical address of their information and EAX = the magic that says
; which kind it is: 0x2BADB002 (v1) or 0x36D76289 (v2); kernel/multiboot.c tells them apart.
; Everything else, including the stack and the GDT, is ours to set up.  A v2 loader on UEFI
; also leaves boot services exited, since the header asks for nothing else.

MB_MAGIC        equ 0x1BADB002
MB_PAGE_ALIGN   equ 1 << 0          ; load modules page aligned
MB_MEMORY_INFO  equ 1 << 1          ; we want mem_lower/mem_upper and the memory map
MB_FLAGS        equ MB_PAGE_ALIGN | MB_MEMORY_INFO

; Multiboot2 spec 2.0, 3.1: magic, architecture (0: 32-bit protected mode i386), header
; length, checksum making the four sum to 0 mod 2^32, then tags, ended by a tag of type 0.
MB2_MAGIC       equ 0xE85250D6
MB2_ARCH_I386   equ 0
MB2_TAG_END     equ 0
BOOT_STACK_SIZE equ 16384

section .multiboot
align 4                             ; v1: 4-byte aligned, in the first 8 KiB
	dd MB_MAGIC
	dd MB_FLAGS
	dd -(MB_MAGIC + MB_FLAGS)
align 8                             ; v2: 8-byte aligned, in the first 32 KiB
mb2_header:
	dd MB2_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header
	dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	dw MB2_TAG_END, 0           ; type, flags
	dd 8                        ; size
mb2_header_end:

section .bss
align 4096
global boot_stack_guard
boot_stack_guard:                   ; unmapped by paging_init(): an overflow of the stack below
	resb 4096                   ; faults here instead of writing over the kernel's data
boot_stack:
	resb BOOT_STACK_SIZE
boot_stack_top:

section .text
global _start
extern kmain
_start:
	mov esp, boot_stack_top
	xor ebp, ebp                ; terminates the panic back-trace
	push 0                      ; EFLAGS known: DF and IF clear
	popfd
	push ebx                    ; multiboot info
	push eax                    ; multiboot magic
	call kmain
.hang:                          ; kmain does not return; if it does, stop here
	cli
	hlt
	jmp .hang
