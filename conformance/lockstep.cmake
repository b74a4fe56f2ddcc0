# Lockstep conformance: the random instruction-stream generator, the lockstep
# driver and the divergence minimizer (oracle-independent; no Capstone here).
target_sources(vs_conformance PRIVATE src/stream_gen.cpp src/lockstep.cpp)
