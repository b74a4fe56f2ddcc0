# Files and overlayfs (docs/container-sim/overlayfs.md; SEMANTICS.md §4.1,
# §4.2, checklist items 24-26): writable files, overlay mounts with copy-up,
# whiteouts and opaque directories, from the guest programs fs_files and
# fs_overlay (also run on this Linux host when it allows, outputs compared),
# and the layer <-> directory conversions of layer_fs.h from C++.
foreach(p fs_files fs_overlay)
  virtscope_guest_executable(ct_${p}
    SOURCES tests/container/guest/${p}.c
    INCLUDES guest/libc/include
    LIBRARIES vs_libc)
endforeach()
virtscope_test(container_fs_tests container/fs_test.cpp)
target_link_libraries(container_fs_tests PRIVATE vs_container_sim vs_test_support)
# The layer tests call the kernel model's file-system classes directly.
target_include_directories(container_fs_tests PRIVATE ${PROJECT_SOURCE_DIR}/container-sim/src)
add_dependencies(container_fs_tests vs_initrd ct_fs_files ct_fs_overlay)
target_compile_definitions(container_fs_tests PRIVATE
  VS_INITRD="${VS_INITRD_PATH}"
  VS_CT_FS_FILES="${ct_fs_files_PATH}"
  VS_CT_FS_OVERLAY="${ct_fs_overlay_PATH}")
