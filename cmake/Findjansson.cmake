# Findjansson.cmake - locate jansson and provide the imported target
# jansson::jansson. Installed next to backendConfig.cmake so that consumers of
# backend::backend find jansson the same way the library's build did.
#
# Order: an upstream jansson CMake package (janssonConfig.cmake, which defines
# jansson::jansson), then pkg-config (jansson.pc; Debian ships only this),
# then a plain header/library search.
#
# Sets: jansson_FOUND, jansson_VERSION, JANSSON_INCLUDE_DIR, JANSSON_LIBRARY.

if(TARGET jansson::jansson)
  set(jansson_FOUND TRUE)
  return()
endif()

find_package(jansson CONFIG QUIET)
if(jansson_FOUND AND TARGET jansson::jansson)
  return()
endif()

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_JANSSON QUIET jansson)
endif()

find_path(JANSSON_INCLUDE_DIR jansson.h HINTS ${PC_JANSSON_INCLUDE_DIRS})
find_library(JANSSON_LIBRARY NAMES jansson HINTS ${PC_JANSSON_LIBRARY_DIRS})

if(PC_JANSSON_VERSION)
  set(jansson_VERSION "${PC_JANSSON_VERSION}")
elseif(JANSSON_INCLUDE_DIR AND EXISTS "${JANSSON_INCLUDE_DIR}/jansson.h")
  file(STRINGS "${JANSSON_INCLUDE_DIR}/jansson.h" _bk_jv
    REGEX "^#define[ \t]+JANSSON_VERSION[ \t]+\"[^\"]*\"")
  string(REGEX REPLACE ".*\"([^\"]*)\".*" "\\1" jansson_VERSION "${_bk_jv}")
  unset(_bk_jv)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(jansson
  REQUIRED_VARS JANSSON_LIBRARY JANSSON_INCLUDE_DIR
  VERSION_VAR jansson_VERSION)
mark_as_advanced(JANSSON_INCLUDE_DIR JANSSON_LIBRARY)

if(jansson_FOUND AND NOT TARGET jansson::jansson)
  add_library(jansson::jansson UNKNOWN IMPORTED)
  set_target_properties(jansson::jansson PROPERTIES
    IMPORTED_LOCATION "${JANSSON_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${JANSSON_INCLUDE_DIR}")
endif()
