/* The paravirtual build's system-call entry. The hypervisor installs it as
 * a real trap gate (DPL 3, ring 1), so `int $0x80` from user mode reaches
 * the kernel without a hypervisor transition (Barham et al. §2: the "fast
 * handler"). A trap gate leaves events unmasked; the native gate is an
 * interrupt gate, so the stub masks them (shared info upcall_mask) before
 * joining the common path. An event that arrives in the three instructions
 * before the mask is set is taken right there and returns here, harmlessly:
 * nothing has been touched yet. */
  .text
  .globl pv_syscall_entry
pv_syscall_entry:
  pushl %eax
  movl pv_shared, %eax
  movb $1, 1(%eax)       /* pv_shared->upcall_mask = 1 */
  popl %eax
  jmp vec128
