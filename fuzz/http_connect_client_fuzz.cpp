// Fuzz target: an HTTP proxy's answer to CONNECT (RFC 9110 9.3.6, RFC 9112
// 4). Whatever the bytes, the client takes at most the header it was given
// (ending in a line feed) and only when it opened the tunnel; a failure has
// a reason, and a Done handshake a 2xx status.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "wire/http_connect_client.hpp"

namespace {
void require(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wire = rtether::wire;
  wire::HttpConnectClient client(wire::IpAddress::v4(0x7f000001), 80, std::nullopt);
  client.output_sent(client.output().size());
  const std::size_t used = client.feed(wire::Bytes{data, size});
  require(used <= size && used <= wire::HttpConnectClient::kMaxResponseHeader);
  switch (client.state()) {
    case wire::ProxyHandshake::State::Done:
      require(used > 0 && data[used - 1] == '\n');
      require(client.status() >= 200 && client.status() <= 299);
      break;
    case wire::ProxyHandshake::State::Failed:
      require(used == 0 && client.error() != wire::ProxyError::None);
      break;
    case wire::ProxyHandshake::State::Waiting:
      require(used == 0 && size < wire::HttpConnectClient::kMaxResponseHeader);
      break;
  }
  return 0;
}
