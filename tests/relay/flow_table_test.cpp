// FlowTable: the lifecycle transitions (lookup, limit with lingering flows,
// the waiting list, retire/reap, close) with fake flows, and DeferredTask.
#include "relay/flow_table.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "relay/deferred_task.hpp"
#include "relay/flow_context.hpp"
#include "relay/icmp_error_sender.hpp"

namespace rtether::relay {
namespace {

// A FlowContext with a real loop and table and nothing behind the output.
class FakeContext : public FlowContext {
 public:
  explicit FakeContext(std::size_t max_flows) : table_(loop_, max_flows) {}
  io::EventLoop& loop() override { return loop_; }
  io::Time now() const override { return loop_.now(); }
  const RelayConfig& config() const override { return config_; }
  const io::Outbound& outbound() const override { return config_.outbound; }
  Counters& counters() override { return counters_; }
  FlowTable& flows() override { return table_; }
  wire::MutableBytes reserve(std::size_t, bool) override { return {}; }
  void commit(std::size_t) override {}
  void wait_for_output(Flow& flow) override { table_.park(flow); }
  std::size_t buffer_budget_left() const override { return 0; }
  void add_buffered(long) override {}
  IcmpErrorSender& icmp_errors() override { return icmp_errors_; }
  wire::ChecksumMode checksums() const override { return wire::ChecksumMode::Full; }
  std::uint32_t random_iss() override { return 0; }
  wire::MutableBytes peek_scratch(std::size_t) override { return {}; }

  io::ManualClock clock_;
  io::EventLoop loop_{clock_};

 private:
  RelayConfig config_;
  Counters counters_;
  IcmpErrorSender icmp_errors_{*this};
  FlowTable table_;
};

// Records what the table asks of it; shut_down() retires it, as real flows do.
class FakeFlow final : public Flow {
 public:
  FakeFlow(FlowContext& context, std::uint16_t port, std::vector<std::uint16_t>& pumped,
           bool& destroyed)
      : Flow(context, key_for(port)), pumped_(pumped), destroyed_(destroyed) {}
  ~FakeFlow() override { destroyed_ = true; }

  static FlowKey key_for(std::uint16_t port) {
    return FlowKey{wire::IpAddress::v4(0x0A000002), wire::IpAddress::v4(0xC0000201), port, 80,
                   wire::ip_protocol::kTcp};
  }
  void on_device_packet(const wire::IpPacket&) override {}
  void on_ready(io::Readiness) override {}
  void pump() override {
    pumped_.push_back(key_.source_port);
    if (park_again_) context_.wait_for_output(*this);
  }
  void shut_down() override { context_.flows().retire(*this); }

  bool park_again_ = false;

 private:
  std::vector<std::uint16_t>& pumped_;
  bool& destroyed_;
};

class FlowTableTest : public ::testing::Test {
 protected:
  FakeFlow& add(std::uint16_t port) {
    destroyed_.push_back(std::make_unique<bool>(false));
    return static_cast<FakeFlow&>(context_.flows().insert(
        std::make_unique<FakeFlow>(context_, port, pumped_, *destroyed_.back())));
  }
  FlowTable& table() { return context_.flows(); }
  void end_batch() { context_.loop_.run_once(std::chrono::milliseconds(0)); }

