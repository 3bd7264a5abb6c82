// Socks5Client: see socks5_client.hpp.
#include "wire/socks5_client.hpp"

#include <cstring>

namespace rtether::wire {

std::size_t socks5_address_size(IpVersion version) {
  return 1 + (version == IpVersion::V4 ? 4 : 16) + 2;
}

void write_socks5_address(MutableBytes out, const Socks5Address& address) {
  const bool v4 = address.address.version == IpVersion::V4;
  out[0] = v4 ? socks5_atyp::kIpv4 : socks5_atyp::kIpv6;
  std::memcpy(out.data() + 1, address.address.bytes.data(), address.address.size());
  store_be16(out.data() + 1 + address.address.size(), address.port);
}

Socks5Client::Socks5Client(Socks5Command command, const Socks5Address& target,
                           const std::optional<ProxyCredentials>& credentials)
    : command_(command), target_(target), credentials_(credentials) {
  // With credentials both methods are offered: the proxy chooses (RFC 1928 3).
  if (credentials_) {
    const std::uint8_t greeting[] = {kSocks5Version, 2, socks5_method::kNoAuth,
                                     socks5_method::kUsernamePassword};
    queue(greeting);
  } else {
    const std::uint8_t greeting[] = {kSocks5Version, 1, socks5_method::kNoAuth};
    queue(greeting);
  }
}

std::size_t Socks5Client::feed(Bytes input) {
  std::size_t taken = 0;
  while (state_ == State::Waiting) {
    Bytes rest = input.subspan(taken);
    std::size_t used = 0;
    switch (step_) {
      case Step::Method:
        used = on_method(rest);
        break;
      case Step::Auth:
        used = on_auth(rest);
        break;
      case Step::Reply:
        used = on_reply(rest);
        break;
    }
    if (used == 0) break;
    taken += used;
  }
  return taken;
}

std::size_t Socks5Client::on_method(Bytes input) {
  if (input.size() < 2) return 0;
  if (input[0] != kSocks5Version) return fail(ProxyError::Malformed);
  const std::uint8_t method = input[1];
  if (method == socks5_method::kNoAuth) {
    queue_request();
  } else if (method == socks5_method::kUsernamePassword && credentials_) {
    // RFC 1929 2: VER ULEN UNAME PLEN PASSWD.
    std::vector<std::uint8_t> request;
    request.push_back(kSocks5AuthVersion);
    request.push_back(static_cast<std::uint8_t>(credentials_->user.size()));
    request.insert(request.end(), credentials_->user.begin(), credentials_->user.end());
    request.push_back(static_cast<std::uint8_t>(credentials_->password.size()));
    request.insert(request.end(), credentials_->password.begin(), credentials_->password.end());
    queue(request);
    step_ = Step::Auth;
  } else if (method == socks5_method::kNoneAcceptable ||
             method == socks5_method::kUsernamePassword) {
    return fail(ProxyError::AuthRequired);
  } else {
    // A method we did not offer.
    return fail(ProxyError::Malformed);
  }
  return 2;
}

std::size_t Socks5Client::on_auth(Bytes input) {
  if (input.size() < 2) return 0;
  if (input[0] != kSocks5AuthVersion) return fail(ProxyError::Malformed);
  // RFC 1929 2: any status but 00 is a failure, and the server closes.
  if (input[1] != 0) return fail(ProxyError::AuthFailed);
  queue_request();
  return 2;
}

void Socks5Client::queue_request() {
  std::uint8_t request[3 + 1 + 16 + 2] = {kSocks5Version, static_cast<std::uint8_t>(command_), 0};
  write_socks5_address(MutableBytes{request}.subspan(3), target_);
  queue(Bytes{request, 3 + socks5_address_size(target_.address.version)});
  step_ = Step::Reply;
}

std::size_t Socks5Client::on_reply(Bytes input) {
  if (input.size() < 5) return 0;
  if (input[0] != kSocks5Version || input[2] != 0) return fail(ProxyError::Malformed);
  std::size_t address_length = 0;
  switch (input[3]) {
    case socks5_atyp::kIpv4:
      address_length = 4;
      break;
    case socks5_atyp::kIpv6:
      address_length = 16;
      break;
    case socks5_atyp::kDomainName:
      address_length = 1 + std::size_t{input[4]};
      break;
    default:
      return fail(ProxyError::Malformed);
  }
  const std::size_t length = 4 + address_length + 2;
  if (input.size() < length) return 0;
  reply_code_ = input[1];
  switch (reply_code_) {
    case socks5_reply::kSucceeded:
      break;
    case socks5_reply::kNotAllowed:
      return fail(ProxyError::NotAllowed);
    case socks5_reply::kNetworkUnreachable:
    case socks5_reply::kHostUnreachable:
    case socks5_reply::kConnectionRefused:
    case socks5_reply::kTtlExpired:
      return fail(ProxyError::TargetRefused);
    case socks5_reply::kCommandNotSupported:
    case socks5_reply::kAddressTypeNotSupported:
      return fail(ProxyError::Unsupported);
    default:
      return fail(ProxyError::Failed);
  }
  const std::uint8_t* address = input.data() + 4;
  const std::uint16_t port = load_be16(input.data() + 4 + address_length);
  if (input[3] == socks5_atyp::kIpv4) bound_ = Socks5Address{IpAddress::v4_from(address), port};
  if (input[3] == socks5_atyp::kIpv6) bound_ = Socks5Address{IpAddress::v6_from(address), port};
  state_ = State::Done;
  return length;
}

}  // namespace rtether::wire
