; Multiboot v1 entry point.
;
; The loader (GRUB or QEMU's -kernel) jumps here in 32-bit protected mode with paging off,
; interrupts off, EAX = 0x2BADB002 and EBX = physical address of the multiboot information.
; Everything else, including the stack and the GDT, is ours to set up.

MB_MAGIC        equ 0x1BADB002
MB_PAGE_ALIGN   equ 1 << 0          ; load modules page aligned
MB_MEMORY_INFO  equ 1 << 1          ; we want mem_lower/mem_upper and the memory map
MB_FLAGS        equ MB_PAGE_ALIGN | MB_MEMORY_INFO
BOOT_STACK_SIZE equ 16384

section .multiboot
align 4
	dd MB_MAGIC
	dd MB_FLAGS
	dd -(MB_MAGIC + MB_FLAGS)

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
