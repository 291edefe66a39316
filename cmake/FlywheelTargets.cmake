# One way to make each kind of target. Every library, service, test and
# benchmark of the project goes through these functions, so warnings, include
# layout, aliases and test labels are the same everywhere.

include(GoogleTest)

set(FLYWHEEL_WARNINGS -Wall -Wextra -Werror -Wno-missing-field-initializers)

function(_flywheel_common target)
  target_compile_options(${target} PRIVATE ${FLYWHEEL_WARNINGS})
  target_compile_features(${target} PUBLIC cxx_std_20)
endfunction()

# flywheel_library(<name> SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
# Builds libs/<name>: public headers in include/, code in src/. The target is
# flywheel_<name> with the alias flywheel::<name>.
function(flywheel_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  set(target flywheel_${name})
  if(ARG_SOURCES)
    add_library(${target} STATIC ${ARG_SOURCES})
    target_include_directories(${target}
      PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
      PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
    target_link_libraries(${target} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
    _flywheel_common(${target})
  else()
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE ${CMAKE_CURRENT_SOURCE_DIR}/include)
    target_link_libraries(${target} INTERFACE ${ARG_DEPS})
  endif()
  add_library(flywheel::${name} ALIAS ${target})
endfunction()

# flywheel_private_proto(<target> SOURCES ...)
# C++ messages from .proto files that are not contracts: a library's own
# storage format, or messages for its tests. Headers are included by file
# name (`stored_event.pb.h`).
function(flywheel_private_proto target)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
  set(gen ${CMAKE_CURRENT_BINARY_DIR}/gen)
  file(MAKE_DIRECTORY ${gen})
  add_library(${target} STATIC ${ARG_SOURCES})
  target_include_directories(${target} PUBLIC ${gen})
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf)
  protobuf_generate(TARGET ${target} LANGUAGE cpp APPEND_PATH PROTOC_OUT_DIR ${gen})
endfunction()

# Writes default_policy.cc for flywheel_service(DEFAULT_POLICY) from
# cmake/default_policy.cc.in; returns the generated file and the compile
# definition that names the policy file.
function(_flywheel_default_policy name file out_source out_definition)
  get_filename_component(file ${file} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  if(NOT EXISTS ${file})
    message(FATAL_ERROR "flywheel_service(${name}): DEFAULT_POLICY ${file} does not exist")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${file})
  file(READ ${file} FLYWHEEL_POLICY_YAML)
  string(FIND "${FLYWHEEL_POLICY_YAML}" ")flywheel_policy" delimiter)
  if(NOT delimiter EQUAL -1)
    message(FATAL_ERROR "flywheel_service(${name}): ${file} contains \")flywheel_policy\", "
      "which would end the raw string it is compiled into")
  endif()
  string(MAKE_C_IDENTIFIER ${name} FLYWHEEL_POLICY_NAMESPACE)
  string(TOUPPER ${FLYWHEEL_POLICY_NAMESPACE} upper)
  file(RELATIVE_PATH FLYWHEEL_POLICY_SOURCE ${CMAKE_SOURCE_DIR} ${file})
  set(source ${CMAKE_CURRENT_BINARY_DIR}/default_policy.cc)
  configure_file(${CMAKE_CURRENT_FUNCTION_LIST_DIR}/default_policy.cc.in ${source} @ONLY)
  set(${out_source} ${source} PARENT_SCOPE)
  set(${out_definition} FLYWHEEL_${upper}_DEFAULT_POLICY_PATH="${file}" PARENT_SCOPE)
endfunction()

# flywheel_service(<name> SOURCES ... [DEPS ...] [DEFAULT_POLICY <file>] [LIBRARY_ONLY])
# Builds services/<name>: a library flywheel_<name>_service with the logic
# (what tests link) and the executable flywheel-<name> from main.cc alone.
# LIBRARY_ONLY builds the library alone, for a service whose domain code
# exists before its main.cc does.
#
# DEFAULT_POLICY compiles the shipped policy in, so the service runs without a
# policy file and the YAML file stays the one source: the library gets
# `const std::string& flywheel::<name>::DefaultPolicyYaml()`, declared by the
# service in src/policy_parser.h, editing the file re-runs configure, and whatever
# links the library (its tests) sees the file's path as
# FLYWHEEL_<NAME>_DEFAULT_POLICY_PATH. A `-` in <name> becomes `_` in both.
function(flywheel_service name)
  cmake_parse_arguments(ARG "LIBRARY_ONLY" "DEFAULT_POLICY" "SOURCES;DEPS" ${ARGN})
  set(lib flywheel_${name}_service)
  if(ARG_DEFAULT_POLICY)
    _flywheel_default_policy(${name} ${ARG_DEFAULT_POLICY} policy_source policy_definition)
    list(APPEND ARG_SOURCES ${policy_source})
  endif()
  add_library(${lib} STATIC ${ARG_SOURCES})
  target_include_directories(${lib} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(${lib} PUBLIC ${ARG_DEPS})
  _flywheel_common(${lib})
  if(ARG_DEFAULT_POLICY)
    target_compile_definitions(${lib} INTERFACE ${policy_definition})
  endif()
  add_library(flywheel::${name}_service ALIAS ${lib})
  if(ARG_LIBRARY_ONLY)
    return()
  endif()

  add_executable(flywheel-${name} main.cc)
  target_link_libraries(flywheel-${name} PRIVATE ${lib})
  _flywheel_common(flywheel-${name})
  # `cmake --install` lays out what an image ships: bin/flywheel-<name> and
  # share/flywheel/<name>/policy.yaml (the compiled-in default, for an
  # operator to copy and change).
  install(TARGETS flywheel-${name} RUNTIME DESTINATION bin)
  if(ARG_DEFAULT_POLICY)
    install(FILES ${ARG_DEFAULT_POLICY} DESTINATION share/flywheel/${name} RENAME policy.yaml)
  endif()
endfunction()

# flywheel_test(<name> LABEL unit|integration SOURCES ... [DEPS ...])
# A GoogleTest executable registered with CTest per test case. Unit tests need
# nothing running. Integration tests read FLYWHEEL_TEST_KAFKA and
# FLYWHEEL_TEST_REDIS and fail, never skip, when those are not set.
function(flywheel_test name)
  cmake_parse_arguments(ARG "" "LABEL" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_LABEL MATCHES "^(unit|integration)$")
    message(FATAL_ERROR "flywheel_test(${name}): LABEL must be unit or integration")
  endif()
  if(NOT FLYWHEEL_BUILD_TESTS)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  _flywheel_common(${name})
  if(ARG_LABEL STREQUAL "integration")
    set(timeout 120)
  else()
    set(timeout 30)
  endif()
  gtest_discover_tests(${name}
    PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${timeout}
    DISCOVERY_TIMEOUT 30)
endfunction()

# flywheel_benchmark(<name> SOURCES ... [DEPS ...])
function(flywheel_benchmark name)
  if(NOT FLYWHEEL_BUILD_BENCHMARKS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} benchmark::benchmark_main)
  _flywheel_common(${name})
endfunction()

# flywheel_tool(<name> SOURCES ... [DEPS ...])
# A command-line program of the project's own (load generators, operator
# tools); not installed with the services.
function(flywheel_tool name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  _flywheel_common(${name})
endfunction()
