# The BIOS (guest/firmware): its ROM image, and boot-sector programs
# (tests/firmware/guest) booted from raw disk images on the whole Machine,
# each exercising BIOS services and reporting on the debug console.
set(VS_FIRMWARE_TEST_BLOBS)
# vs_firmware_boot_sector(NAME): tests/firmware/guest/NAME.S assembled at
# 0x7C00 (with that folder on the include path for macros.inc, lib.inc, result.inc)
# into the byte array fw_NAME.
function(vs_firmware_boot_sector name)
  set(dir ${PROJECT_SOURCE_DIR}/tests/firmware/guest)
  set(obj ${CMAKE_CURRENT_BINARY_DIR}/fw_${name}.o)
  set(bin ${CMAKE_CURRENT_BINARY_DIR}/fw_${name}.bin)
  set(cpp ${CMAKE_CURRENT_BINARY_DIR}/fw_${name}.blob.cpp)
  add_custom_command(
    OUTPUT ${cpp}
    COMMAND ${VIRTSCOPE_AS} --32 -I ${dir} -o ${obj} ${dir}/${name}.S
    COMMAND ${VIRTSCOPE_LD} -m elf_i386 -N -e 0 -Ttext=0x7C00 --oformat binary -o ${bin} ${obj}
    COMMAND ${CMAKE_COMMAND} -DBIN=${bin} -DOUT=${cpp} -DNAME=fw_${name} -P ${PROJECT_SOURCE_DIR}/cmake/EmbedBlob.cmake
    DEPENDS ${dir}/${name}.S ${dir}/macros.inc ${dir}/lib.inc ${dir}/result.inc ${PROJECT_SOURCE_DIR}/cmake/EmbedBlob.cmake
    COMMENT "Assembling BIOS test boot sector ${name}"
    VERBATIM)
  set(VS_FIRMWARE_TEST_BLOBS ${VS_FIRMWARE_TEST_BLOBS} ${cpp} PARENT_SCOPE)
endfunction()

foreach(program boot_state teletype scroll video_pages disk_info disk_read disk_write memory_map keyboard timer
    a20 services)
  vs_firmware_boot_sector(${program})
endforeach()

virtscope_test(firmware_tests
  firmware/bios_test.cpp
  ${VS_FIRMWARE_TEST_BLOBS})
target_link_libraries(firmware_tests PRIVATE vs_vmm vs_firmware)
