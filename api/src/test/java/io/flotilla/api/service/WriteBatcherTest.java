package io.flotilla.api.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.flotilla.common.ErrorCode;
import io.flotilla.common.FlotillaException;
import io.flotilla.proto.BatchResult;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.DeleteOp;
import io.flotilla.proto.DeleteResult;
import io.flotilla.proto.EntryResult;
import io.flotilla.proto.IncrOp;
import io.flotilla.proto.Intent;
import io.flotilla.proto.PutOp;
import io.flotilla.proto.PutResult;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeEpoch;
import io.flotilla.proto.Rejection;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class WriteBatcherTest {
  private static final RangeDescriptor RANGE = RangeDescriptor.newBuilder().setId(7)
      .setEpoch(RangeEpoch.newBuilder().setVersion(2).setConf(3)).build();

  /** What the batcher proposed, each with the future the test completes. */
  private final List<Command> sent = new ArrayList<>();
  private final List<CompletableFuture<CommandResult>> replies = new ArrayList<>();
  private final WriteBatcher batcher = new WriteBatcher((range, command) -> {
    sent.add(command);
    CompletableFuture<CommandResult> reply = new CompletableFuture<>();
    replies.add(reply);
    return reply;
  }, () -> 1_000, 1 << 20, BatchLanes.Limits.unbounded(10_000, System::nanoTime));

  private static Command put(String key) {
    return Command.newBuilder().setRangeId(7).setEpoch(RANGE.getEpoch()).setProposedAtMillis(5)
        .setPut(PutOp.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8("v"))).build();
  }

  private static Command delete(String key) {
    return Command.newBuilder().setRangeId(7).setEpoch(RANGE.getEpoch())
        .setDelete(DeleteOp.newBuilder().setKey(ByteString.copyFromUtf8(key))).build();
  }

  private static CommandResult putOk(long version) {
    return CommandResult.newBuilder().setRevision(version).setPut(PutResult.newBuilder().setVersion(version)).build();
  }

  @Test
  void aWriteWithNothingUnderWayGoesOutAloneAndUnchanged() throws Exception {
    CompletableFuture<CommandResult> a = batcher.write(RANGE, put("a"));
    assertEquals(List.of(put("a")), sent);
    replies.get(0).complete(putOk(11));
    assertEquals(11, a.get().getPut().getVersion());
    CompletableFuture<CommandResult> b = batcher.write(RANGE, put("b"));
    assertEquals(List.of(put("a"), put("b")), sent, "one at a time, each alone, when they do not overlap");
    replies.get(1).complete(putOk(12));
    assertEquals(12, b.get().getPut().getVersion());
  }

  @Test
  void writesThatQueueMeanwhileLeaveAsOneBatchAndEachGetsItsOwnResult() throws Exception {
    batcher.write(RANGE, put("a"));
    CompletableFuture<CommandResult> c = batcher.write(RANGE, put("c"));
    CompletableFuture<CommandResult> d = batcher.write(RANGE, delete("d"));
    CompletableFuture<CommandResult> e = batcher.write(RANGE, put("e"));
    assertEquals(1, sent.size(), "the others wait for the entry under way");

    replies.get(0).complete(putOk(11));
    assertEquals(2, sent.size());
    Command batch = sent.get(1);
    assertTrue(batch.hasBatch() && !batch.getBatch().getAtomic());
    assertEquals(RANGE.getEpoch(), batch.getEpoch());
    assertEquals(3, batch.getBatch().getEntriesCount());
    assertEquals("d", batch.getBatch().getEntries(1).getDelete().getKey().toStringUtf8());

    replies.get(1).complete(CommandResult.newBuilder().setRevision(13).setBatch(BatchResult.newBuilder()
        .addResults(EntryResult.newBuilder().setPut(PutResult.newBuilder().setVersion(13)))
        .addResults(EntryResult.newBuilder().setDelete(DeleteResult.newBuilder().setDeleted(true)))
        .addResults(EntryResult.newBuilder().setError(Rejection.newBuilder()
            .setReason(Rejection.Reason.VERSION_CONFLICT).setCurrentVersion(4)))).build());
    assertEquals(13, c.get().getPut().getVersion());
    assertEquals(13, c.get().getRevision());
    assertTrue(d.get().getDelete().getDeleted());
    assertEquals(Rejection.Reason.VERSION_CONFLICT, e.get().getRejected().getReason(),
        "one member refused is that member's refusal only");
  }

  @Test
  void aBatchNeverMixesCommandsRoutedWithDifferentEpochs() {
    batcher.write(RANGE, put("a"));
    Command stale = put("s").toBuilder().setEpoch(RangeEpoch.newBuilder().setVersion(1).setConf(3)).build();
    batcher.write(RANGE, put("b"));
    batcher.write(RANGE, stale);
    batcher.write(RANGE, put("c"));
    replies.get(0).complete(putOk(1));
    assertEquals(2, sent.size());
    assertEquals(put("b"), sent.get(1), "b leaves alone: the command behind it was routed with another epoch");
    replies.get(1).complete(putOk(2));
    assertEquals(stale, sent.get(2), "the stale command goes alone, unchanged, to be checked against its own epoch");
    replies.get(2).complete(putOk(3));
    assertEquals(put("c"), sent.get(3));
  }

  @Test
  void aBatchNeverHoldsTwoWritesOfOneKey() {
    batcher.write(RANGE, put("a"));
    batcher.write(RANGE, put("k"));
    batcher.write(RANGE, put("k"));
    batcher.write(RANGE, put("z"));
    replies.get(0).complete(putOk(11));
    assertEquals(put("k"), sent.get(1), "the first k leaves alone (the second k may not join it)");
    replies.get(1).complete(putOk(12));
    assertEquals(2, sent.get(2).getBatch().getEntriesCount(), "the second k leaves with z");
  }

  @Test
  void aRejectionOrFailureOfTheWholeBatchIsEveryMembers() throws Exception {
    batcher.write(RANGE, put("a"));
    CompletableFuture<CommandResult> c = batcher.write(RANGE, put("c"));
    CompletableFuture<CommandResult> d = batcher.write(RANGE, put("d"));
    replies.get(0).complete(putOk(11)); // c and d leave together
    CompletableFuture<CommandResult> e = batcher.write(RANGE, put("e"));
    CompletableFuture<CommandResult> f = batcher.write(RANGE, put("f"));
    CommandResult stale = CommandResult.newBuilder().setRevision(12).setRejected(Rejection.newBuilder()
        .setReason(Rejection.Reason.EPOCH_MISMATCH)).build();
    replies.get(1).complete(stale); // then e and f
    assertEquals(3, sent.size());
    assertSame(stale, c.get());
    assertSame(stale, d.get());

    replies.get(2).completeExceptionally(new IllegalStateException("outcome unknown"));
    assertThrows(ExecutionException.class, e::get);
    assertThrows(ExecutionException.class, f::get);
  }

  /** A batch refused because one key is locked: only that key's writer is refused. */
  @Test
  void aLockedKeyRefusesOnlyItsOwnWriterAndTheOthersGoAgain() throws Exception {
    batcher.write(RANGE, put("a"));
    CompletableFuture<CommandResult> locked = batcher.write(RANGE, put("l"));
    CompletableFuture<CommandResult> free = batcher.write(RANGE, put("f"));
    replies.get(0).complete(putOk(11));
    assertEquals(2, sent.get(1).getBatch().getEntriesCount());
    CommandResult refused = CommandResult.newBuilder().setRevision(11).setRejected(Rejection.newBuilder()
        .setReason(Rejection.Reason.LOCKED).setLock(Intent.newBuilder().setKey(ByteString.copyFromUtf8("l")))).build();
    replies.get(1).complete(refused);
    assertSame(refused, locked.get());
    assertEquals(put("f"), sent.get(2), "the unlocked write goes again, alone");
    replies.get(2).complete(putOk(12));
    assertEquals(12, free.get().getPut().getVersion());
  }

  /** A reply that is not what a batch answers fails its members as unknown, never hangs them. */
  @Test
  void anUnreadableBatchReplyFailsEveryMember() {
    batcher.write(RANGE, put("a"));
    CompletableFuture<CommandResult> b = batcher.write(RANGE, put("b"));
    CompletableFuture<CommandResult> c = batcher.write(RANGE, put("c"));
    replies.get(0).complete(putOk(11));
    replies.get(1).complete(CommandResult.getDefaultInstance());
    assertThrows(ExecutionException.class, b::get);
    assertThrows(ExecutionException.class, c::get);
  }

  @Test
  void commandsOtherThanPutsAndDeletesAreNeverHeldBack() {
    batcher.write(RANGE, put("a"));
    Command incr = Command.newBuilder().setRangeId(7).setIncr(IncrOp.newBuilder()
        .setKey(ByteString.copyFromUtf8("n")).setDelta(1)).build();
    batcher.write(RANGE, incr);
    assertEquals(incr, sent.get(1));
  }

  @Test
  void aWriteItsRangesQueueHasNoRoomForIsRefusedAsOverloadedAndNeverProposed() throws Exception {
    WriteBatcher small = new WriteBatcher((range, command) -> {
      sent.add(command);
      CompletableFuture<CommandResult> reply = new CompletableFuture<>();
      replies.add(reply);
      return reply;
    }, () -> 1_000, 1 << 20, new BatchLanes.Limits(Long.MAX_VALUE, 1, TimeUnit.SECONDS.toNanos(5), ByteBudget.unbounded(),
        System::nanoTime));
    small.write(RANGE, put("a"));
    CompletableFuture<CommandResult> b = small.write(RANGE, put("b"));
    CompletableFuture<CommandResult> c = small.write(RANGE, put("c"));
    ExecutionException refused = assertThrows(ExecutionException.class, c::get);
    FlotillaException e = (FlotillaException) refused.getCause();
    assertEquals(ErrorCode.OVERLOADED, e.code());
    assertTrue(e.getMessage().contains("nothing was applied"), e.getMessage());
    assertEquals(1, small.refusedCount());

    replies.get(0).complete(putOk(11));
    replies.get(1).complete(putOk(12));
    assertEquals(12, b.get().getPut().getVersion());
    assertEquals(List.of(put("a"), put("b")), sent, "c was never proposed");
  }
}
