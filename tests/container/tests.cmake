# container-sim (docs/container-sim.md): the kernel model against the
# teaching kernel on every workload, process semantics, faults, malformed
# ELF files, events and determinism.
# Guest programs of this suite (tests/container/guest).
virtscope_guest_executable(ct_orphan SOURCES tests/container/guest/orphan.S)
virtscope_guest_executable(ct_clone_stack SOURCES tests/container/guest/clone_stack.S)
# The namespace checks (SEMANTICS.md checklist 1-8, 10, 11), in C over the
# tiny libc: the same ELF files run under container-sim and on the host;
# cg_v2 (cgroup v2, checklist 12, 22, 23) runs under container-sim only.
foreach(p ns_pid ns_view cg_v2 sentry)
  virtscope_guest_executable(ct_${p}
    SOURCES tests/container/guest/${p}.c
    INCLUDES guest/libc/include
    LIBRARIES vs_libc)
endforeach()
virtscope_test(container_tests
  container/workloads_test.cpp
  container/process_test.cpp
  container/elf_test.cpp
  container/events_test.cpp
  container/namespace_test.cpp
  container/cgroup_test.cpp
  container/shared_kernel_test.cpp
  container/runtime_test.cpp)
target_link_libraries(container_tests PRIVATE vs_container_sim vs_vmm vs_test_support)
add_dependencies(container_tests vs_kernel vs_kernel_pv vs_initrd ct_orphan ct_clone_stack ct_ns_pid ct_ns_view ct_cg_v2 ct_sentry user_inside user_sysrq)
target_compile_definitions(container_tests PRIVATE
  VS_KERNEL="${VS_KERNEL_PATH}"
  VS_KERNEL_PV="${VS_KERNEL_PV_PATH}"
  VS_INITRD="${VS_INITRD_PATH}"
  VS_CT_ORPHAN="${ct_orphan_PATH}"
  VS_CT_CLONE_STACK="${ct_clone_stack_PATH}"
  VS_CT_NS_PID="${ct_ns_pid_PATH}"
  VS_CT_NS_VIEW="${ct_ns_view_PATH}"
  VS_CT_CG_V2="${ct_cg_v2_PATH}"
  VS_CT_SYSRQ="${VS_USER_SYSRQ_PATH}"
  VS_CT_INSIDE="${VS_USER_INSIDE_PATH}"
  VS_CT_SENTRY="${ct_sentry_PATH}"
  VS_USER_SH="${CMAKE_BINARY_DIR}/guest/user/user_sh.elf")
# The teaching kernel's own test programs (tests/kernel/guest): features the
# workloads do not touch, a faulting child, bad pointers.
foreach(p checks segv efault hello)
  if(TARGET kt_${p})
    add_dependencies(container_tests kt_${p})
    string(TOUPPER ${p} upper)
    target_compile_definitions(container_tests PRIVATE VS_KT_${upper}="${kt_${p}_PATH}")
  endif()
endforeach()
# Each part of container-sim has its own suite, in its own fragment (present
# once the part is built): the cpu, memory and io controllers, files and
# overlayfs, images, networking.
foreach(part cgroup_cpu cgroup_memory cgroup_io fs image net)
  include(container/${part}.cmake OPTIONAL)
endforeach()
