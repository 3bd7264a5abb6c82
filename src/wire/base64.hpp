// Base64 encoding (RFC 4648 4: the standard alphabet, '=' padding), for the
// HTTP Basic credentials of a CONNECT request (RFC 7617 2).
#pragma once

#include <string>
#include <string_view>

namespace rtether::wire {

std::string base64_encode(std::string_view data);

}  // namespace rtether::wire
