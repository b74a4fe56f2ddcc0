// Trap dispatch: exceptions, hardware interrupts and the system call all
// arrive here from entry.S with a trapframe.
//  - an exception in kernel mode is a kernel bug: panic;
//  - a #PF in user mode inside a valid region is demand paging;
//  - any other user exception kills the process with the matching signal
//    (Linux: #DE -> SIGFPE, #UD -> SIGILL, the rest SIGSEGV);
//  - IRQ 0 counts ticks and preempts user code; IRQ 4 is the console;
//  - under a hypervisor the same IRQs arrive as events (vector 0x30).
#include "kernel.h"
#include "pvops.h"

_Static_assert(offsetof(struct pv_ops, return_to_user) == 76, "entry.S calls pv+76");

#define SIGILL 4
#define SIGFPE 8
#define SIGKILL 9
#define SIGSEGV 11

static const char* const exception_names[32] = {
    "divide error", "debug", "NMI", "breakpoint", "overflow", "bound range", "invalid opcode",
    "device not available", "double fault", "coprocessor overrun", "invalid TSS", "segment not present",
    "stack fault", "general protection fault", "page fault", "reserved", "x87 error", "alignment check",
    "machine check", "SIMD error", "virtualization", "control protection"};

static void user_exception(struct trapframe* tf) {
  uint32_t cr2 = tf->vector == 14 ? pv.read_cr2() : 0;
  int r = tf->vector == 14 && !(tf->error & 1) ? vm_handle_fault(cr2) : -EFAULT;
  if (r == 0) return;
  if (r == -ENOMEM) {
    kprintf("pid %d (%s): out of memory at 0x%08x: killed\n", current->pid, current->name, cr2);
    proc_exit(SIGKILL);
  }
  int sig = tf->vector == 0 ? SIGFPE : tf->vector == 6 ? SIGILL : SIGSEGV;
  const char* what = exception_names[tf->vector] ? exception_names[tf->vector] : "exception";
  if (tf->vector == 14)
    kprintf("pid %d (%s): segmentation fault at 0x%08x, eip 0x%08x: killed\n", current->pid, current->name,
            cr2, tf->eip);
  else
    kprintf("pid %d (%s): %s at eip 0x%08x: killed\n", current->pid, current->name, what, tf->eip);
  proc_exit(sig);
}

void irq_dispatch(int irq, bool from_user) {
  pv.irq_eoi(irq);  // before any switch: the next tick must be able to arrive
  if (irq == 0) {
    ticks++;
    wakeup((const void*)&ticks);
    if (current && from_user) yield();
  } else if (irq == 4) {
    console_irq();
  }
}

void trap(struct trapframe* tf) {
  bool from_user = (tf->cs & 3) == 3;
  if (tf->vector == 0x80) {
    syscall_dispatch(tf);
  } else if (tf->vector < 32) {
    if (!from_user) {
      const char* what = exception_names[tf->vector] ? exception_names[tf->vector] : "exception";
      panic("%s at eip 0x%08x (cr2 0x%08x, error 0x%x)", what, tf->eip, pv.read_cr2(), tf->error);
    }
    user_exception(tf);
  } else if (tf->vector >= 0x20 && tf->vector < 0x30) {
    irq_dispatch((int)tf->vector - 0x20, from_user);
  } else if (tf->vector == VECTOR_EVENT_UPCALL) {
    pv.event_upcall(from_user);
  }
  if (current && from_user && current->killed) proc_exit(current->killed);
}
