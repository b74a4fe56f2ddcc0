# The SingleStepTests runner (src/sst.cpp) and the strict JSON reader it uses
# (src/json.cpp). The data files are gzip-compressed: zlib (Debian zlib1g-dev),
# found at top level.
target_sources(vs_conformance PRIVATE ${CMAKE_CURRENT_LIST_DIR}/src/sst.cpp ${CMAKE_CURRENT_LIST_DIR}/src/json.cpp)
target_link_libraries(vs_conformance PRIVATE ZLIB::ZLIB)
