# Helpers every folder uses, so that each CMakeLists.txt is a few declarative lines.

# berth_library(NAME SOURCES a.cc ... DEPS other_lib ...): static library berth_NAME,
# its include root is src/ ("#include \"dns/wire/name.h\"").
function(berth_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(berth_${name} STATIC ${ARG_SOURCES})
  target_include_directories(berth_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(berth_${name} PUBLIC ${ARG_DEPS})
endfunction()

# berth_test(NAME SOURCES x_test.cc ... DEPS lib ...): one GoogleTest binary, each test
# registered with CTest under the prefix NAME.
function(berth_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(BERTH_FUZZ)
    return()
  endif()
  add_executable(test_${name} ${ARG_SOURCES})
  target_link_libraries(test_${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  gtest_discover_tests(test_${name} TEST_PREFIX "${name}." DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS unit)
endfunction()

# berth_fuzz(NAME SOURCE target.cc DEPS lib ...): a libFuzzer target whose seed corpus lives in
# fuzz/corpus/NAME. The normal build links it to a replay main and CTest replays the corpus;
# with -DBERTH_FUZZ=ON (clang) it links to libFuzzer for real fuzzing (bin/fuzz_NAME).
function(berth_fuzz name)
  cmake_parse_arguments(ARG "" "SOURCE" "DEPS" ${ARGN})
  if(BERTH_FUZZ)
    add_executable(fuzz_${name} ${ARG_SOURCE})
    target_link_libraries(fuzz_${name} PRIVATE ${ARG_DEPS})
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(fuzz_replay_${name} ${ARG_SOURCE} ${PROJECT_SOURCE_DIR}/fuzz/replay_main.cc)
    target_link_libraries(fuzz_replay_${name} PRIVATE ${ARG_DEPS})
    add_test(NAME fuzz_replay.${name}
             COMMAND fuzz_replay_${name} ${PROJECT_SOURCE_DIR}/fuzz/corpus/${name})
    set_tests_properties(fuzz_replay.${name} PROPERTIES LABELS fuzz)
  endif()
endfunction()
