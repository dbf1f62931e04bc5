package io.flotilla.api.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.flotilla.client.RangeNotHostedException;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.ForwardFailure;
import io.flotilla.proto.ForwardedWrite;
import io.flotilla.proto.ForwardedWriteReplies;
import io.flotilla.proto.ForwardedWriteReply;
import io.flotilla.proto.ForwardedWrites;
import io.flotilla.proto.IncrOp;
import io.flotilla.proto.PutOp;
import io.flotilla.proto.PutResult;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeEpoch;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Writes go to their range leader's node, batched per destination; nothing is proposed twice. */
class LeaderWritesTest {
  private static final RangeDescriptor RANGE_7 = range(7);
  private static final RangeDescriptor RANGE_8 = range(8);
  private static final long DEADLINE = 9_000;
  private static final BatchLanes.Limits LIMITS = BatchLanes.Limits.unbounded(DEADLINE, System::nanoTime);

  /** Ranges this node leads, and the leader it knows of the others. */
  private final java.util.Set<Long> led = new java.util.HashSet<>();
  private String leaderElsewhere = "n2";
  /** Messages sent to other nodes, with the futures the test answers. */
  private final List<ForwardedWrites> messages = new ArrayList<>();
  private final List<CompletableFuture<ForwardedWriteReplies>> answers = new ArrayList<>();
  /** Commands the local batcher proposed, with their futures. */
  private final List<Command> proposed = new ArrayList<>();
  private final List<CompletableFuture<CommandResult>> proposals = new ArrayList<>();

  private final LeaderWrites.Node node = new LeaderWrites.Node() {
    @Override
    public String id() {
      return "n1";
    }

    @Override
    public boolean leads(long rangeId) {
      return led.contains(rangeId);
    }

    @Override
    public Optional<String> leaderOf(RangeDescriptor range) {
      return led.contains(range.getId()) ? Optional.of("n1") : Optional.ofNullable(leaderElsewhere);
    }

    @Override
    public Optional<RangeDescriptor> descriptor(long rangeId) {
      return led.contains(rangeId) ? Optional.of(rangeId == 7 ? RANGE_7 : RANGE_8) : Optional.empty();
    }

    @Override
    public CompletableFuture<ForwardedWriteReplies> forwardWrites(String nodeId, ForwardedWrites writes,
        long deadlineMillis) {
      assertEquals("n2", nodeId);
      assertEquals(DEADLINE, deadlineMillis);
      messages.add(writes);
      CompletableFuture<ForwardedWriteReplies> answer = new CompletableFuture<>();
      answers.add(answer);
      return answer;
    }
  };

  private final List<RangeDescriptor> proposedAs = new ArrayList<>();
  private final LeaderWrites writes = new LeaderWrites(node, new WriteBatcher((range, command) -> {
    proposed.add(command);
    proposedAs.add(range);
    CompletableFuture<CommandResult> f = new CompletableFuture<>();
    proposals.add(f);
    return f;
  }, () -> 1_000, 1 << 20, LIMITS), 1 << 20, DEADLINE, LIMITS);

  private static RangeDescriptor range(long id) {
    return RangeDescriptor.newBuilder().setId(id).setEpoch(RangeEpoch.newBuilder().setVersion(1).setConf(1)).build();
  }

