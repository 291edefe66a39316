# Every third-party dependency comes from Debian 12's packages. gRPC and
# abseil ship CMake configs; Protobuf is found through CMake's own module;
# librdkafka, hiredis, libjwt and libical through pkg-config; OpenSSL through CMake's
# own module.
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(yaml-cpp CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(GTest CONFIG REQUIRED)
find_package(OpenSSL 3 REQUIRED)
# civetweb comes with prometheus-cpp (its metrics endpoint); libs/http serves
# calendar feeds with it too.
find_package(civetweb CONFIG REQUIRED)
if(FLYWHEEL_BUILD_BENCHMARKS)
  find_package(benchmark CONFIG REQUIRED)
endif()

find_package(PkgConfig REQUIRED)
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
pkg_check_modules(LIBJWT REQUIRED IMPORTED_TARGET libjwt)
# libical writes and parses iCalendar (RFC 5545): the scheduler's feeds.
pkg_check_modules(LIBICAL REQUIRED IMPORTED_TARGET libical)

# Standalone Asio (header-only) runs coroutines and the asynchronous
# sockets of redis::AsyncClient.
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
add_library(Asio::asio INTERFACE IMPORTED)
target_include_directories(Asio::asio INTERFACE ${ASIO_INCLUDE_DIR})
target_compile_definitions(Asio::asio INTERFACE ASIO_NO_DEPRECATED)
target_link_libraries(Asio::asio INTERFACE Threads::Threads)
# gcc 12 at -O2 takes asio's coroutine frame allocator (recycled blocks it
# frees itself) for a mismatched new/delete pair: a false positive.
target_compile_options(Asio::asio INTERFACE -Wno-mismatched-new-delete)
