// The tun steering program: see tun_steering.hpp.
//
// Written as eBPF instructions here (no compiler, no libbpf): a socket
// filter reading the packet with the legacy loads (BPF_LD | BPF_ABS and
// BPF_IND: offsets from the network header, which on a tun is where the
// packet starts; the kernel ends the program with 0 when a load would
// read past the packet). Registers: r6 the packet (as the legacy loads
// need), r7 scratch, r8 the protocol, r9 the transport header's offset.
#include "device/tun_steering.hpp"

#include <linux/bpf.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "relay/flow_key.hpp"
#include "wire/ip_packet.hpp"
#include "wire/transport.hpp"

namespace rtether::device {
namespace {

long bpf(int command, bpf_attr& attr) {
  return syscall(__NR_bpf, command, &attr, sizeof attr);
}

// A forward-only assembler: jumps name a label bound later.
class Program {
 public:
  enum Label : int { V4, V6, Icmp4, Error4, Icmp6, Error6, Ports, Echo, Mix, Zero };

  void mov_reg(int dst, int src) { emit(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0); }
  void mov_imm(int dst, std::int32_t imm) { emit(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, imm); }
  void alu_imm(int op, int dst, std::int32_t imm) { emit(BPF_ALU64 | op | BPF_K, dst, 0, imm); }
  void alu_reg(int op, int dst, int src) { emit(BPF_ALU64 | op | BPF_X, dst, src, 0); }
  // r0 = the byte (BPF_B) or big-endian half word (BPF_H) at `offset`, or
  // at r`index` + `offset`.
  void load(int size, std::int32_t offset) { emit(BPF_LD | size | BPF_ABS, 0, 0, offset); }
  void load_at(int size, int index, std::int32_t offset) {
    emit(BPF_LD | size | BPF_IND, 0, index, offset);
  }
  void jump_if(int op, int dst, std::int32_t imm, Label to) {
    fixups_.emplace(code_.size(), to);
    emit(BPF_JMP | op | BPF_K, dst, 0, imm);
  }
  void jump(Label to) {
    fixups_.emplace(code_.size(), to);
    emit(BPF_JMP | BPF_JA, 0, 0, 0);
  }
  void exit() { emit(BPF_JMP | BPF_EXIT, 0, 0, 0); }
  void bind(Label label) { labels_[label] = code_.size(); }

  // The instructions, with every jump resolved (all go forward).
  const std::vector<bpf_insn>& finish() {
    for (const auto& [at, label] : fixups_)
      code_[at].off = static_cast<std::int16_t>(labels_.at(label) - at - 1);
    return code_;
  }

 private:
  void emit(int code, int dst, int src, std::int32_t imm) {
    bpf_insn insn{};
    insn.code = static_cast<std::uint8_t>(code);
    insn.dst_reg = static_cast<std::uint8_t>(dst) & 0xf;
    insn.src_reg = static_cast<std::uint8_t>(src) & 0xf;
    insn.imm = imm;
    code_.push_back(insn);
  }

