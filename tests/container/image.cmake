# Container images (docs/container-sim/images.md): sha256 vectors, ustar
# archives, layer digests, recipes and the local image store. Host-side
# only: no guest programs, no emulated CPU. The tests make their recipes
# and build contexts in a temporary directory.
virtscope_test(container_image_tests
  container/image_test.cpp
  container/image_test_recipe.cpp
  container/image_test_store.cpp)
target_link_libraries(container_image_tests PRIVATE vs_container_image vs_test_support)
