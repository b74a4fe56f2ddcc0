# The `virtscope` command as a process: exit status, output, piped input and
# a pseudo-terminal typing into the guest's serial console.
virtscope_guest_elf(app_serial_echo tests/app/guest/serial_echo.S 0x100000)
virtscope_test(app_tests app/run_cli_test.cpp app/compare_cli_test.cpp app/container_cli_test.cpp)
add_dependencies(app_tests app_serial_echo virtscope vs_kernel vs_initrd user_sysrq)
target_compile_definitions(app_tests PRIVATE
  VS_VIRTSCOPE="$<TARGET_FILE:virtscope>"
  VS_USER_DIR="${CMAKE_BINARY_DIR}/guest/user"
  VS_USER_SYSRQ="${VS_USER_SYSRQ_PATH}"
  VS_EXAMPLES="${PROJECT_SOURCE_DIR}/examples/containers"
  VS_SERIAL_ECHO="${app_serial_echo_PATH}")
target_link_libraries(app_tests PRIVATE vs_test_support)