  std::vector<bpf_insn> code_;
  std::map<std::size_t, Label> fixups_;
  std::map<Label, std::size_t> labels_;
};

constexpr int kTcp = wire::ip_protocol::kTcp;
constexpr int kUdp = wire::ip_protocol::kUdp;
constexpr int kIcmp = wire::ip_protocol::kIcmp;
constexpr int kIcmpV6 = wire::ip_protocol::kIcmpv6;
namespace type = wire::icmp_type;

// r9 = the IPv4 header length (IHL * 4) of the header at r9 + 0, plus r9.
void add_ipv4_header_length(Program& p) {
  p.load_at(BPF_B, 9, 0);
  p.alu_imm(BPF_AND, 0, 0x0f);
  p.alu_imm(BPF_LSH, 0, 2);
  p.alu_reg(BPF_ADD, 9, 0);
}

std::vector<bpf_insn> build() {
  Program p;
  p.mov_reg(6, 1);
  p.load(BPF_B, 0);
  p.alu_imm(BPF_RSH, 0, 4);  // the IP version
  p.jump_if(BPF_JEQ, 0, 4, Program::V4);
  p.jump_if(BPF_JEQ, 0, 6, Program::V6);
  p.jump(Program::Zero);

  p.bind(Program::V4);
  p.load(BPF_H, 6);
  p.jump_if(BPF_JSET, 0, 0x3fff, Program::Zero);  // more fragments, or an offset
  p.load(BPF_B, 9);
  p.mov_reg(8, 0);
  p.mov_imm(9, 0);
  add_ipv4_header_length(p);
  p.jump_if(BPF_JEQ, 8, kTcp, Program::Ports);
  p.jump_if(BPF_JEQ, 8, kUdp, Program::Ports);
  p.jump_if(BPF_JEQ, 8, kIcmp, Program::Icmp4);
  p.jump(Program::Zero);

  p.bind(Program::Icmp4);
  p.load_at(BPF_B, 9, 0);  // the type
  p.jump_if(BPF_JEQ, 0, type::kEchoRequest, Program::Echo);
  p.jump_if(BPF_JEQ, 0, type::kEchoReply, Program::Echo);
  p.jump_if(BPF_JEQ, 0, type::kDestUnreachable, Program::Error4);
  p.jump_if(BPF_JEQ, 0, type::kTimeExceeded, Program::Error4);
  p.jump_if(BPF_JEQ, 0, type::kParameterProblem, Program::Error4);
  p.jump(Program::Zero);
  p.bind(Program::Error4);  // the quoted IPv4 header 8 bytes in
  p.alu_imm(BPF_ADD, 9, 8);
  p.load_at(BPF_B, 9, 9);
  p.mov_reg(8, 0);
  add_ipv4_header_length(p);
  p.jump_if(BPF_JEQ, 8, kTcp, Program::Ports);
  p.jump_if(BPF_JEQ, 8, kUdp, Program::Ports);
  p.jump(Program::Zero);

  p.bind(Program::V6);  // extension headers are not followed: queue 0
  p.load(BPF_B, 6);
  p.mov_reg(8, 0);
  p.mov_imm(9, 40);
  p.jump_if(BPF_JEQ, 8, kTcp, Program::Ports);
  p.jump_if(BPF_JEQ, 8, kUdp, Program::Ports);
  p.jump_if(BPF_JEQ, 8, kIcmpV6, Program::Icmp6);
  p.jump(Program::Zero);

  p.bind(Program::Icmp6);
  p.load_at(BPF_B, 9, 0);
  p.jump_if(BPF_JEQ, 0, type::kV6EchoRequest, Program::Echo);
  p.jump_if(BPF_JEQ, 0, type::kV6EchoReply, Program::Echo);
  // The error messages: destination unreachable (1) to parameter problem (4).
  p.jump_if(BPF_JLT, 0, type::kV6DestUnreachable, Program::Zero);
  p.jump_if(BPF_JGT, 0, type::kV6ParameterProblem, Program::Zero);
  p.bind(Program::Error6);                   // the quoted IPv6 header 8 bytes in
  p.alu_imm(BPF_ADD, 9, 8);
  p.load_at(BPF_B, 9, 6);
  p.mov_reg(8, 0);
  p.alu_imm(BPF_ADD, 9, 40);
  p.jump_if(BPF_JEQ, 8, kTcp, Program::Ports);
  p.jump_if(BPF_JEQ, 8, kUdp, Program::Ports);
  p.jump(Program::Zero);

  p.bind(Program::Echo);  // the identifier
  p.load_at(BPF_H, 9, 4);
  p.jump(Program::Mix);

  p.bind(Program::Ports);  // source port ^ destination port
  p.load_at(BPF_H, 9, 0);
  p.mov_reg(7, 0);
  p.load_at(BPF_H, 9, 2);
  p.alu_reg(BPF_XOR, 0, 7);

  p.bind(Program::Mix);  // as relay::QueueSlot::steering_value mixes
  p.alu_imm(BPF_MUL, 0, static_cast<std::int32_t>(relay::QueueSlot::kMix));
  p.alu_imm(BPF_RSH, 0, 16);
  p.alu_imm(BPF_AND, 0, 0xffff);
  p.exit();

  p.bind(Program::Zero);
  p.mov_imm(0, 0);
  p.exit();
  return p.finish();
}

std::error_code last_error() { return {errno, std::generic_category()}; }

}  // namespace

io::Result<io::Fd> load_tun_steering() {
  static const std::vector<bpf_insn> code = build();
  static const char license[] = "GPL";
  bpf_attr attr{};
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insns = reinterpret_cast<std::uintptr_t>(code.data());
  attr.insn_cnt = static_cast<std::uint32_t>(code.size());
  attr.license = reinterpret_cast<std::uintptr_t>(license);
  std::strncpy(attr.prog_name, "rtether_steer", sizeof attr.prog_name - 1);
  long fd = bpf(BPF_PROG_LOAD, attr);
  if (fd < 0) return last_error();
  return io::Fd(static_cast<int>(fd));
}

std::error_code attach_tun_steering(int queue_fd, int program) {
  if (ioctl(queue_fd, TUNSETSTEERINGEBPF, &program) < 0) return last_error();
  return {};
}

io::Result<std::uint32_t> run_tun_steering(int program, wire::Bytes ip_packet) {
  // A socket filter's test run takes an Ethernet frame and hands the
  // program what follows its header, as a tun's packet is.
  std::vector<std::uint8_t> frame(14, 0);
  const bool v6 = !ip_packet.empty() && (ip_packet[0] >> 4) == 6;
  frame[12] = v6 ? 0x86 : 0x08;
  frame[13] = v6 ? 0xdd : 0x00;
  frame.insert(frame.end(), ip_packet.begin(), ip_packet.end());
  bpf_attr attr{};
  attr.test.prog_fd = static_cast<std::uint32_t>(program);
  attr.test.data_in = reinterpret_cast<std::uintptr_t>(frame.data());
  attr.test.data_size_in = static_cast<std::uint32_t>(frame.size());
  attr.test.repeat = 1;
  if (bpf(BPF_PROG_TEST_RUN, attr) < 0) return last_error();
  return attr.test.retval;
}

}  // namespace rtether::device
