# Helpers shared by every CMakeLists.txt in the tree.

# cowork_proto_library(NAME <target> ROOT <import root> PROTOS <files relative to ROOT>
#                      [GRPC] [DEPS <targets>])
# Generates C++ into <build>/gen and wraps it in a static library that links protobuf. With
# GRPC, the messages go into <target>_messages (protobuf only: what a domain/ library may
# link) and <target> adds the gRPC stubs and grpc++ on top. Import roots: proto/, Debian's
# googleapis and the source tree itself, so a private proto (ROOT ${PROJECT_SOURCE_DIR}, PROTOS
# libs/x/views.proto) is included as "libs/x/views.pb.h".
function(cowork_proto_library)
  cmake_parse_arguments(P "GRPC" "NAME;ROOT" "PROTOS;DEPS" ${ARGN})
  set(out ${CMAKE_BINARY_DIR}/gen)
  file(MAKE_DIRECTORY ${out})
  set(messages)
  set(stubs)
  set(import_args -I${COWORK_PROTO_ROOT} -I${COWORK_GOOGLEAPIS_ROOT} -I${PROJECT_SOURCE_DIR}
                  -I${Protobuf_INCLUDE_DIRS})
  foreach(proto ${P_PROTOS})
    get_filename_component(dir ${proto} DIRECTORY)
    get_filename_component(stem ${proto} NAME_WE)
    set(abs ${P_ROOT}/${proto})
    set(gen ${out}/${dir}/${stem}.pb.cc ${out}/${dir}/${stem}.pb.h)
    list(APPEND messages ${gen})
    set(cmd_args --cpp_out=${out})
    if(P_GRPC)
      set(grpc_gen ${out}/${dir}/${stem}.grpc.pb.cc ${out}/${dir}/${stem}.grpc.pb.h)
      list(APPEND gen ${grpc_gen})
      list(APPEND stubs ${grpc_gen})
      list(APPEND cmd_args --grpc_out=${out} --plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN})
    endif()
    add_custom_command(
      OUTPUT ${gen}
      COMMAND ${Protobuf_PROTOC_EXECUTABLE} ${import_args} ${cmd_args} ${abs}
      DEPENDS ${abs}
      COMMENT "protoc ${proto}"
      VERBATIM)
  endforeach()
  set(messages_target ${P_NAME})
  if(P_GRPC)
    set(messages_target ${P_NAME}_messages)
  endif()
  add_library(${messages_target} STATIC ${messages})
  target_include_directories(${messages_target} PUBLIC ${out})
  target_link_libraries(${messages_target} PUBLIC protobuf::libprotobuf ${P_DEPS})
  target_compile_options(${messages_target} PRIVATE -w)
  if(P_GRPC)
    add_library(${P_NAME} STATIC ${stubs})
    target_link_libraries(${P_NAME} PUBLIC ${messages_target} gRPC::grpc++)
    target_compile_options(${P_NAME} PRIVATE -w)
  endif()
endfunction()

# cowork_domain_library(<name> SOURCES <files> DEPS <targets> [PRIVATE_DEPS <targets>])
# A service's domain/ library: pure rules over protobuf messages. It must not reach gRPC,
# RocksDB, Kafka or the network, directly or through what it links: cowork_check_layers()
# lists every domain library's link closure for tests/layers_test.py, which fails on any of
# them.
function(cowork_domain_library name)
  cmake_parse_arguments(D "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} ${D_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${D_DEPS} PRIVATE ${D_PRIVATE_DEPS})
  set_property(GLOBAL APPEND PROPERTY COWORK_DOMAIN_LIBRARIES ${name})
endfunction()

# The targets and libraries `target` links, directly or through other targets.
function(cowork_link_closure target out)
  set(seen)
  set(queue ${target})
  while(queue)
    list(POP_FRONT queue t)
    if(t IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${t})
    if(NOT TARGET ${t})
      continue()
    endif()
    get_target_property(type ${t} TYPE)
    set(props INTERFACE_LINK_LIBRARIES)
    if(NOT type STREQUAL "INTERFACE_LIBRARY")
      list(APPEND props LINK_LIBRARIES)
    endif()
    foreach(prop ${props})
      get_target_property(links ${t} ${prop})
      if(NOT links)
        continue()
      endif()
      foreach(link ${links})
        # $<LINK_ONLY:x> (a static library's private dependency) is still linked.
        string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" link "${link}")
        if(NOT link MATCHES "^\\$<")
          list(APPEND queue ${link})
        endif()
      endforeach()
    endforeach()
  endwhile()
  list(REMOVE_ITEM seen ${target})
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

# Writes <build>/layers.txt, one line per domain library: "<name>: <its link closure>".
function(cowork_check_layers)
  get_property(domains GLOBAL PROPERTY COWORK_DOMAIN_LIBRARIES)
  set(text "")
  foreach(d ${domains})
    cowork_link_closure(${d} closure)
    list(JOIN closure " " joined)
    string(APPEND text "${d}: ${joined}\n")
  endforeach()
  file(WRITE ${CMAKE_BINARY_DIR}/layers.txt "${text}")
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