  std::vector<std::uint16_t> pumped_;
  std::vector<std::unique_ptr<bool>> destroyed_;
  FakeContext context_{3};
};

TEST_F(FlowTableTest, InsertedFlowIsFoundByItsKey) {
  FakeFlow& flow = add(1);
  EXPECT_EQ(table().find(FakeFlow::key_for(1)), &flow);
  EXPECT_EQ(table().find(FakeFlow::key_for(2)), nullptr);
  EXPECT_EQ(table().size(), 1u);
}

TEST_F(FlowTableTest, RetiredFlowLeavesAtOnceAndIsDestroyedAfterTheBatch) {
  FakeFlow& flow = add(1);
  table().retire(flow);
  EXPECT_TRUE(flow.retired());
  EXPECT_EQ(table().find(FakeFlow::key_for(1)), nullptr);
  EXPECT_EQ(table().size(), 0u);
  EXPECT_FALSE(*destroyed_[0]) << "events already fetched may still name it";
  end_batch();
  EXPECT_TRUE(*destroyed_[0]);
}

TEST_F(FlowTableTest, LingeringSuccessorTakesTheKeyAndDoesNotCountAgainstTheLimit) {
  add(1);
  FakeFlow& live = add(2);
  add(3);
  live.set_forward_id(7);
  table().park(live);
  EXPECT_FALSE(table().has_room());
  destroyed_.push_back(std::make_unique<bool>(false));
  Flow& successor = table().replace_lingering(
      live, std::make_unique<FakeFlow>(context_, 2, pumped_, *destroyed_.back()),
      context_.now() + std::chrono::seconds(2));
  EXPECT_TRUE(live.retired());
  EXPECT_FALSE(successor.retired());
  EXPECT_TRUE(successor.lingering());
  EXPECT_EQ(successor.forward_id(), 7u) << "a removed forward still finds it";
  EXPECT_EQ(table().find(FakeFlow::key_for(2)), &successor) << "absorbs a retransmitted FIN";
  EXPECT_TRUE(table().has_room());
  EXPECT_EQ(table().live_count(), 2u);
  EXPECT_EQ(table().size(), 3u);
  table().wake_parked([] { return true; });
  EXPECT_TRUE(pumped_.empty()) << "the retired flow left the waiting list";
  end_batch();
  EXPECT_TRUE(*destroyed_[1]) << "the replaced flow is destroyed after the batch";
  EXPECT_FALSE(*destroyed_[3]);
  table().retire(successor);
  EXPECT_EQ(table().live_count(), 2u);
  EXPECT_EQ(table().size(), 2u);
}

// Lingering flows end in deadline order, each when its own deadline
// passes, from one timer; an extended one moves to the end; one that
// retires early leaves the list.
TEST_F(FlowTableTest, LingeringFlowsEndAtTheirDeadlinesInOrder) {
  using std::chrono::milliseconds;
  std::vector<Flow*> lingering;
  for (std::uint16_t port = 1; port <= 3; ++port) {
    FakeFlow& live = add(port);
    destroyed_.push_back(std::make_unique<bool>(false));
    lingering.push_back(&table().replace_lingering(
        live, std::make_unique<FakeFlow>(context_, port, pumped_, *destroyed_.back()),
        context_.clock_.now() + milliseconds(2000)));
    context_.clock_.advance(milliseconds(100));  // deadlines 2000, 2100, 2200 from the start
  }
  ASSERT_EQ(table().size(), 3u);
  ASSERT_EQ(table().live_count(), 0u);
  table().extend_lingering(*lingering[0], context_.clock_.now() + milliseconds(2000));  // 2300
  table().retire(*lingering[2]);                                                 // gone early
  int clock_ms = 300;  // where the clock stands, from the start
  auto at = [&](int ms_from_start) {
    context_.clock_.advance(milliseconds(ms_from_start - clock_ms));
    clock_ms = ms_from_start;
    end_batch();
  };
  at(2099);
  EXPECT_EQ(table().size(), 2u) << "nothing is due before 2100";
  at(2100);
  EXPECT_EQ(table().find(FakeFlow::key_for(2)), nullptr) << "port 2 ends at 2100";
  EXPECT_EQ(table().find(FakeFlow::key_for(1)), lingering[0]) << "port 1 was extended to 2300";
  at(2299);
  EXPECT_EQ(table().size(), 1u);
  at(2300);
  EXPECT_EQ(table().size(), 0u);
  EXPECT_EQ(table().live_count(), 0u);
}

TEST_F(FlowTableTest, ParkedFlowsArePumpedOnceEachInOrder) {
  FakeFlow& a = add(1);
  FakeFlow& b = add(2);
  table().park(b);
  table().park(a);
  table().park(b);  // already parked: keeps its place
  EXPECT_TRUE(table().has_parked());
  table().wake_parked([] { return true; });
  EXPECT_EQ(pumped_, (std::vector<std::uint16_t>{2, 1}));
  EXPECT_FALSE(table().has_parked());
}

TEST_F(FlowTableTest, AFlowThatParksAgainWaitsForTheNextWake) {
  FakeFlow& a = add(1);
  FakeFlow& b = add(2);
  a.park_again_ = true;
  table().park(a);
  table().park(b);
  table().wake_parked([] { return true; });
  EXPECT_EQ(pumped_, (std::vector<std::uint16_t>{1, 2}));
  EXPECT_TRUE(table().has_parked());
  a.park_again_ = false;
  table().wake_parked([] { return true; });
  EXPECT_EQ(pumped_, (std::vector<std::uint16_t>{1, 2, 1}));
}

TEST_F(FlowTableTest, WakingStopsWhenTheOutputIsFullAgain) {
  FakeFlow& a = add(1);
  FakeFlow& b = add(2);
  table().park(a);
  table().park(b);
  int room = 1;
  table().wake_parked([&room] { return room-- > 0; });
  EXPECT_EQ(pumped_, (std::vector<std::uint16_t>{1}));
  table().wake_parked([] { return true; });
  EXPECT_EQ(pumped_, (std::vector<std::uint16_t>{1, 2}));
}

TEST_F(FlowTableTest, RetiringAParkedFlowTakesItOffTheWaitingList) {
  FakeFlow& a = add(1);
  FakeFlow& b = add(2);
  FakeFlow& c = add(3);
  table().park(a);
  table().park(b);
  table().park(c);
  table().retire(b);
  table().retire(c);
  table().wake_parked([] { return true; });
  EXPECT_EQ(pumped_, (std::vector<std::uint16_t>{1}));
  table().park(a);
  table().retire(a);
  EXPECT_FALSE(table().has_parked());
}

TEST_F(FlowTableTest, CloseShutsEveryFlowDownAndTakesNoNewOne) {
  add(1);
  add(2);
  EXPECT_FALSE(table().closed());
  table().close();
  EXPECT_TRUE(table().closed());
  EXPECT_EQ(table().size(), 0u);
  end_batch();
  EXPECT_TRUE(*destroyed_[0]);
  EXPECT_TRUE(*destroyed_[1]);
}

TEST(DeferredTask, RunsOnceAfterTheBatchHoweverOftenScheduled) {
  io::EventLoop loop;
  int runs = 0;
  DeferredTask task(loop, [&runs] { ++runs; });
  task.schedule();
  task.schedule();
  EXPECT_TRUE(task.scheduled());
  EXPECT_EQ(runs, 0);
  loop.run_once(std::chrono::milliseconds(0));
  EXPECT_EQ(runs, 1);
  EXPECT_FALSE(task.scheduled());
}

TEST(DeferredTask, MayScheduleItselfAgainWhileRunning) {
  io::EventLoop loop;
  int runs = 0;
  std::unique_ptr<DeferredTask> task;
  task = std::make_unique<DeferredTask>(loop, [&] {
    if (++runs < 3) task->schedule();
  });
  task->schedule();
  loop.run_once(std::chrono::milliseconds(0));
  EXPECT_EQ(runs, 3);
}

TEST(DeferredTask, DoesNothingOnceItsOwnerIsGone) {
  io::EventLoop loop;
  int runs = 0;
  auto task = std::make_unique<DeferredTask>(loop, [&runs] { ++runs; });
  task->schedule();
  task.reset();
  loop.run_once(std::chrono::milliseconds(0));
  EXPECT_EQ(runs, 0);
}

}  // namespace
}  // namespace rtether::relay
