# SLUICE_FUZZ=ON: the libFuzzer build (docs/design/fuzzing.md; `make fuzz` configures it
# in build/fuzz with CC=clang CXX=clang++). Every Sluice library is compiled with
# coverage instrumentation for libFuzzer and with AddressSanitizer +
# UndefinedBehaviorSanitizer; the fuzz targets in fuzz/ add libFuzzer's main
# (-fsanitize=fuzzer). UBSan reports are fatal, so libFuzzer sees them as crashes.
# libstdc++'s assertions (_GLIBCXX_ASSERTIONS: bounds-checked operator[] and friends)
# are on; they do not change the ABI, so the gcc-built Arrow from the pyarrow wheel
# still links. Include this before the libraries are defined.
if(NOT SLUICE_FUZZ)
  return()
endif()
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "SLUICE_FUZZ needs clang (libFuzzer): configure with CC=clang CXX=clang++ "
                      "(scripts/setup_fuzz.sh installs them), not ${CMAKE_CXX_COMPILER_ID}")
endif()
if(SLUICE_SANITIZE)
  message(FATAL_ERROR "SLUICE_FUZZ already sanitizes; leave SLUICE_SANITIZE off")
endif()
set(SLUICE_FUZZ_SANITIZERS address,undefined)
add_compile_options(-fsanitize=fuzzer-no-link,${SLUICE_FUZZ_SANITIZERS} -fno-sanitize-recover=all
                    -fno-omit-frame-pointer -gline-tables-only -O1 -D_GLIBCXX_ASSERTIONS)
add_link_options(-fsanitize=${SLUICE_FUZZ_SANITIZERS})
message(STATUS "Fuzzing build: libFuzzer + ${SLUICE_FUZZ_SANITIZERS}")
