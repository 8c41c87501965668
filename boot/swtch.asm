; void swtch(struct context **save, struct context *load);
;
; Save the callee-saved registers of the running thread on its own stack, store that stack
; pointer in *save, switch to the stack `load` and pop its registers.  The return address
; popped last is where the loaded thread left off (or task_start for a new task).  Caller-saved
; registers need no saving: the C compiler already assumes a call destroys them.
; Layout matches struct context in sched/sched.h: edi, esi, ebx, ebp, eip.

global swtch
swtch:
	mov eax, [esp + 4]          ; save
	mov edx, [esp + 8]          ; load
	push ebp
	push ebx
	push esi
	push edi
	mov [eax], esp
	mov esp, edx
	pop edi
	pop esi
	pop ebx
	pop ebp
	ret
