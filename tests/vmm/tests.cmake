# The Machine: Multiboot boot, devices working together, snapshots.
virtscope_guest_elf(vmm_multiboot_hello tests/vmm/guest/multiboot_hello.S 0x100000)
virtscope_guest_elf(vmm_timer_ticks tests/vmm/guest/timer_ticks.S 0x100000 tests/vmm/guest/kernel.inc)
virtscope_guest_elf(vmm_apic_timer tests/vmm/guest/apic_timer.S 0x100000 tests/vmm/guest/kernel.inc)
set(VS_VMM_TEST_BLOBS)
virtscope_guest_blob(VS_VMM_TEST_BLOBS vmm_reset_once tests/vmm/guest/reset_once.S 0x7C00)
virtscope_test(vmm_tests
  vmm/machine_test.cpp
  vmm/xv6_test.cpp
  vmm/compare_test.cpp
  vmm/trap_test.cpp
  vmm/kvm_test.cpp
  vmm/hvm_shadow_test.cpp
  vmm/pv_test.cpp
  vmm/pv_parts_test.cpp
  vmm/multi_vm_test.cpp
  ${VS_VMM_TEST_BLOBS})
target_link_libraries(vmm_tests PRIVATE vs_vmm)
# Unit tests of the VMMs' parts (the pv frame table, event channels) reach their headers.
target_include_directories(vmm_tests PRIVATE ${PROJECT_SOURCE_DIR}/vmm/src)
add_dependencies(vmm_tests vmm_multiboot_hello vmm_timer_ticks vmm_apic_timer vs_kernel vs_kernel_pv vs_initrd)
target_compile_definitions(vmm_tests PRIVATE
  VS_MULTIBOOT_HELLO="${vmm_multiboot_hello_PATH}"
  VS_TIMER_TICKS="${vmm_timer_ticks_PATH}"
  VS_APIC_TIMER="${vmm_apic_timer_PATH}"
  VS_PROJECT_ROOT="${PROJECT_SOURCE_DIR}"
  VS_KERNEL="${VS_KERNEL_PATH}"
  VS_KERNEL_PV="${VS_KERNEL_PV_PATH}"
  VS_INITRD="${VS_INITRD_PATH}")
