# The cgroup v2 memory controller (docs/container-sim/cgroup-memory.md;
# SEMANTICS.md §2.3, checklist items 17-20): charging, reclaim, the memcg
# OOM killer and memory.high, from the guest program cg_mem and the host API.
virtscope_guest_executable(ct_cg_mem
  SOURCES tests/container/guest/cg_mem.c
  INCLUDES guest/libc/include
  LIBRARIES vs_libc)
virtscope_test(container_memory_tests container/cgroup_memory_test.cpp)
target_link_libraries(container_memory_tests PRIVATE vs_container_sim vs_test_support)
add_dependencies(container_memory_tests vs_initrd ct_cg_mem)
target_compile_definitions(container_memory_tests PRIVATE
  VS_INITRD="${VS_INITRD_PATH}"
  VS_CT_CG_MEM="${ct_cg_mem_PATH}")
