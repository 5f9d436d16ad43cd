# bk_write_pc(<in> <out>): expand pkgconfig/backend.pc.in for the prefix in
# CMAKE_INSTALL_PREFIX. Used at configure time and again at install time (so
# that `cmake --install <build> --prefix <p>` writes a .pc pointing into <p>).
# Inputs: PROJECT_VERSION, BK_PC_LIBDIR, BK_PC_INCLUDEDIR (relative to the
# prefix, or absolute).
function(bk_write_pc in out)
  set(BK_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  foreach(kind LIBDIR INCLUDEDIR)
    if(IS_ABSOLUTE "${BK_PC_${kind}}")
      set(BK_PC_${kind}_FULL "${BK_PC_${kind}}")
    else()
      set(BK_PC_${kind}_FULL "\${prefix}/${BK_PC_${kind}}")
    endif()
  endforeach()
  configure_file("${in}" "${out}" @ONLY)
endfunction()
