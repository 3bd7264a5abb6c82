// ForwardRule: one `rtether relay --forward` value, host port -> device port.
//
//   PROTO:[BIND:]HOSTPORT:DEVICEPORT[@CLIENT|@SERIAL]
//   PROTO    tcp or udp
//   BIND     address the relay listens on: IPv4, or IPv6 in brackets
//            ([::1]); default 127.0.0.1 (loopback only, as for the relay)
//   HOSTPORT 1-65535, DEVICEPORT 1-65535
//   CLIENT   client id (decimal) of the device to reach; default: the most
//            recently connected device
//   SERIAL   adb serial of the device to reach (run and autorun, whose
//            relay knows each client's serial): anything after @ that is
//            not all digits (an all-digit serial reads as a client id)
// Examples: tcp:8080:80, udp:5353:53, tcp:0.0.0.0:2222:22@1, tcp:[::1]:8080:80,
//           tcp:8022:22@0123456789ABCDEF, tcp:8080:80@198.51.100.2:5555
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "io/socket.hpp"

namespace rtether::relay {

struct ForwardRule {
  std::uint8_t protocol = 0;  // wire::ip_protocol::kTcp or kUdp
  io::Endpoint listen;        // on the host
  std::uint16_t device_port = 0;
  std::optional<std::uint32_t> client_id;
  std::string serial;  // adb serial of the device to reach; empty: by client_id

  std::string to_string() const;
};

// nullopt and a message naming what is wrong in `error` on bad input.
std::optional<ForwardRule> parse_forward_rule(const std::string& text, std::string& error);

// Whether `text` names a device by adb serial (in `@SERIAL` and
// `SERIAL=VALUE`): printable ASCII, no spaces, 1-255 bytes, not all digits
// (those name a client id).
bool is_serial_text(std::string_view text);

}  // namespace rtether::relay
