# Tests of the event spine (trace/). Included from tests/CMakeLists.txt.
virtscope_test(trace_tests
  ${CMAKE_CURRENT_LIST_DIR}/event_log_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/export_test.cpp
)
target_link_libraries(trace_tests PRIVATE vs_trace)
