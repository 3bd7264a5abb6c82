// TunSteering: which queue of a multi-queue tun (IFF_MULTI_QUEUE) the
// device's kernel hands each packet to, for direct mode with --threads N
// (one queue, one session, one relay thread each).
//
// Left to itself the kernel steers by a flow table it fills from the
// packets each queue *writes* (tun_flow_update), and ages each entry out
// after 3 s of no writes: a flow the relay opened itself (a forwarded
// connection) whose device side talks on while the relay side is quiet
// then moves to another queue, where no session knows it. So the relay
// sets a steering program of its own (TUNSETSTEERINGEBPF, an eBPF socket
// filter: its return value, truncated to 16 bits, modulo the number of
// queues, is the queue), one whose choice the relay can compute for any
// flow before it sends a packet: relay::QueueSlot::steering_value
// (relay/flow_key.hpp), from the XOR of the TCP or UDP ports, the ICMP
// echo identifier, and for an ICMP error the ports of the packet it quotes;
// anything else (IPv4 fragments, IPv6 extension headers, other protocols,
// a packet too short) goes to queue 0.
//
// Loading a program takes CAP_BPF (or CAP_SYS_ADMIN) in the initial user
// namespace: a root relay. Without it the tun keeps one queue.
#pragma once

#include <cstdint>
#include <system_error>

#include "io/result.hpp"
#include "io/socket.hpp"
#include "wire/bytes.hpp"

namespace rtether::device {

// The program, loaded; an error (EPERM: not privileged) when the kernel
// refuses it.
io::Result<io::Fd> load_tun_steering();
// Sets `program` on the tun that `queue_fd` is a queue of (all its queues).
std::error_code attach_tun_steering(int queue_fd, int program);
// Runs the program once on `ip_packet` (BPF_PROG_TEST_RUN): what it would
// return for that packet. For tests.
io::Result<std::uint32_t> run_tun_steering(int program, wire::Bytes ip_packet);

}  // namespace rtether::device
