# Embeds the Lua scripts in C++ at build time: run as `cmake -DOUT_DIR=... -DSCRIPTS=a.lua|b.lua
# -P embed_lua_scripts.cmake`. Writes OUT_DIR/lua_scripts.hpp (one accessor per script, named after
# its file) and OUT_DIR/lua_scripts.cpp (each text as a byte array, so no text can break a literal).
string(REPLACE "|" ";" scripts "${SCRIPTS}")
set(decls "")
set(defs "")
foreach(path IN LISTS scripts)
  get_filename_component(name "${path}" NAME_WE)
  if(NOT name MATCHES "^[a-z][a-z0-9_]*$")
    message(FATAL_ERROR "${path}: a script's file name must be a C++ identifier in snake_case")
  endif()
  file(READ "${path}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n    "
         bytes "${bytes}")
  string(APPEND decls "// common/redis/scripts/${name}.lua\nconst redis_script& ${name}();\n")
  string(APPEND defs "const redis_script& ${name}() {\n"
                     "  static constexpr unsigned char text[${size}] = {\n    ${bytes}};\n"
                     "  static const redis_script script(\"${name}\",\n"
                     "                                   std::string_view(reinterpret_cast<const char*>(text), ${size}));\n"
                     "  return script;\n}\n\n")
endforeach()
set(header "// Generated from common/redis/scripts/*.lua by common/redis/embed_lua_scripts.cmake: do not edit.
#pragma once

#include \"common/redis/redis_script.hpp\"

namespace tickstream::common::lua_scripts {

${decls}
}  // namespace tickstream::common::lua_scripts
")
set(source "// Generated from common/redis/scripts/*.lua by common/redis/embed_lua_scripts.cmake: do not edit.
#include \"common/redis/lua_scripts.hpp\"

#include <string_view>

namespace tickstream::common::lua_scripts {

${defs}}  // namespace tickstream::common::lua_scripts
")
# Written only when changed, so that an unchanged script does not rebuild its users.
foreach(kind hpp cpp)
  if(kind STREQUAL "hpp")
    set(text "${header}")
  else()
    set(text "${source}")
  endif()
  set(out "${OUT_DIR}/lua_scripts.${kind}")
  set(old "")
  if(EXISTS "${out}")
    file(READ "${out}" old)
  endif()
  if(NOT old STREQUAL text)
    file(WRITE "${out}" "${text}")
  endif()
endforeach()
