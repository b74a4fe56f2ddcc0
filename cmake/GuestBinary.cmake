# Guest programs written in assembly (GNU as, 16/32-bit) are assembled by the
# project's own build and embedded into host code as a byte array:
#   virtscope_guest_blob(TARGET_VAR NAME SOURCE LOAD_ADDRESS)   (SOURCE relative to the project root)
# produces ${CMAKE_CURRENT_BINARY_DIR}/NAME.blob.cpp defining
#   extern const unsigned char NAME[]; extern const unsigned NAME_size;
# and appends that file to the list variable TARGET_VAR.
find_program(VIRTSCOPE_AS as REQUIRED)
find_program(VIRTSCOPE_LD ld REQUIRED)
# Guest ELFs are linked with -N: one segment, readable, writable and
# executable, as a kernel's first page tables would map it. Binutils 2.39+
# warns about that; the warning is expected here.
execute_process(COMMAND ${VIRTSCOPE_LD} --help OUTPUT_VARIABLE _vs_ld_help ERROR_QUIET)
set(VIRTSCOPE_LD_QUIET)
if(_vs_ld_help MATCHES "--no-warn-rwx-segments")
  set(VIRTSCOPE_LD_QUIET --no-warn-rwx-segments)
endif()

function(virtscope_guest_blob out_var name source load_address)
  set(obj ${CMAKE_CURRENT_BINARY_DIR}/${name}.o)
  set(bin ${CMAKE_CURRENT_BINARY_DIR}/${name}.bin)
  set(cpp ${CMAKE_CURRENT_BINARY_DIR}/${name}.blob.cpp)
  add_custom_command(
    OUTPUT ${cpp}
    COMMAND ${VIRTSCOPE_AS} --32 -o ${obj} ${PROJECT_SOURCE_DIR}/${source}
    COMMAND ${VIRTSCOPE_LD} -m elf_i386 -N -e 0 -Ttext=${load_address} --oformat binary -o ${bin} ${obj}
    COMMAND ${CMAKE_COMMAND} -DBIN=${bin} -DOUT=${cpp} -DNAME=${name} -P ${PROJECT_SOURCE_DIR}/cmake/EmbedBlob.cmake
    DEPENDS ${PROJECT_SOURCE_DIR}/${source} ${PROJECT_SOURCE_DIR}/cmake/EmbedBlob.cmake
    COMMENT "Assembling guest program ${name}"
    VERBATIM)
  set(${out_var} ${${out_var}} ${cpp} PARENT_SCOPE)
endfunction()

# An ELF guest (e.g. a Multiboot kernel) assembled and linked at LOAD_ADDRESS:
#   virtscope_guest_elf(NAME SOURCE LOAD_ADDRESS [INCLUDES...])
# builds ${CMAKE_CURRENT_BINARY_DIR}/NAME.elf through the custom target NAME
# and sets NAME_PATH in the caller's scope to the file's path. The source's
# folder is on the include path; INCLUDES (relative to the project root) are
# the files it includes, so editing them rebuilds it.
function(virtscope_guest_elf name source load_address)
  set(obj ${CMAKE_CURRENT_BINARY_DIR}/${name}.o)
  set(elf ${CMAKE_CURRENT_BINARY_DIR}/${name}.elf)
  get_filename_component(dir ${PROJECT_SOURCE_DIR}/${source} DIRECTORY)
  list(TRANSFORM ARGN PREPEND ${PROJECT_SOURCE_DIR}/ OUTPUT_VARIABLE includes)
  add_custom_command(
    OUTPUT ${elf}
    COMMAND ${VIRTSCOPE_AS} --32 -I ${dir} -o ${obj} ${PROJECT_SOURCE_DIR}/${source}
    COMMAND ${VIRTSCOPE_LD} -m elf_i386 -N ${VIRTSCOPE_LD_QUIET} -e _start -Ttext=${load_address} -o ${elf} ${obj}
    DEPENDS ${PROJECT_SOURCE_DIR}/${source} ${includes}
    COMMENT "Linking guest ELF ${name}"
    VERBATIM)
  add_custom_target(${name} DEPENDS ${elf})
  set(${name}_PATH ${elf} PARENT_SCOPE)
endfunction()
