# Cross build for windows-x86_64 with Debian's mingw-w64 (gcc-/g++-mingw-w64-x86-64).
# The -posix flavour of the compilers: OpenMP (libgomp) needs the winpthreads thread model.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(CONV4J_CROSS_PREFIX x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${CONV4J_CROSS_PREFIX}-gcc-posix)
set(CMAKE_CXX_COMPILER ${CONV4J_CROSS_PREFIX}-g++-posix)
set(CMAKE_RC_COMPILER ${CONV4J_CROSS_PREFIX}-windres)

# Win64 only guarantees 16-byte stack alignment and GCC does not realign for spilled __m256
# values: aligned 32-byte moves to the stack would fault in the AVX2 kernels. The assembler
# rewrites them as unaligned moves (same speed on aligned data).
set(CMAKE_C_FLAGS_INIT "-Wa,-muse-unaligned-vector-move")
set(CMAKE_CXX_FLAGS_INIT "-Wa,-muse-unaligned-vector-move")

set(CMAKE_FIND_ROOT_PATH /usr/${CONV4J_CROSS_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
