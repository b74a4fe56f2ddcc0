# The teaching kernel end to end (guest/kernel): booted in-process on a
# Machine with an initrd holding the guest/user workloads (when they build)
# and the small assembly programs of tests/kernel/guest.
set(kernel_test_programs)
set(kernel_test_deps mkinitrd vs_kernel)
foreach(p hello segv efault echo)
  virtscope_guest_executable(kt_${p} SOURCES tests/kernel/guest/${p}.S)
  list(APPEND kernel_test_programs bin/kt_${p}=${kt_${p}_PATH})
  list(APPEND kernel_test_deps kt_${p} ${kt_${p}_PATH})
endforeach()
# A C program over guest/libc for the features the workloads do not touch.
if(TARGET vs_libc)
  virtscope_guest_executable(kt_checks SOURCES tests/kernel/guest/checks.c
    INCLUDES guest/libc/include LIBRARIES vs_libc)
  list(APPEND kernel_test_programs bin/kt_checks=${kt_checks_PATH})
  list(APPEND kernel_test_deps kt_checks ${kt_checks_PATH})
endif()
set(kernel_test_have_user 0)
foreach(name hello cpu syscall write fork pagefault mmap pipe sh)
  if(TARGET user_${name})
    list(APPEND kernel_test_programs bin/${name}=${CMAKE_BINARY_DIR}/guest/user/user_${name}.elf)
    list(APPEND kernel_test_deps user_${name} ${CMAKE_BINARY_DIR}/guest/user/user_${name}.elf)
    set(kernel_test_have_user 1)
  endif()
endforeach()
set(kernel_test_initrd ${CMAKE_CURRENT_BINARY_DIR}/kernel_test_initrd.cpio)
add_custom_command(
  OUTPUT ${kernel_test_initrd}
  COMMAND mkinitrd ${kernel_test_initrd} ${kernel_test_programs}
  DEPENDS ${kernel_test_deps}
  COMMENT "Building the kernel tests' initrd"
  VERBATIM)
add_custom_target(kernel_test_initrd DEPENDS ${kernel_test_initrd})

virtscope_test(kernel_tests kernel/kernel_test.cpp kernel/qemu_test.cpp)
target_link_libraries(kernel_tests PRIVATE vs_vmm)
add_dependencies(kernel_tests kernel_test_initrd vs_kernel virtscope)
target_compile_definitions(kernel_tests PRIVATE
  VS_KERNEL="${VS_KERNEL_PATH}"
  VS_KERNEL_TEST_INITRD="${kernel_test_initrd}"
  VS_KERNEL_HAVE_USER=${kernel_test_have_user}
  VS_MKINITRD="$<TARGET_FILE:mkinitrd>"
  VS_VIRTSCOPE="$<TARGET_FILE:virtscope>")
target_link_libraries(kernel_tests PRIVATE vs_test_support)
