# Private dependencies of the library's modules (storage engines, crypto,
# HTTP), detected from the sources: when a lib/*.c includes <sqlite3.h>,
# SQLite becomes a dependency, and so on. They never appear in the public
# headers, so they are PRIVATE: linked into libbackend.so, listed in
# `Requires.private` of backend.pc, and looked up by backendConfig.cmake only
# for backend::backend_static. A new engine = one more bk_dep() line below
# (and its Debian package in scripts/deps.sh).
#
# Outputs: BK_PRIVATE_DEP_TARGETS (bk_dep::<name> targets to link),
#          BK_PC_REQUIRES_PRIVATE (for backend.pc),
#          BK_CONFIG_PRIVATE_DEPS (lines for backendConfig.cmake),
#          bk_link_used_deps(<target> <sources...>) for tests/tools that
#          include a dependency's header themselves.
include(BkImportDep)

# All `#include <...>` lines of the library sources. Editing a source
# re-runs this scan (configure is quick).
set(BK_LIB_INCLUDES "")
foreach(f IN LISTS BK_SOURCES)
  file(STRINGS "${f}" _bk_lines REGEX "^[ \t]*#[ \t]*include[ \t]*<")
  list(APPEND BK_LIB_INCLUDES ${_bk_lines})
endforeach()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${BK_SOURCES})

set(BK_PRIVATE_DEP_TARGETS "")
set(BK_PC_REQUIRES_PRIVATE "")
set(BK_CONFIG_PRIVATE_DEPS "")
set(BK_KNOWN_DEPS "")

# bk_dep(<name> <debian package> HEADER <h> PKG <pc> LIBS <libs> [PATH_SUFFIXES ...])
macro(bk_dep name deb)
  set(_bk_args ${ARGN})
  cmake_parse_arguments(_bk "" "HEADER;PKG" "LIBS;PATH_SUFFIXES" ${ARGN})
  string(REPLACE "." "\\." _bk_re "${_bk_HEADER}")
  list(APPEND BK_KNOWN_DEPS "${name}|${_bk_re}")
  set(BK_DEP_ARGS_${name} ${_bk_args})
  if(BK_LIB_INCLUDES MATCHES "<${_bk_re}>")
    bk_import_dep(${name} ${_bk_args})
    if(NOT bk_dep_${name}_FOUND)
      message(FATAL_ERROR "lib/ includes <${_bk_HEADER}>: install ${deb} (scripts/deps.sh)")
    endif()
    message(STATUS "libbackend uses ${name}: ${BK_DEP_${name}_LIBRARY}")
    list(APPEND BK_PRIVATE_DEP_TARGETS bk_dep::${name})
    list(APPEND BK_PC_REQUIRES_PRIVATE ${_bk_PKG})
    string(REPLACE ";" " " _bk_argstr "${_bk_args}")
    string(APPEND BK_CONFIG_PRIVATE_DEPS "bk_import_dep(${name} ${_bk_argstr})\n")
  endif()
endmacro()

bk_dep(sqlite3 libsqlite3-dev         HEADER sqlite3.h   PKG sqlite3   LIBS sqlite3)
bk_dep(sodium  libsodium-dev          HEADER sodium.h    PKG libsodium LIBS sodium)
bk_dep(curl    libcurl4-openssl-dev   HEADER curl/curl.h PKG libcurl   LIBS curl)
bk_dep(pq      libpq-dev              HEADER libpq-fe.h  PKG libpq     LIBS pq
       PATH_SUFFIXES postgresql)

string(REPLACE ";" " " BK_PC_REQUIRES_PRIVATE "${BK_PC_REQUIRES_PRIVATE}")

# Link a test/tool with the dependencies whose headers its sources include
# (for example a storage test that opens the SQLite file directly).
function(bk_link_used_deps tgt)
  set(inc "")
  foreach(f IN LISTS ARGN)
    file(STRINGS "${f}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*<")
    list(APPEND inc ${lines})
  endforeach()
  foreach(entry IN LISTS BK_KNOWN_DEPS)
    string(REPLACE "|" ";" entry "${entry}")
    list(GET entry 0 name)
    list(GET entry 1 re)
    if(inc MATCHES "<${re}>")
      bk_import_dep(${name} ${BK_DEP_ARGS_${name}})
      if(NOT bk_dep_${name}_FOUND)
        message(FATAL_ERROR "${tgt} includes <${re}> but ${name} was not found")
      endif()
      target_link_libraries(${tgt} PRIVATE bk_dep::${name})
    endif()
  endforeach()
endfunction()
