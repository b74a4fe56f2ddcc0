# The workloads (guest/user) and the tiny libc run as ordinary Linux i386
# processes on the host: the same static ELFs the teaching kernel runs.
virtscope_guest_executable(user_libc_check
  SOURCES tests/user/guest/libc_check.c
  INCLUDES guest/libc/include
  LIBRARIES vs_libc)
virtscope_test(user_tests user/host_run_test.cpp)
add_dependencies(user_tests user_hello user_cpu user_syscall user_write user_fork user_pagefault user_mmap
  user_pipe user_disk user_sh user_libc_check)
target_compile_definitions(user_tests PRIVATE
  VS_USER_DIR="${CMAKE_BINARY_DIR}/guest/user"
  VS_LIBC_CHECK="${user_libc_check_PATH}")
target_link_libraries(user_tests PRIVATE vs_test_support)
