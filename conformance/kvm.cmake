# The KVM oracle (src/kvm_oracle.cpp): raw /dev/kvm ioctls, so Linux on x86 only.
if(CMAKE_SYSTEM_NAME STREQUAL "Linux" AND CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i[3-6]86)$")
  target_sources(vs_conformance PRIVATE src/kvm_oracle.cpp)
  set(VIRTSCOPE_HAVE_KVM_ORACLE ON CACHE INTERNAL "the KVM oracle is built into vs_conformance")
else()
  set(VIRTSCOPE_HAVE_KVM_ORACLE OFF CACHE INTERNAL "the KVM oracle is built into vs_conformance")
endif()
