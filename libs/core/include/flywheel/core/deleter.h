#pragma once

namespace flywheel {

/// Frees a C library's object with its own function, for RAII handles:
///
///   using KafkaHandle = std::unique_ptr<rd_kafka_t, Deleter<rd_kafka_destroy>>;
template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};

}  // namespace flywheel
