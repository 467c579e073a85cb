// The compiled parts of Boost.Asio (with its OpenSSL layer) and Boost.Beast, built once here.
// Every other translation unit sees them as declarations (BOOST_ASIO_SEPARATE_COMPILATION and
// BOOST_BEAST_SEPARATE_COMPILATION, set on the tickstream::beast target), which keeps the
// zlib, HTTP parser and socket code out of each of them: the build takes a fraction of the time.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
