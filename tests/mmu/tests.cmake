# MMU tests: unit tests of the walk, protection, A/D bits and the TLB model
# against hand-built page tables, and guest programs that turn paging on and
# run on a bare CPU with the MMU attached.
set(VIRTSCOPE_MMU_TEST_BLOBS)
virtscope_guest_blob(VIRTSCOPE_MMU_TEST_BLOBS guest_paging tests/mmu/guest/paging.S 0x10000)
virtscope_test(mmu_tests
  mmu/mmu_test.cpp
  mmu/tlb_test.cpp
  mmu/guest_test.cpp
  mmu/nested_test.cpp
  ${VIRTSCOPE_MMU_TEST_BLOBS})
target_link_libraries(mmu_tests PRIVATE vs_mmu vs_cpu vs_trace)
