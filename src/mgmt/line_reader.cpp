// Line framing and argument splitting for the management protocol; see
// line_reader.hpp for the rules (they follow OpenVPN's manage.c/options.c).
#include "mgmt/line_reader.hpp"

namespace rtether::mgmt {

std::vector<std::string> LineReader::feed(std::string_view data) {
  std::vector<std::string> lines;
  for (char c : data) {
    if (c == '\n') {
      if (!discarding_) lines.push_back(std::move(line_));
      line_.clear();
      discarding_ = false;
      continue;
    }
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7e) continue;  // \r, other control bytes, non-ASCII
    if (discarding_) continue;
    if (line_.size() == kMaxLineLength) {
      line_.clear();
      discarding_ = true;
      ++discarded_lines_;
      continue;
    }
    line_.push_back(c);
  }
  return lines;
}

namespace {

enum class State { Initial, Unquoted, DoubleQuoted, SingleQuoted };

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f'; }

}  // namespace

SplitResult split_command(std::string_view line) {
  SplitResult result;
  State state = State::Initial;
  bool backslash = false;
  std::string current;
  auto finish = [&] {
    if (result.arguments.size() < kMaxArguments) result.arguments.push_back(std::move(current));
    current.clear();
    state = State::Initial;
  };
  for (char c : line) {
    if (state == State::Initial) {
      if (is_space(c)) continue;
      if (c == '#' || c == ';') break;  // comment
      if (c == '"') {
        state = State::DoubleQuoted;
        continue;
      }
      if (c == '\'') {
        state = State::SingleQuoted;
        continue;
      }
      state = State::Unquoted;
    }
    if (backslash) {
      current.push_back(c);
      backslash = false;
      continue;
    }
    if (c == '\\' && state != State::SingleQuoted) {
      backslash = true;
      continue;
    }
    switch (state) {
      case State::Unquoted:
        if (is_space(c)) {
          finish();
          continue;
        }
        break;
      case State::DoubleQuoted:
        if (c == '"') {
          finish();
          continue;
        }
        break;
      case State::SingleQuoted:
        if (c == '\'') {
          finish();
          continue;
        }
        break;
      case State::Initial:
        break;
    }
    current.push_back(c);
  }
  if (backslash) {
    result.arguments.clear();
    result.error = "ERROR: Options error: Residual parse state (" +
                   std::to_string(static_cast<int>(state)) + ") in TCP:0";
    return result;
  }
  if (state == State::DoubleQuoted || state == State::SingleQuoted) {
    result.arguments.clear();
    result.error = std::string("ERROR: Options error: No closing quotation (") +
                   (state == State::DoubleQuoted ? "\"" : "'") + ") in TCP:0";
    return result;
  }
  if (state == State::Unquoted) finish();
  return result;
}

std::string quote_argument(std::string_view argument) {
  std::string quoted = "'";
  bool plain = !argument.empty();
  for (char c : argument) {
    if (c == '\'') plain = false;
  }
  if (plain) {
    quoted.append(argument);
    quoted.push_back('\'');
    return quoted;
  }
  quoted = "\"";
  for (char c : argument) {
    if (c == '"' || c == '\\') quoted.push_back('\\');
    quoted.push_back(c);
  }
  quoted.push_back('"');
  return quoted;
}

}  // namespace rtether::mgmt
