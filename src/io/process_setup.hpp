// What every rtether process sets up once, before any socket or child
// process: on Linux a write to a closed pipe or socket fails with EPIPE
// instead of killing the process (SIGPIPE ignored); on Windows Winsock is
// started (WSAStartup) and the console's output code page is UTF-8.
#pragma once

namespace rtether::io {

// Throws std::system_error when the platform cannot provide sockets.
void prepare_process();

// On a thread started to run an event loop, first: on Linux it takes no
// asynchronous signal (the main thread's SignalWatcher blocks its own, so a
// SIGINT or SIGTERM sent to the process would otherwise kill it here);
// nothing to do on Windows.
void prepare_worker_thread();

}  // namespace rtether::io
