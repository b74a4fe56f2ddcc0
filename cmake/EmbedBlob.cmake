# cmake -DBIN=file -DOUT=file.cpp -DNAME=symbol -P EmbedBlob.cmake
file(READ ${BIN} hex HEX)
string(LENGTH "${hex}" len)
math(EXPR size "${len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT} "// Generated from a guest assembly program by cmake/EmbedBlob.cmake.\n"
  "extern const unsigned char ${NAME}[];\nextern const unsigned ${NAME}_size;\n"
  "const unsigned char ${NAME}[] = {${bytes}0};\nconst unsigned ${NAME}_size = ${size};\n")
