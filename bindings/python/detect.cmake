# detect.cmake - included by the top-level CMakeLists.txt before its
# BK_BUILD_PYTHON option: finds SWIG 4 and a Python 3 with headers, and sets
# BK_PYTHON_FOUND (the option's default).
#
# Which Python: the one in Python3_EXECUTABLE when given (-DPython3_EXECUTABLE=...),
# else Debian's /usr/bin/python3 when it exists (a pyenv/venv python earlier in
# PATH would otherwise win, and the module only loads in the interpreter it
# was built for), else whatever FindPython3 finds.
if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python3_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "Python the binding is built for")
endif()
find_package(Python3 COMPONENTS Interpreter Development.Module QUIET)
find_package(SWIG 4.0 COMPONENTS python QUIET)
if(Python3_Development.Module_FOUND AND SWIG_FOUND)
  set(BK_PYTHON_FOUND ON)
else()
  set(BK_PYTHON_FOUND OFF)
endif()
