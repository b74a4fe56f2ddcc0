# The cgroup v2 cpu controller (docs/container-sim/cgroup-cpu.md;
# SEMANTICS.md §2.2, checklist items 13-16): cpu.max bandwidth, cpu.weight
# shares and cpu.stat, from the host API and from the guest program cg_cpu.
virtscope_guest_executable(ct_cg_cpu
  SOURCES tests/container/guest/cg_cpu.c
  INCLUDES guest/libc/include
  LIBRARIES vs_libc)
virtscope_test(container_cpu_tests container/cgroup_cpu_test.cpp)
target_link_libraries(container_cpu_tests PRIVATE vs_container_sim vs_test_support)
add_dependencies(container_cpu_tests vs_initrd ct_cg_cpu)
target_compile_definitions(container_cpu_tests PRIVATE
  VS_INITRD="${VS_INITRD_PATH}"
  VS_CT_CG_CPU="${ct_cg_cpu_PATH}")
