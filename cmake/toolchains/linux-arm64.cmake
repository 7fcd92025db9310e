# Cross build for linux-arm64 (aarch64) with Debian's gcc-aarch64-linux-gnu / g++-aarch64-linux-gnu.
# The x86-64 gate in native/CMakeLists.txt sees CMAKE_SYSTEM_PROCESSOR=aarch64 and leaves the
# AVX2 sources out; the portable kernels serve. ctest runs the test programs through
# qemu-aarch64-static with the cross sysroot as its library root (binfmt_misc is not needed).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CONV4J_CROSS_PREFIX aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${CONV4J_CROSS_PREFIX}-gcc)
set(CMAKE_CXX_COMPILER ${CONV4J_CROSS_PREFIX}-g++)

set(CMAKE_FIND_ROOT_PATH /usr/${CONV4J_CROSS_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

find_program(CONV4J_QEMU_AARCH64 qemu-aarch64-static)
if(CONV4J_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${CONV4J_QEMU_AARCH64} -L /usr/${CONV4J_CROSS_PREFIX})
endif()
