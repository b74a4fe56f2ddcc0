# The Unicorn lockstep oracle (src/unicorn_oracle.cpp). Unicorn is a test-only
# dependency (Debian libunicorn-dev, found in cmake/Dependencies.cmake); without
# it vs_conformance simply has no Unicorn oracle and VIRTSCOPE_HAVE_UNICORN is unset.
if(UNICORN_FOUND)
  target_sources(vs_conformance PRIVATE ${CMAKE_CURRENT_LIST_DIR}/src/unicorn_oracle.cpp)
  target_link_libraries(vs_conformance PRIVATE PkgConfig::UNICORN)
  target_compile_definitions(vs_conformance PUBLIC VIRTSCOPE_HAVE_UNICORN=1)
endif()
