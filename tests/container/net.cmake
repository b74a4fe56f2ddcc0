# Networking in container-sim (docs/container-sim/network.md): network
# namespaces, veth pairs, rtnetlink and packet sockets (SEMANTICS.md §1.5,
# checklist 9). net_veth runs under container-sim and, where the host lets
# an unprivileged user make a user + network namespace, on Linux too.
virtscope_guest_executable(ct_net_veth
  SOURCES tests/container/guest/net_veth.c
  INCLUDES guest/libc/include
  LIBRARIES vs_libc)
virtscope_test(container_net_tests container/net_test.cpp)
target_link_libraries(container_net_tests PRIVATE vs_container_sim vs_test_support)
# The host-side veth (Kernel::net_attach_veth) is not public yet: the test reaches the kernel model.
target_include_directories(container_net_tests PRIVATE ${PROJECT_SOURCE_DIR}/container-sim/src)
add_dependencies(container_net_tests ct_net_veth vs_initrd)
target_compile_definitions(container_net_tests PRIVATE VS_CT_NET_VETH="${ct_net_veth_PATH}" VS_INITRD="${VS_INITRD_PATH}")
