# The io controller and cgroup delegation (docs/container-sim/cgroup-io.md):
# SEMANTICS.md checklist 21 (io.max throttles, io.stat counts) and 23
# (migration needs the common ancestor's cgroup.procs), the block device
# /dev/disk, and the `disk N` workload on it against the teaching kernel.
virtscope_guest_executable(ct_cg_io
  SOURCES tests/container/guest/cg_io.c
  INCLUDES guest/libc/include
  LIBRARIES vs_libc)
virtscope_test(container_io_tests container/cgroup_io_test.cpp)
target_link_libraries(container_io_tests PRIVATE vs_container_sim vs_vmm vs_test_support)
add_dependencies(container_io_tests vs_kernel vs_kernel_pv vs_initrd ct_cg_io)
target_compile_definitions(container_io_tests PRIVATE
  VS_KERNEL="${VS_KERNEL_PATH}"
  VS_KERNEL_PV="${VS_KERNEL_PV_PATH}"
  VS_INITRD="${VS_INITRD_PATH}"
  VS_CT_CG_IO="${ct_cg_io_PATH}")
