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

# Test programs (CONV4J_BUILD_TESTS): -static links libgomp, libwinpthread and libgcc into each
# .exe, as the JNI link does for the DLL, so the tests run with no DLL beside them and exercise
# the same runtime the DLL carries. Only executables: the static library is unaffected.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
# FindOpenMP would name libgomp.dll.a (find_library prefers the import library on MinGW), which
# -static cannot override: point it at the static archive the compiler ships.
if(NOT OpenMP_gomp_LIBRARY)
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libgomp.a
                  OUTPUT_VARIABLE CONV4J_LIBGOMP_A OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(IS_ABSOLUTE "${CONV4J_LIBGOMP_A}" AND EXISTS "${CONV4J_LIBGOMP_A}")
    set(OpenMP_gomp_LIBRARY "${CONV4J_LIBGOMP_A}" CACHE FILEPATH "libgomp, static (toolchain file)")
  endif()
endif()

# ctest runs the .exe files under Wine (Debian's wine64) when it is installed. Set WINEPREFIX to
# a writable folder (created on first use, 10-30 s) and WINEDEBUG=-all to silence the fixme lines;
# -DCONV4J_WINE=OFF registers the tests without an emulator (to run them on Windows itself).
option(CONV4J_WINE "Run the Windows test programs under Wine in ctest" ON)
if(CONV4J_WINE)
  find_program(CONV4J_WINE_PROGRAM NAMES wine wine64)
  if(CONV4J_WINE_PROGRAM)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${CONV4J_WINE_PROGRAM})
  endif()
endif()
