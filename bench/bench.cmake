# Benchmarks (Google Benchmark from Debian's libbenchmark-dev). Included from
# bench/CMakeLists.txt after find_package(benchmark QUIET); skipped without it.
if(benchmark_FOUND)
  add_executable(bench_trace ${CMAKE_CURRENT_LIST_DIR}/bench_trace.cpp)
  target_link_libraries(bench_trace PRIVATE vs_trace benchmark::benchmark)
  virtscope_warnings(bench_trace)
endif()
