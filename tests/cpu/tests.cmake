# CPU unit tests: the opcode table, the decoder against Capstone's lengths,
# and behaviour tests that run small guest programs.
set(VIRTSCOPE_CPU_TEST_BLOBS)
virtscope_guest_blob(VIRTSCOPE_CPU_TEST_BLOBS guest_tour guest/demo/tour.S 0x7C00)
virtscope_test(cpu_tests
  cpu/opcode_table_test.cpp
  cpu/decode_length_test.cpp
  cpu/behaviour_test.cpp
  cpu/vmx_test.cpp
  ${VIRTSCOPE_CPU_TEST_BLOBS})
target_link_libraries(cpu_tests PRIVATE vs_cpu vs_trace PkgConfig::CAPSTONE)
