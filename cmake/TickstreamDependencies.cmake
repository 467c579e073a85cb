# Every third-party dependency becomes an imported target here, so component CMakeLists only link
# targets. All of them come from Debian 12 packages (scripts/install-deps installs them).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)  # permessage-deflate
find_package(Boost 1.81 REQUIRED COMPONENTS system)
find_package(prometheus-cpp CONFIG REQUIRED)

# hiredis ships a pkg-config file but no CMake target (only its reply parser is used).
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)

# RapidJSON is header-only; Debian's package puts it under /usr/include.
find_path(RAPIDJSON_INCLUDE_DIR rapidjson/document.h REQUIRED)
add_library(tickstream_rapidjson INTERFACE)
target_include_directories(tickstream_rapidjson SYSTEM INTERFACE ${RAPIDJSON_INCLUDE_DIR})
add_library(tickstream::rapidjson ALIAS tickstream_rapidjson)

# Beast and Asio are header-only libraries with an optional compiled part: it is built once, in
# common/asio_beast.cpp, instead of in every file that uses them. The definitions are set for the
# whole tree so that no file compiles them inline by accident (one definition of each function).
# BOOST_ASIO_NO_DEPRECATED keeps us on the current API.
add_compile_definitions(BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION)
add_library(tickstream_beast STATIC ${PROJECT_SOURCE_DIR}/common/asio_beast.cpp)
target_link_libraries(tickstream_beast PUBLIC Boost::headers Boost::system OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
add_library(tickstream::beast ALIAS tickstream_beast)
