# bk_import_dep(<name> HEADER <header> PKG <pkg-config module> LIBS <names...>
#               [PATH_SUFFIXES <dirs...>])
#
# Finds a C library and defines the IMPORTED target bk_dep::<name>: through
# pkg-config when available (its include and library dirs are used as hints),
# else by a plain header and library search. Sets bk_dep_<name>_FOUND in the
# caller's scope. Used by the build (cmake/BkDeps.cmake) and, for the private
# dependencies of the static library, by the installed backendConfig.cmake.
function(bk_import_dep name)
  cmake_parse_arguments(A "" "HEADER;PKG" "LIBS;PATH_SUFFIXES" ${ARGN})
  if(TARGET bk_dep::${name})
    set(bk_dep_${name}_FOUND TRUE PARENT_SCOPE)
    return()
  endif()
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(_bk_pc_${name} QUIET ${A_PKG})
  endif()
  find_path(BK_DEP_${name}_INCLUDE_DIR ${A_HEADER}
    HINTS ${_bk_pc_${name}_INCLUDE_DIRS} PATH_SUFFIXES ${A_PATH_SUFFIXES})
  find_library(BK_DEP_${name}_LIBRARY NAMES ${A_LIBS}
    HINTS ${_bk_pc_${name}_LIBRARY_DIRS})
  mark_as_advanced(BK_DEP_${name}_INCLUDE_DIR BK_DEP_${name}_LIBRARY)
  if(BK_DEP_${name}_INCLUDE_DIR AND BK_DEP_${name}_LIBRARY)
    add_library(bk_dep::${name} UNKNOWN IMPORTED)
    set_target_properties(bk_dep::${name} PROPERTIES
      IMPORTED_LOCATION "${BK_DEP_${name}_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${BK_DEP_${name}_INCLUDE_DIR}")
    set(bk_dep_${name}_FOUND TRUE PARENT_SCOPE)
  else()
    set(bk_dep_${name}_FOUND FALSE PARENT_SCOPE)
  endif()
endfunction()
