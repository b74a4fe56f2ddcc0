# Device framework and device tests (issue 3).
virtscope_test(devices_tests
  devices/bus_test.cpp)
target_link_libraries(devices_tests PRIVATE vs_devices)
