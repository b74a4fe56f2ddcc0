/* Trap entry and exit, and the kernel context switch.
 *
 * The CPU pushes EFLAGS, CS, EIP (and ESP, SS when coming from ring 3,
 * loading ESP from TSS.esp0) and, for some exceptions, an error code
 * (SDM Vol. 3 §6.12.1, §6.13). Each stub pushes a dummy error code where
 * the CPU does not, so every trapframe has the same shape, then the vector. */

.macro NOERR v
  .globl vec\v
vec\v:
  pushl $0
  pushl $\v
  jmp alltraps
.endm
.macro ERR v
  .globl vec\v
vec\v:
  pushl $\v
  jmp alltraps
.endm

  .text
/* Exceptions with an error code: 8, 10-14, 17, 21 (SDM Vol. 3 Table 6-1). */
NOERR 0
NOERR 1
NOERR 2
NOERR 3
NOERR 4
NOERR 5
NOERR 6
NOERR 7
ERR 8
NOERR 9
ERR 10
ERR 11
ERR 12
ERR 13
ERR 14
NOERR 15
NOERR 16
ERR 17
NOERR 18
NOERR 19
NOERR 20
ERR 21
NOERR 22
NOERR 23
NOERR 24
NOERR 25
NOERR 26
NOERR 27
NOERR 28
NOERR 29
NOERR 30
NOERR 31
/* The remapped 8259 IRQs 0-15 (vectors 0x20-0x2F), the event upcall (0x30)
 * and the system call (0x80). */
NOERR 32
NOERR 33
NOERR 34
NOERR 35
NOERR 36
NOERR 37
NOERR 38
NOERR 39
NOERR 40
NOERR 41
NOERR 42
NOERR 43
NOERR 44
NOERR 45
NOERR 46
NOERR 47
/* 0x30: a hypervisor's event upcall (the paravirtual build's "interrupt"). */
NOERR 48
NOERR 128

alltraps:
  pushl %ds
  pushl %es
  pushl %fs
  pushl %gs
  pushal
  /* Memory now matches struct trapframe (kernel.h), lowest address first. */
  movw $0x10, %ax        /* SEL_KDATA: user segments are not trusted */
  movw %ax, %ds
  movw %ax, %es
  pushl %esp             /* trap(struct trapframe*) */
  call trap
  addl $4, %esp
  pushl %esp
  call *pv+76            /* pv.return_to_user (offset checked in trap.c) */

/* trap_return(tf): the native iret path. Loads ESP with the trapframe and
 * unwinds it; IRET pops EIP, CS, EFLAGS and, for a return to ring 3, ESP and
 * SS (SDM Vol. 2 "IRET", Vol. 3 §6.12.1). */
  .globl trap_return
trap_return:
  movl 4(%esp), %esp
  popal
  popl %gs
  popl %fs
  popl %es
  popl %ds
  addl $8, %esp          /* vector, error code */
  iret

/* swtch(&old_esp, new_esp): save the callee-saved registers (SysV i386
 * ABI) on this kernel stack, switch stacks, restore the other's. */
  .globl swtch
swtch:
  movl 4(%esp), %eax
  movl 8(%esp), %edx
  pushl %ebp
  pushl %ebx
  pushl %esi
  pushl %edi
  movl %esp, (%eax)
  movl %edx, %esp
  popl %edi
  popl %esi
  popl %ebx
  popl %ebp
  ret

  .section .rodata
  .globl trap_vectors
trap_vectors:
  .long vec0, vec1, vec2, vec3, vec4, vec5, vec6, vec7
  .long vec8, vec9, vec10, vec11, vec12, vec13, vec14, vec15
  .long vec16, vec17, vec18, vec19, vec20, vec21, vec22, vec23
  .long vec24, vec25, vec26, vec27, vec28, vec29, vec30, vec31
  .long vec32, vec33, vec34, vec35, vec36, vec37, vec38, vec39
  .long vec40, vec41, vec42, vec43, vec44, vec45, vec46, vec47
  .long vec48, vec128
