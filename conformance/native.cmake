# The native lockstep oracle (src/native_oracle.cpp): real silicon runs the
# stream in a ptrace-single-stepped i386 process, the harness built below.
# Included from conformance/CMakeLists.txt; adds to vs_conformance.
target_sources(vs_conformance PRIVATE ${CMAKE_CURRENT_LIST_DIR}/src/native_oracle.cpp)

# The i386 tracee: static, no libc, assembled and linked with GNU binutils.
# It is linked at 0xe0000000, far from where streams put their windows.
find_program(VS_GNU_AS NAMES as)
find_program(VS_GNU_LD NAMES ld.bfd ld)
set(VS_HARNESS32 ${CMAKE_CURRENT_BINARY_DIR}/virtscope-harness32)
if(VS_GNU_AS AND VS_GNU_LD)
  add_custom_command(
    OUTPUT ${VS_HARNESS32}
    COMMAND ${VS_GNU_AS} --32 -o ${CMAKE_CURRENT_BINARY_DIR}/native_harness.o
            ${CMAKE_CURRENT_LIST_DIR}/harness/native_harness.S
    COMMAND ${VS_GNU_LD} -m elf_i386 -static -nostdlib -z noexecstack
            -Ttext-segment=0xe0000000 -o ${VS_HARNESS32}
            ${CMAKE_CURRENT_BINARY_DIR}/native_harness.o
    DEPENDS ${CMAKE_CURRENT_LIST_DIR}/harness/native_harness.S
    COMMENT "Building the i386 harness of the native oracle"
    VERBATIM)
  add_custom_target(vs_harness32 ALL DEPENDS ${VS_HARNESS32})
  add_dependencies(vs_conformance vs_harness32)
else()
  message(STATUS "virtscope: GNU as/ld not found: the native oracle has no harness and reports itself unavailable")
endif()
# Where the oracle looks first; then `virtscope-harness32` next to the running
# executable; the environment variable VIRTSCOPE_HARNESS32 overrides both.
set_property(SOURCE ${CMAKE_CURRENT_LIST_DIR}/src/native_oracle.cpp APPEND PROPERTY
  COMPILE_DEFINITIONS "VS_NATIVE_HARNESS32_BUILD_PATH=\"${VS_HARNESS32}\"")
