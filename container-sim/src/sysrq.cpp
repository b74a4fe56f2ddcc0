// The one way a process can take the whole kernel down on purpose:
// /proc/sysrq-trigger (Documentation/admin-guide/sysrq.rst, proc(5)).
// Writing 'c' makes Linux "perform a system crash" (sysrq_handle_crash →
// panic("sysrq triggered crash")). Every container on the machine shares
// this kernel, so its panic stops all of them at once: the seeds' central
// contrast with VMs, where `crash=kernel` in one VM's teaching kernel ends
// that VM only (tests/vmm/multi_vm_test.cpp).
//
// Who may write it: the file is root's, mode 0200, in the initial user
// namespace. A container whose root is mapped to an unprivileged host user
// (a user namespace) is refused with EACCES; a "privileged" container — root
// of the initial user namespace, which is why container engines mount
// /proc/sysrq-trigger read-only — is not.
#include "kernel.h"
#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

int Kernel::sysrq_open(Process& p, const PathRef& at, uint32_t flags, FileRef& out) {
  const bool write = (flags & kO_ACCMODE) != 0;
  // generic_permission(): the owner (kernel uid 0) may write; otherwise
  // CAP_DAC_OVERRIDE in the initial user namespace is needed. Reading: the
  // mode grants nobody, CAP_DAC_OVERRIDE aside; and procfs gives the file no
  // read method, so there is nothing to read either way.
  const bool root_owner = p.euid == 0;
  const bool dac_override = capable(p, *init_ns_.user);
  if (!root_owner && !dac_override) return -kEACCES;
  if (!write && !dac_override) return -kEACCES;
  out = std::make_shared<OpenFile>(OpenFile::Kind::Proc);
  out->inode = at.inode;
  out->writable = write;
  out->text = std::make_shared<const std::vector<uint8_t>>();
  return 0;
}

int Kernel::sysrq_write(Process& p, const std::string& text) {
  // write_sysrq_trigger(): the first character is the command. Only 'c'
  // is modelled; the others Linux knows (sync, show tasks, ...) are
  // accepted and do nothing here, as an unknown key does on Linux.
  if (!text.empty() && text[0] == 'c') {
    console_write("sysrq: Trigger a crash\n");
    char who[96];
    std::snprintf(who, sizeof who, " (by pid %u, %s)", p.pid(), p.name.c_str());
    panic(std::string("sysrq triggered crash") + who);
  }
  return int(text.size());
}

void Kernel::panic(const std::string& reason) {
  console_write("Kernel panic - not syncing: " + reason + "\n");
  panic_ = reason;
  // Nothing runs again: not the writer (its write never returns), not any
  // other process of any container.
  leave_cpu();
}

}  // namespace vs::container_sim
