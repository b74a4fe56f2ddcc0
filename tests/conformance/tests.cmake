# Conformance suites (conformance/): one block per oracle or tool, each added
# by its owner. Included from tests/CMakeLists.txt.

# --- native oracle (conformance/src/native_oracle.cpp) ---
virtscope_test(native_oracle_test ${CMAKE_CURRENT_LIST_DIR}/native_oracle_test.cpp)
target_link_libraries(native_oracle_test PRIVATE vs_conformance)
# --- end native oracle ---

# --- kvm oracle (conformance/src/kvm_oracle.cpp): plumbing on any usable /dev/kvm, silicon readiness ---
if(VIRTSCOPE_HAVE_KVM_ORACLE)
  virtscope_test(kvm_oracle_test ${CMAKE_CURRENT_LIST_DIR}/kvm_oracle_test.cpp)
  target_link_libraries(kvm_oracle_test PRIVATE vs_conformance)
endif()
# --- end kvm oracle ---

# --- unicorn oracle (conformance/src/unicorn_oracle.cpp): every StartMode and each documented Unicorn quirk ---
if(UNICORN_FOUND)
  virtscope_test(unicorn_oracle_test ${CMAKE_CURRENT_LIST_DIR}/unicorn_oracle_test.cpp)
  target_link_libraries(unicorn_oracle_test PRIVATE vs_conformance)
endif()
# --- end unicorn oracle ---

# --- SingleStepTests runner (conformance/src/sst.cpp, src/json.cpp): JSON reader, synthetic files, full suites ---
virtscope_test(sst_test ${CMAKE_CURRENT_LIST_DIR}/sst_test.cpp)
target_link_libraries(sst_test PRIVATE vs_conformance ZLIB::ZLIB)
target_include_directories(sst_test PRIVATE ${PROJECT_SOURCE_DIR}/conformance/src)
target_compile_definitions(sst_test PRIVATE VIRTSCOPE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
# --- end SingleStepTests runner ---

# --- lockstep driver, stream generator, minimizer (conformance/src/lockstep.cpp, stream_gen.cpp) ---
# Capstone checks the generator's encodings here only; vs_conformance never links it.
virtscope_test(lockstep_test ${CMAKE_CURRENT_LIST_DIR}/lockstep_test.cpp)
target_link_libraries(lockstep_test PRIVATE vs_conformance PkgConfig::CAPSTONE)
# --- end lockstep ---

# --- interpreter against every oracle (short campaigns) ---
virtscope_test(interp_lockstep_test conformance/interp_lockstep_test.cpp)
target_link_libraries(interp_lockstep_test PRIVATE vs_conformance)

# --- the threaded engine against single-stepping (same programs) ---
virtscope_test(threaded_consistency_test conformance/threaded_consistency_test.cpp)
target_link_libraries(threaded_consistency_test PRIVATE vs_conformance)
