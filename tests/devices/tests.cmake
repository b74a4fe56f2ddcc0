# Device framework and device tests (issue 3).
virtscope_test(devices_tests
  devices/bus_test.cpp
  devices/cmos_test.cpp
  devices/debug_ports_test.cpp
  devices/loaders_test.cpp
  devices/pic_test.cpp
  devices/pit_test.cpp
  devices/uart_test.cpp
  devices/i8042_test.cpp
  devices/vga_test.cpp
  devices/ata_test.cpp
  devices/apic_test.cpp
  devices/mptable_test.cpp)
target_link_libraries(devices_tests PRIVATE vs_devices)
