# cmake -DBIN=file -DSIZE=bytes -P CheckSize.cmake: fail unless the file has
# exactly SIZE bytes (the BIOS ROM must fill its 64 KiB window).
file(SIZE ${BIN} actual)
if(NOT actual EQUAL SIZE)
  message(FATAL_ERROR "${BIN} is ${actual} bytes, expected ${SIZE}")
endif()
