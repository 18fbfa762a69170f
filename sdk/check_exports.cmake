# cmake -DNM=nm -DLIB=libkleidi.so -DHEADER=kleidi.h -P check_exports.cmake
#
# Fails unless the dynamic symbols the library defines are exactly the
# functions kleidi.h declares with KL_EXPORT: nothing internal leaks (the
# build uses -fvisibility=hidden), and no export was forgotten.
cmake_minimum_required(VERSION 3.25)	# IN_LIST

foreach(v NM LIB HEADER)
	if(NOT DEFINED ${v})
		message(FATAL_ERROR "check_exports: ${v} not given")
	endif()
endforeach()

execute_process(COMMAND ${NM} -D --defined-only ${LIB}
	OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "check_exports: ${NM} failed on ${LIB}")
endif()
string(REPLACE "\n" ";" lines "${out}")
set(exported)
foreach(line IN LISTS lines)
	if(line MATCHES "^[0-9a-fA-F]+ [A-Za-z] ([^ ]+)$")
		list(APPEND exported "${CMAKE_MATCH_1}")
	endif()
endforeach()

file(READ ${HEADER} header)
string(REGEX MATCHALL "KL_EXPORT[^(;{}]*[ *]kl_[a-z0-9_]+\\("
	decls "${header}")
set(declared)
foreach(d IN LISTS decls)
	string(REGEX REPLACE ".*[ *](kl_[a-z0-9_]+)\\($" "\\1" name "${d}")
	list(APPEND declared "${name}")
endforeach()
list(LENGTH declared ndeclared)
if(ndeclared LESS 10)
	message(FATAL_ERROR "check_exports: found only ${ndeclared} "
		"KL_EXPORT declarations in ${HEADER}")
endif()

set(bad)
foreach(sym IN LISTS exported)
	if(NOT sym IN_LIST declared)
		list(APPEND bad "exported but not in kleidi.h: ${sym}")
	endif()
endforeach()
foreach(name IN LISTS declared)
	if(NOT name IN_LIST exported)
		list(APPEND bad "declared but not exported: ${name}")
	endif()
endforeach()
if(bad)
	string(REPLACE ";" "\n  " bad "${bad}")
	message(FATAL_ERROR "check_exports:\n  ${bad}")
endif()
list(LENGTH exported n)
message(STATUS "check_exports: ${n} symbols, all kl_* from kleidi.h")
