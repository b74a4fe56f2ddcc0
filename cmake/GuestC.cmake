# Guest programs in C (the teaching kernel, the tiny libc, the workloads):
# 32-bit, freestanding, compiled with the host's gcc in -m32 mode and linked
# with ld -m elf_i386. None of the host build's flags (sanitizers, warnings
# as set for C++) apply: these are custom commands with their own flags, and
# the compiler is always gcc, whatever CMAKE_C_COMPILER is (the sanitizer
# build uses clang). No multilib is needed: nothing links the host's libc or
# libgcc (guest/libc provides the 64-bit division helpers gcc may call).
#
#   virtscope_guest_library(NAME SOURCES src... [INCLUDES dir...] [DEFINES X=1...])
#     -> ${CMAKE_CURRENT_BINARY_DIR}/libNAME.a, custom target NAME,
#        NAME_PATH set in the caller's scope
#   virtscope_guest_executable(NAME SOURCES src... [INCLUDES dir...] [DEFINES ...]
#                              [LIBRARIES lib-target...] [LINKER_SCRIPT file])
#     -> ${CMAKE_CURRENT_BINARY_DIR}/NAME.elf, custom target NAME,
#        NAME_PATH set in the caller's scope. Without LINKER_SCRIPT, ld's
#        default i386 layout (text at 0x08048000, as Linux i386 programs).
# Paths in SOURCES, INCLUDES and LINKER_SCRIPT are relative to the project root.
find_program(VIRTSCOPE_GUEST_CC gcc REQUIRED)
find_program(VIRTSCOPE_AR ar REQUIRED)
execute_process(COMMAND ${VIRTSCOPE_GUEST_CC} -print-file-name=include
                OUTPUT_VARIABLE VIRTSCOPE_GUEST_CC_INCLUDE OUTPUT_STRIP_TRAILING_WHITESPACE)
# IA-32 integer code only: virtscope has no x87, MMX or SSE yet.
set(VIRTSCOPE_GUEST_CFLAGS
  -m32 -march=i686 -mno-mmx -mno-sse -mno-sse2 -mno-80387
  -std=c11 -O2 -g -ffreestanding -fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables
  -fno-omit-frame-pointer -nostdinc -isystem ${VIRTSCOPE_GUEST_CC_INCLUDE}
  -Wall -Wextra -Werror)

# Compiles SOURCES into objects; their paths go to OUT_VAR.
function(_virtscope_guest_compile out_var name)
  cmake_parse_arguments(G "" "" "SOURCES;INCLUDES;DEFINES" ${ARGN})
  set(flags ${VIRTSCOPE_GUEST_CFLAGS})
  foreach(dir ${G_INCLUDES})
    list(APPEND flags -I${PROJECT_SOURCE_DIR}/${dir})
  endforeach()
  foreach(def ${G_DEFINES})
    list(APPEND flags -D${def})
  endforeach()
  set(objects)
  foreach(src ${G_SOURCES})
    string(MAKE_C_IDENTIFIER ${src} id)
    set(obj ${CMAKE_CURRENT_BINARY_DIR}/${name}.dir/${id}.o)
    add_custom_command(
      OUTPUT ${obj}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/${name}.dir
      COMMAND ${VIRTSCOPE_GUEST_CC} ${flags} -MD -MF ${obj}.d -c ${PROJECT_SOURCE_DIR}/${src} -o ${obj}
      DEPENDS ${PROJECT_SOURCE_DIR}/${src}
      DEPFILE ${obj}.d
      COMMENT "Compiling guest ${name}: ${src}"
      VERBATIM)
    list(APPEND objects ${obj})
  endforeach()
  set(${out_var} ${objects} PARENT_SCOPE)
endfunction()

function(virtscope_guest_library name)
  _virtscope_guest_compile(objects ${name} ${ARGN})
  set(lib ${CMAKE_CURRENT_BINARY_DIR}/lib${name}.a)
  add_custom_command(
    OUTPUT ${lib}
    COMMAND ${CMAKE_COMMAND} -E rm -f ${lib}
    COMMAND ${VIRTSCOPE_AR} rcsD ${lib} ${objects}
    DEPENDS ${objects}
    COMMENT "Archiving guest library ${name}"
    VERBATIM)
  add_custom_target(${name} DEPENDS ${lib})
  set(${name}_PATH ${lib} PARENT_SCOPE)
  # Executables name libraries by target; this is how they find the archive.
  set_property(GLOBAL PROPERTY VIRTSCOPE_GUEST_LIB_${name} ${lib})
endfunction()

function(virtscope_guest_executable name)
  cmake_parse_arguments(G "" "LINKER_SCRIPT" "SOURCES;INCLUDES;DEFINES;LIBRARIES" ${ARGN})
  _virtscope_guest_compile(objects ${name} SOURCES ${G_SOURCES} INCLUDES ${G_INCLUDES} DEFINES ${G_DEFINES})
  set(elf ${CMAKE_CURRENT_BINARY_DIR}/${name}.elf)
  set(libs)
  set(lib_targets)
  foreach(lib ${G_LIBRARIES})
    get_property(path GLOBAL PROPERTY VIRTSCOPE_GUEST_LIB_${lib})
    list(APPEND libs ${path})
    list(APPEND lib_targets ${lib})
  endforeach()
  set(script)
  set(script_dep)
  if(G_LINKER_SCRIPT)
    set(script -T ${PROJECT_SOURCE_DIR}/${G_LINKER_SCRIPT})
    set(script_dep ${PROJECT_SOURCE_DIR}/${G_LINKER_SCRIPT})
  endif()
  add_custom_command(
    OUTPUT ${elf}
    COMMAND ${VIRTSCOPE_LD} -m elf_i386 -static -nostdlib --build-id=none -z noexecstack ${VIRTSCOPE_LD_QUIET}
            -e _start ${script} -o ${elf} ${objects} ${libs}
    DEPENDS ${objects} ${libs} ${lib_targets} ${script_dep}
    COMMENT "Linking guest ${name}"
    VERBATIM)
  add_custom_target(${name} ALL DEPENDS ${elf})
  set(${name}_PATH ${elf} PARENT_SCOPE)
endfunction()
