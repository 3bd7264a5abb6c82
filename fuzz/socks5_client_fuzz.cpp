// Fuzz target: a SOCKS5 proxy's answers (RFC 1928, RFC 1929) and UDP
// datagrams (RFC 1928 7). Fed in pieces, the handshake takes no more than
// it is given, fails with a reason and nothing left to send, and once over
// takes nothing more; a parsed UDP datagram's payload lies inside it,
// behind its header.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "wire/socks5_client.hpp"
#include "wire/socks5_udp.hpp"

namespace {
void require(bool condition) {
  if (!condition) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wire = rtether::wire;
  if (size < 1) return 0;
  const wire::Bytes input{data + 1, size - 1};
  // The first byte picks the command, credentials and the piece size.
  const auto command =
      (data[0] & 1) ? wire::Socks5Command::UdpAssociate : wire::Socks5Command::Connect;
  std::optional<wire::ProxyCredentials> credentials;
  if (data[0] & 2) credentials = wire::ProxyCredentials{"user", "password"};
  const std::size_t piece = 1 + (data[0] >> 2);
  wire::Socks5Client client(command, {wire::IpAddress::v4(0x7f000001), 80}, credentials);
  std::size_t taken = 0;
  for (std::size_t have = 0;
       have < input.size() && client.state() == wire::ProxyHandshake::State::Waiting;) {
    have = std::min(input.size(), have + piece);
    client.output_sent(client.output().size());
    const std::size_t used = client.feed(input.subspan(taken, have - taken));
    require(used <= have - taken);
    taken += used;
  }
  if (client.state() == wire::ProxyHandshake::State::Failed)
    require(client.error() != wire::ProxyError::None && client.output().empty());
  if (client.state() != wire::ProxyHandshake::State::Waiting)
    require(client.feed(input.subspan(taken)) == 0);

  auto datagram = wire::parse_socks5_udp(input);
  if (datagram) {
    require(datagram->payload.data() >= input.data() &&
            datagram->payload.data() + datagram->payload.size() == input.data() + input.size());
    require(static_cast<std::size_t>(datagram->payload.data() - input.data()) ==
            wire::socks5_udp_header_size(datagram->peer.address.version));
  }
  return 0;
}
