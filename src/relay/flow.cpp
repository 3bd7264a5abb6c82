// Flow: see flow.hpp.
#include "relay/flow.hpp"

#include "relay/flow_context.hpp"

namespace rtether::relay {

void Flow::close_socket(io::Fd& socket) {
  if (!socket.valid()) return;
  context_.loop().remove(socket.get());
  socket.reset();
}

}  // namespace rtether::relay