  private static Command put(RangeDescriptor range, String key) {
    return Command.newBuilder().setRangeId(range.getId()).setEpoch(range.getEpoch())
        .setPut(PutOp.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8("v"))).build();
  }

  private static ForwardedWrite forwarded(RangeDescriptor range, String key) {
    return ForwardedWrite.newBuilder().setRange(range).setCommand(put(range, key)).build();
  }

  private static ForwardedWriteReply ok(long version) {
    return ForwardedWriteReply.newBuilder().setResult(CommandResult.newBuilder().setRevision(version)
        .setPut(PutResult.newBuilder().setVersion(version))).build();
  }

  private static ForwardedWriteReplies replies(ForwardedWriteReply... each) {
    return ForwardedWriteReplies.newBuilder().addAllReplies(List.of(each)).build();
  }

  private static CommandResult putOk(long version) {
    return CommandResult.newBuilder().setRevision(version).setPut(PutResult.newBuilder().setVersion(version)).build();
  }

  @Test
  void aWriteForARangeLedHereIsProposedHere() throws Exception {
    led.add(7L);
    CompletableFuture<CommandResult> a = writes.write(RANGE_7, put(RANGE_7, "a"));
    assertEquals(List.of(put(RANGE_7, "a")), proposed);
    assertTrue(messages.isEmpty());
    proposals.get(0).complete(putOk(3));
    assertEquals(3, a.get().getPut().getVersion());
  }

  @Test
  void aRangesWritesLeaveTogetherWhileAMessageIsUnderWay() throws Exception {
    CompletableFuture<CommandResult> a = writes.write(RANGE_7, put(RANGE_7, "a"));
    CompletableFuture<CommandResult> b = writes.write(RANGE_7, put(RANGE_7, "b"));
    CompletableFuture<CommandResult> c = writes.write(RANGE_7, put(RANGE_7, "c"));
    assertEquals(1, messages.size(), "one message under way");
    assertEquals(List.of(forwarded(RANGE_7, "a")), messages.get(0).getWritesList());
    answers.get(0).complete(replies(ok(5)));
    assertEquals(5, a.get().getPut().getVersion());
    assertEquals(2, messages.size());
    assertEquals(List.of(forwarded(RANGE_7, "b"), forwarded(RANGE_7, "c")), messages.get(1).getWritesList(),
        "the writes that waited leave together");
    answers.get(1).complete(replies(ok(6), ok(9)));
    assertEquals(6, b.get().getPut().getVersion());
    assertEquals(9, c.get().getPut().getVersion(), "each write gets its own reply");
    assertTrue(proposed.isEmpty(), "nothing was proposed here");
  }

  @Test
  void anotherRangesWritesDoNotWaitForThisOnesMessage() throws Exception {
    writes.write(RANGE_7, put(RANGE_7, "a"));
    CompletableFuture<CommandResult> b = writes.write(RANGE_8, put(RANGE_8, "b"));
    assertEquals(2, messages.size(), "range 8's write left while range 7's message is under way");
    answers.get(1).complete(replies(ok(3)));
    assertEquals(3, b.get(5, TimeUnit.SECONDS).getPut().getVersion());
  }

  @Test
  void aDeclinedWriteGoesThisNodesOwnWayAndTheOthersKeepTheirReplies() throws Exception {
    CompletableFuture<CommandResult> a = writes.write(RANGE_7, put(RANGE_7, "a"));
    CompletableFuture<CommandResult> b = writes.write(RANGE_7, put(RANGE_7, "b"));
    CompletableFuture<CommandResult> c = writes.write(RANGE_7, put(RANGE_7, "c"));
    answers.get(0).complete(replies(ok(5)));
    answers.get(1).complete(replies(ForwardedWriteReply.newBuilder().setDeclined("not the leader").build(), ok(9)));
    assertEquals(List.of(put(RANGE_7, "b")), proposed, "only the declined write is proposed from here");
    assertEquals(9, c.get().getPut().getVersion());
    proposals.get(0).complete(putOk(2));
    assertEquals(2, b.get().getPut().getVersion());
    assertEquals(5, a.get().getPut().getVersion());
    assertEquals(1, writes.counts().declined());
    assertEquals(2, writes.counts().forwarded());
  }

  @Test
  void aReplyThisNodeCannotReadIsAnUnknownOutcomeNotADecline() {
    CompletableFuture<CommandResult> a = writes.write(RANGE_7, put(RANGE_7, "a"));
    answers.get(0).complete(replies(ForwardedWriteReply.getDefaultInstance()));
    assertEquals(ErrorCode.TIMEOUT, failure(a).code());
    assertTrue(proposed.isEmpty(), "it may stand for a proposal: never proposed again");
  }

  @Test
  void aMessageDeclinedAtOnceFreesTheLaneForTheNext() throws Exception {
    CompletableFuture<ForwardedWriteReplies> declinedNow = CompletableFuture.completedFuture(
        ForwardedWriteReplies.newBuilder().addReplies(ForwardedWriteReply.newBuilder().setDeclined("no channel")).build());
    LeaderWrites unreachable = new LeaderWrites(leadingNothing(w -> declinedNow),
        new WriteBatcher((range, command) -> CompletableFuture.completedFuture(putOk(1)), () -> 1, 1 << 20, LIMITS), 1 << 20,
        DEADLINE, LIMITS);
    for (int i = 0; i < 3; i++) {
      assertEquals(1, unreachable.write(RANGE_7, put(RANGE_7, "k" + i)).get(5, TimeUnit.SECONDS).getPut().getVersion(),
          "declined, then proposed this node's own way");
    }
    assertEquals(3, unreachable.counts().declined());
  }

  @Test
  void aFailureTheLeadersNodeSawIsTheCallersWithItsCode() {
    CompletableFuture<CommandResult> a = writes.write(RANGE_7, put(RANGE_7, "a"));
    answers.get(0).complete(replies(ForwardedWriteReply.newBuilder().setFailed(ForwardFailure.newBuilder()
        .setCode("unavailable").setMessage("locked")).build()));
    FlotillaException e = failure(a);
    assertEquals(ErrorCode.UNAVAILABLE, e.code());
    assertEquals("locked", e.getMessage());
    assertTrue(proposed.isEmpty(), "a write that failed there is not proposed again here");
  }

  @Test
  void aLostMessageLeavesEveryWriteInItUnknownAndTheLaneGoesOn() throws Exception {
    writes.write(RANGE_7, put(RANGE_7, "a"));
    CompletableFuture<CommandResult> b = writes.write(RANGE_7, put(RANGE_7, "b"));
    CompletableFuture<CommandResult> c = writes.write(RANGE_7, put(RANGE_7, "c"));
    answers.get(0).complete(replies(ok(1)));
    answers.get(1).completeExceptionally(FlotillaException.outcomeUnknown("the forwarded write", new RuntimeException()));
    assertEquals(ErrorCode.TIMEOUT, failure(b).code());
    assertEquals(ErrorCode.TIMEOUT, failure(c).code());
    assertTrue(proposed.isEmpty(), "an unknown outcome is never proposed again");
    CompletableFuture<CommandResult> d = writes.write(RANGE_7, put(RANGE_7, "d"));
    assertEquals(3, messages.size(), "the lane is free again");
    answers.get(2).complete(replies(ok(4)));
    assertEquals(4, d.get().getPut().getVersion());
  }

  @Test
  void anAnswerWithTheWrongNumberOfRepliesIsAnUnknownOutcome() {
    CompletableFuture<CommandResult> a = writes.write(RANGE_7, put(RANGE_7, "a"));
    answers.get(0).complete(replies());
    assertEquals(ErrorCode.TIMEOUT, failure(a).code());
    assertTrue(proposed.isEmpty());
  }

  @Test
  void withNoLeaderKnownOrOtherCommandsTheWriteStaysHere() {
    leaderElsewhere = null;
    writes.write(RANGE_7, put(RANGE_7, "a"));
    leaderElsewhere = "n2";
    Command incr = Command.newBuilder().setRangeId(8).setIncr(IncrOp.newBuilder().setKey(ByteString.copyFromUtf8("n")))
        .build();
    writes.write(RANGE_8, incr);
    assertEquals(List.of(put(RANGE_7, "a"), incr), proposed);
    assertTrue(messages.isEmpty());
  }

  @Test
  void aNodeThatDoesNotForwardProposesItsOwnWritesButStillServesItsPeers() throws Exception {
    LeaderWrites local = new LeaderWrites(node, new WriteBatcher((range, command) -> {
      proposed.add(command);
      return CompletableFuture.completedFuture(putOk(1));
    }, () -> 1_000, 1 << 20, LIMITS), 1 << 20, DEADLINE, LIMITS, false);
    local.write(RANGE_8, put(RANGE_8, "a")).get(5, TimeUnit.SECONDS);
    assertTrue(messages.isEmpty(), "nothing forwarded");
    led.add(7L);
    ForwardedWriteReplies served = local.serve(ForwardedWrites.newBuilder().addWrites(forwarded(RANGE_7, "b")).build())
        .get(5, TimeUnit.SECONDS);
    assertEquals(1, served.getReplies(0).getResult().getPut().getVersion());
    assertEquals(List.of(put(RANGE_8, "a"), put(RANGE_7, "b")), proposed);
  }

  @Test
  void aNodeServesWritesForRangesItLeadsAndDeclinesTheRest() throws Exception {
    led.add(7L);
    CompletableFuture<ForwardedWriteReplies> served = writes.serve(ForwardedWrites.newBuilder()
        .addWrites(forwarded(RANGE_7, "a")).addWrites(forwarded(RANGE_8, "b")).addWrites(forwarded(RANGE_7, "c"))
        .build());
    assertEquals(List.of(put(RANGE_7, "a")), proposed, "only range 7's writes are proposed; c waits for a");
    proposals.get(0).complete(putOk(3));
    assertEquals(2, proposed.size());
    proposals.get(1).complete(putOk(4));
    ForwardedWriteReplies replies = served.get(5, TimeUnit.SECONDS);
    assertEquals(3, replies.getRepliesCount());
    assertEquals(3, replies.getReplies(0).getResult().getPut().getVersion());
    assertEquals(ForwardedWriteReply.OutcomeCase.DECLINED, replies.getReplies(1).getOutcomeCase());
    assertEquals(4, replies.getReplies(2).getResult().getPut().getVersion());
    assertEquals(2, writes.counts().servedForPeers());
  }

  @Test
  void aServedWriteIsProposedWithThisNodesDescriptorNotTheSenders() throws Exception {
    led.add(7L);
    RangeDescriptor stale = RANGE_7.toBuilder().setEpoch(RangeEpoch.newBuilder().setVersion(0).setConf(0))
        .addReplicas("n9").build();
    CompletableFuture<ForwardedWriteReplies> served = writes.serve(ForwardedWrites.newBuilder()
        .addWrites(ForwardedWrite.newBuilder().setRange(stale).setCommand(put(stale, "a"))).build());
    assertEquals(List.of(RANGE_7), proposedAs, "the range client follows this node's view of the range");
    assertEquals(List.of(put(stale, "a")), proposed, "the command keeps its epoch: the range refuses a stale one");
    proposals.get(0).complete(CommandResult.newBuilder().setRejected(io.flotilla.proto.Rejection.newBuilder()
        .setReason(io.flotilla.proto.Rejection.Reason.EPOCH_MISMATCH).setCurrent(RANGE_7)).build());
    assertEquals(RANGE_7, served.get(5, TimeUnit.SECONDS).getReplies(0).getResult().getRejected().getCurrent());
  }

  @Test
  void aServedWriteThatFailsAnswersWhatIsKnownOfIt() throws Exception {
    led.add(7L);
    CompletableFuture<ForwardedWriteReplies> gone = writes.serve(ForwardedWrites.newBuilder()
        .addWrites(forwarded(RANGE_7, "a")).build());
    proposals.get(0).completeExceptionally(new RangeNotHostedException(7, "merged away"));
    assertEquals(ForwardedWriteReply.OutcomeCase.DECLINED, gone.get(5, TimeUnit.SECONDS).getReplies(0).getOutcomeCase(),
        "a range not hosted as routed applied nothing");

    CompletableFuture<ForwardedWriteReplies> lost = writes.serve(ForwardedWrites.newBuilder()
        .addWrites(forwarded(RANGE_7, "b")).build());
    proposals.get(1).completeExceptionally(new IllegalStateException("ratis gave up"));
    ForwardedWriteReply reply = lost.get(5, TimeUnit.SECONDS).getReplies(0);
    assertEquals("timeout", reply.getFailed().getCode(), "anything else is an unknown outcome");
    assertTrue(reply.getFailed().getMessage().contains("outcome is unknown"), reply::toString);
    assertTrue(messages.isEmpty(), "serving never forwards again");
  }

  @Test
  void manyThreadsWritingWhileRepliesArriveOnOthersEveryWriteIsAnsweredOnce() throws Exception {
    java.util.concurrent.ExecutorService replies = java.util.concurrent.Executors.newFixedThreadPool(3);
    java.util.concurrent.ExecutorService callers = java.util.concurrent.Executors.newFixedThreadPool(8);
    java.util.concurrent.atomic.AtomicInteger forwardedWrites = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger mostInFlight = new java.util.concurrent.atomic.AtomicInteger();
    LeaderWrites concurrent = new LeaderWrites(leadingNothing(w -> {
      mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      forwardedWrites.addAndGet(w.getWritesCount());
      return CompletableFuture.supplyAsync(() -> {
        ForwardedWriteReplies.Builder all = ForwardedWriteReplies.newBuilder();
        for (ForwardedWrite write : w.getWritesList()) {
          all.addReplies(ok(Long.parseLong(write.getCommand().getPut().getKey().toStringUtf8().substring(1))));
        }
        inFlight.decrementAndGet();
        return all.build();
      }, replies);
    }), new WriteBatcher((range, command) -> CompletableFuture.failedFuture(new AssertionError("never here")), () -> 1,
        1 << 20, LIMITS), 1 << 20, DEADLINE, LIMITS);
    try {
      List<CompletableFuture<CompletableFuture<CommandResult>>> submitted = new ArrayList<>();
      for (int i = 0; i < 4_000; i++) {
        int n = i;
        submitted.add(CompletableFuture.supplyAsync(() -> concurrent.write(RANGE_7, put(RANGE_7, "k" + n)), callers));
      }
      for (int i = 0; i < submitted.size(); i++) {
        assertEquals(i, submitted.get(i).get(10, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS).getPut().getVersion(),
            "each write gets its own reply");
      }
      assertEquals(4_000, forwardedWrites.get(), "every write was sent exactly once");
      assertEquals(1, mostInFlight.get(), "one message of the range under way at a time");
      assertEquals(4_000, concurrent.counts().forwarded());
    } finally {
      callers.shutdownNow();
      replies.shutdownNow();
    }
  }

  /** A node that leads no range and knows n2 as every range's leader; {@code forward} answers its messages. */
  private static LeaderWrites.Node leadingNothing(
      java.util.function.Function<ForwardedWrites, CompletableFuture<ForwardedWriteReplies>> forward) {
    return new LeaderWrites.Node() {
      @Override
      public String id() {
        return "n1";
      }

      @Override
      public boolean leads(long rangeId) {
        return false;
      }

      @Override
      public Optional<String> leaderOf(RangeDescriptor range) {
        return Optional.of("n2");
      }

      @Override
      public Optional<RangeDescriptor> descriptor(long rangeId) {
        return Optional.empty();
      }

      @Override
      public CompletableFuture<ForwardedWriteReplies> forwardWrites(String nodeId, ForwardedWrites w, long deadline) {
        return forward.apply(w);
      }
    };
  }

  private static FlotillaException failure(CompletableFuture<CommandResult> f) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
    return assertInstanceOf(FlotillaException.class, e.getCause());
  }
}
