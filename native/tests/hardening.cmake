# Hardening tests (README "Reliability"), registered from native/CMakeLists.txt so that
# tests/CMakeLists.txt stays as the kernel work left it.
# test_guard_pages: mmap + mprotect, or VirtualAlloc + VirtualProtect (tests/test_pages.h).
set(CONV4J_HARDENING_TESTS test_special_values test_guard_pages)

foreach(test_name IN LISTS CONV4J_HARDENING_TESTS)
  add_executable(${test_name} tests/${test_name}.c)
  target_link_libraries(${test_name} PRIVATE conv4j)
  if(UNIX)
    target_link_libraries(${test_name} PRIVATE m)
  endif()
  set_target_properties(${test_name} PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON)
  conv4j_set_warnings(${test_name})
  target_include_directories(${test_name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  add_test(NAME ${test_name} COMMAND ${test_name})
  # Passive OpenMP waits as in tests/CMakeLists.txt; an inherited ISA cap would change coverage.
  set_tests_properties(${test_name} PROPERTIES
                       ENVIRONMENT "OMP_WAIT_POLICY=passive;CONV4J_MAX_ISA=" TIMEOUT 300)
  conv4j_add_config_tests(${test_name})
endforeach()

# The timing program for denormal inputs (README "Reliability"): built, never run by ctest.
add_executable(bench_denormals tests/bench_denormals.c)
target_link_libraries(bench_denormals PRIVATE conv4j)
if(UNIX)
  target_link_libraries(bench_denormals PRIVATE m)
endif()
set_target_properties(bench_denormals PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON)
