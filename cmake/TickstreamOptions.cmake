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
add_library(tickstream::warnings ALIAS tickstream_warnings)

# tickstream::sanitizers: maps TICKSTREAM_SANITIZE onto compile and link flags.
add_library(tickstream_sanitizers INTERFACE)
if(TICKSTREAM_SANITIZE)
  string(REPLACE ";" "," _ts_san "${TICKSTREAM_SANITIZE}")
  target_compile_options(tickstream_sanitizers INTERFACE
    -fsanitize=${_ts_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(tickstream_sanitizers INTERFACE -fsanitize=${_ts_san})
  # GCC 12's -Wmaybe-uninitialized gives false positives inside libstdc++ (<regex>, <functional>)
  # under ASan instrumentation; the Release build keeps the warning as an error.
  target_compile_options(tickstream_sanitizers INTERFACE -Wno-maybe-uninitialized)
endif()
add_library(tickstream::sanitizers ALIAS tickstream_sanitizers)

# Applies our warning and sanitizer policy to one of our own targets.
function(tickstream_target_defaults target)
  target_link_libraries(${target} PRIVATE tickstream::warnings tickstream::sanitizers)
endfunction()
