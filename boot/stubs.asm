; Interrupt and exception entry stubs, one per IDT vector, all funnelling into trap_entry.
;
; The CPU pushes an error code for some exceptions and not for others; the stubs of the others
; push a zero so that every frame has the same shape (struct trapframe in kernel/trap.h).
; Everything runs in ring 0, so the CPU pushes no SS:ESP and there is no stack switch.

%macro VECTOR_NOERR 1
vector%1:
	push 0
	push %1
	jmp trap_entry
%endmacro

%macro VECTOR_ERR 1
vector%1:
	push %1                     ; the CPU already pushed the error code
	jmp trap_entry
%endmacro

section .text
extern trap
trap_entry:
	pushad
	cld                         ; the C calling convention assumes DF = 0
	push esp                    ; struct trapframe *
	call trap
	add esp, 4
	popad
	add esp, 8                  ; vector and error code
	iretd

; Exceptions that push an error code (Intel SDM vol. 3, table 6-1): #DF, #TS, #NP, #SS, #GP, #PF,
; #AC, #CP, #VC, #SX.
%assign v 0
%rep 256
%if v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30
	VECTOR_ERR v
%else
	VECTOR_NOERR v
%endif
%assign v v + 1
%endrep

; The table kernel/trap.c installs in the IDT.
section .rodata
global trap_vectors
trap_vectors:
%assign v 0
%rep 256
	dd vector %+ v
%assign v v + 1
%endrep
