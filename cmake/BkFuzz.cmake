# libFuzzer targets: one executable per tests/fuzz/*.c (each defines
# LLVMFuzzerTestOneInput), linked with an instrumented static copy of the
# library (so bk__ internals are reachable too). Outputs go to <build>/fuzz/.
if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "BK_FUZZ=ON needs clang (configure with CC=clang)")
endif()

file(GLOB BK_FUZZ_SOURCES CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/tests/fuzz/*.c")
if(NOT BK_FUZZ_SOURCES)
  message(STATUS "BK_FUZZ: no tests/fuzz/*.c, no fuzz targets")
  return()
endif()

set(BK_FUZZ_COMMON_FLAGS -fno-omit-frame-pointer -fno-sanitize-recover=all -g)

add_library(backend_fuzz STATIC ${BK_SOURCES})
bk_library_setup(backend_fuzz backend_fuzz)
set_target_properties(backend_fuzz PROPERTIES OUTPUT_NAME backend_fuzz)
target_compile_options(backend_fuzz PRIVATE
  -fsanitize=fuzzer-no-link,address,undefined ${BK_FUZZ_COMMON_FLAGS})

set(BK_FUZZ_TARGETS "")
foreach(src IN LISTS BK_FUZZ_SOURCES)
  get_filename_component(name "${src}" NAME_WE)
  add_executable(fuzz_${name} "${src}")
  target_include_directories(fuzz_${name} PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}/lib")
  target_compile_definitions(fuzz_${name} PRIVATE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
  target_compile_options(fuzz_${name} PRIVATE
    -fsanitize=fuzzer,address,undefined ${BK_FUZZ_COMMON_FLAGS})
  target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_${name} PRIVATE backend_fuzz)
  set_target_properties(fuzz_${name} PROPERTIES
    OUTPUT_NAME ${name}
    RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/fuzz")
  list(APPEND BK_FUZZ_TARGETS fuzz_${name})
endforeach()
add_custom_target(fuzzers DEPENDS ${BK_FUZZ_TARGETS})
