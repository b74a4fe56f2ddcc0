# libFuzzer target (clang only): cmake -DVIRTSCOPE_FUZZ=ON -DVIRTSCOPE_SANITIZE=ON
# -DCMAKE_CXX_COMPILER=clang++ ... then run build/tests/cpu_fuzz (docs/conformance.md).
if(VIRTSCOPE_FUZZ)
  add_executable(cpu_fuzz fuzz/cpu_fuzz.cpp)
  target_compile_options(cpu_fuzz PRIVATE -fsanitize=fuzzer)
  target_link_options(cpu_fuzz PRIVATE -fsanitize=fuzzer)
  target_link_libraries(cpu_fuzz PRIVATE vs_cpu vs_trace)
endif()
