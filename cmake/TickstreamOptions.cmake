# tickstream::warnings: warnings are errors in our own code (dependencies are SYSTEM includes).
add_library(tickstream_warnings INTERFACE)
target_compile_options(tickstream_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
  -Woverloaded-virtual -Wimplicit-fallthrough -Werror)
# GCC 12 reports -Wrestrict inside libstdc++ for ordinary std::string concatenation at -O2/-O3
# (GCC bug 105651, fixed in GCC 13): a false positive in the library, not in our code.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(tickstream_warnings INTERFACE -Wno-restrict)
endif()
# Clang 14 in C++20 mode reports -Wambiguous-reversed-operator at every comparison of RapidJSON
# 1.1.0 (Debian 12) member iterators: the library declares those operators as members taking the
# other constness, so the reversed candidate looks as good; the overload chosen is the intended one
# (GCC agrees without a word). A defect of that header, not of our code.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  target_compile_options(tickstream_warnings INTERFACE -Wno-ambiguous-reversed-operator)
endif()
add_library(tickstream::warnings ALIAS tickstream_warnings)

# TICKSTREAM_FUZZ (clang only): ASan+UBSan on everything, plus libFuzzer's coverage
# instrumentation (-fsanitize=fuzzer-no-link) on every target of ours through
# tickstream::sanitizers; the fuzz executables also link tickstream::fuzzer (libFuzzer's main).
if(TICKSTREAM_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "TICKSTREAM_FUZZ needs clang and libFuzzer: -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang")
  endif()
  if(TICKSTREAM_SANITIZE AND NOT TICKSTREAM_SANITIZE STREQUAL "address;undefined")
    message(FATAL_ERROR "TICKSTREAM_FUZZ builds with TICKSTREAM_SANITIZE=address;undefined, not '${TICKSTREAM_SANITIZE}'")
  endif()
  set(TICKSTREAM_SANITIZE "address;undefined")
endif()

# tickstream::sanitizers: maps TICKSTREAM_SANITIZE onto compile and link flags.
add_library(tickstream_sanitizers INTERFACE)
if(TICKSTREAM_SANITIZE)
  string(REPLACE ";" "," _ts_san "${TICKSTREAM_SANITIZE}")
  # _GLIBCXX_ASSERTIONS: the standard library's own checks (an empty optional dereferenced, an index
  # past a vector's end), which neither sanitizer sees; no change of ABI.
  target_compile_options(tickstream_sanitizers INTERFACE
    -fsanitize=${_ts_san} -fno-omit-frame-pointer -fno-sanitize-recover=all -D_GLIBCXX_ASSERTIONS)
  target_link_options(tickstream_sanitizers INTERFACE -fsanitize=${_ts_san})
  # GCC 12's -Wmaybe-uninitialized gives false positives inside libstdc++ (<regex>, <functional>)
  # under ASan instrumentation; the Release build keeps the warning as an error.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(tickstream_sanitizers INTERFACE -Wno-maybe-uninitialized)
  endif()
endif()
if(TICKSTREAM_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # Clang's pointer-overflow check reports one known case inside RapidJSON 1.1.0's headers
  # (Debian 12): it is recoverable so that tests/ubsan.supp can silence that one report; with
  # UBSAN_OPTIONS=halt_on_error=1 (scripts/test, scripts/fuzz) every other one still stops the run.
  target_compile_options(tickstream_sanitizers INTERFACE -fsanitize-recover=pointer-overflow)
endif()
if(TICKSTREAM_FUZZ)
  target_compile_options(tickstream_sanitizers INTERFACE -fsanitize=fuzzer-no-link)
endif()
add_library(tickstream::sanitizers ALIAS tickstream_sanitizers)

# tickstream::fuzzer: libFuzzer's driver and main, for the fuzz executables only (tests/fuzz).
add_library(tickstream_fuzzer INTERFACE)
if(TICKSTREAM_FUZZ)
  target_compile_options(tickstream_fuzzer INTERFACE -fsanitize=fuzzer)
  target_link_options(tickstream_fuzzer INTERFACE -fsanitize=fuzzer)
endif()
add_library(tickstream::fuzzer ALIAS tickstream_fuzzer)

# Applies our warning and sanitizer policy to one of our own targets.
function(tickstream_target_defaults target)
  target_link_libraries(${target} PRIVATE tickstream::warnings tickstream::sanitizers)
endfunction()

# Under the sanitizers, the files that are mostly Boost.Beast's asynchronous machinery (WebSocket and
# HTTP streams, TLS) build at -O0: at -O1 each takes minutes, and what they do in the tests is wait
# on sockets. Everything else keeps the build type's optimization. Paths relative to the caller.
#
# COLD: files whose I/O is one connection that is never the bottleneck (an upstream feed's client,
# the test and command-line WebSocket client) build at -O1 in optimized trees too: Beast's
# templates cost the most to optimize there (ws_source.cpp: ~27 s at -O1 against ~40 s at -O3).
function(tickstream_beast_heavy_sources)
  cmake_parse_arguments(ARG "COLD" "" "" ${ARGN})
  if(TICKSTREAM_SANITIZE)
    set_source_files_properties(${ARG_UNPARSED_ARGUMENTS} DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR} PROPERTIES COMPILE_OPTIONS -O0)
  elseif(ARG_COLD AND CMAKE_BUILD_TYPE MATCHES "^(Release|RelWithDebInfo|MinSizeRel)$")
    set_source_files_properties(${ARG_UNPARSED_ARGUMENTS} DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR} PROPERTIES COMPILE_OPTIONS -O1)
  endif()
endfunction()
