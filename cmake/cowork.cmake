# Helpers shared by every CMakeLists.txt in the tree.

# cowork_proto_library(NAME <target> ROOT <import root> PROTOS <files relative to ROOT>
#                      [GRPC] [DEPS <targets>])
# Generates C++ (and gRPC stubs with GRPC) into <build>/gen and wraps them in a static library
# that links protobuf (and grpc++). Import roots: proto/, Debian's googleapis and the source
# tree itself, so a private proto (ROOT ${PROJECT_SOURCE_DIR}, PROTOS libs/x/views.proto) is
# included as "libs/x/views.pb.h".
function(cowork_proto_library)
  cmake_parse_arguments(P "GRPC" "NAME;ROOT" "PROTOS;DEPS" ${ARGN})
  set(out ${CMAKE_BINARY_DIR}/gen)
  file(MAKE_DIRECTORY ${out})
  set(srcs)
  set(hdrs)
  set(import_args -I${COWORK_PROTO_ROOT} -I${COWORK_GOOGLEAPIS_ROOT} -I${PROJECT_SOURCE_DIR}
                  -I${Protobuf_INCLUDE_DIRS})
  foreach(proto ${P_PROTOS})
    get_filename_component(dir ${proto} DIRECTORY)
    get_filename_component(stem ${proto} NAME_WE)
    set(abs ${P_ROOT}/${proto})
    set(gen ${out}/${dir}/${stem}.pb.cc ${out}/${dir}/${stem}.pb.h)
    set(cmd_args --cpp_out=${out})
    if(P_GRPC)
      list(APPEND gen ${out}/${dir}/${stem}.grpc.pb.cc ${out}/${dir}/${stem}.grpc.pb.h)
      list(APPEND cmd_args --grpc_out=${out} --plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN})
    endif()
    add_custom_command(
      OUTPUT ${gen}
      COMMAND ${Protobuf_PROTOC_EXECUTABLE} ${import_args} ${cmd_args} ${abs}
      DEPENDS ${abs}
      COMMENT "protoc ${proto}"
      VERBATIM)
    list(APPEND srcs ${gen})
  endforeach()
  add_library(${P_NAME} STATIC ${srcs})
  target_include_directories(${P_NAME} PUBLIC ${out})
  target_link_libraries(${P_NAME} PUBLIC protobuf::libprotobuf ${P_DEPS})
  if(P_GRPC)
    target_link_libraries(${P_NAME} PUBLIC gRPC::grpc++)
  endif()
  target_compile_options(${P_NAME} PRIVATE -w)
endfunction()

# cowork_test(<name> SOURCES <files> DEPS <targets> [LABELS <labels>] [RUN_SERIAL])
# A GoogleTest binary registered with ctest, test by test. RUN_SERIAL: its tests run with no
# other test beside them (they load the machine on purpose).
function(cowork_test name)
  cmake_parse_arguments(T "RUN_SERIAL" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set(props TIMEOUT ${T_TIMEOUT} ENVIRONMENT "COWORK_BIN_DIR=${CMAKE_BINARY_DIR}/bin")
  if(T_LABELS)
    list(APPEND props LABELS "${T_LABELS}")
  endif()
  if(T_RUN_SERIAL)
    list(APPEND props RUN_SERIAL TRUE)
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ${props})
endfunction()
