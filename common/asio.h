// The one header through which Tessera includes Boost.Asio.
//
// Boost 1.74's Asio uses std::exchange under C++20 without including <utility>;
// including it first keeps every translation unit that uses Asio compiling.
#ifndef TESSERA_COMMON_ASIO_H_
#define TESSERA_COMMON_ASIO_H_

#include <utility>

#include <boost/asio.hpp>

#endif  // TESSERA_COMMON_ASIO_H_
