package io.flotilla.api.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.flotilla.proto.GetOp;
import io.flotilla.proto.GetResult;
import io.flotilla.proto.KeyValue;
import io.flotilla.proto.MultiGetQuery;
import io.flotilla.proto.MultiGetResult;
import io.flotilla.proto.Query;
import io.flotilla.proto.QueryResult;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeEpoch;
import io.flotilla.proto.Rejection;
import io.flotilla.proto.ScanQuery;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class ReadBatcherTest {
  private static final RangeEpoch EPOCH = RangeEpoch.newBuilder().setVersion(2).setConf(3).build();
  private static final RangeDescriptor RANGE = RangeDescriptor.newBuilder().setId(7).setEpoch(EPOCH).build();

  /** What the batcher sent, in which mode, each with the future the test completes. */
  private final List<Query> sent = new ArrayList<>();
  private final List<ReadMode> modes = new ArrayList<>();
  private final List<CompletableFuture<Served<QueryResult>>> replies = new ArrayList<>();
  private long nanos;
  private final ReadBatcher batcher = new ReadBatcher((range, query, mode) -> {
    sent.add(query);
    modes.add(mode);
    CompletableFuture<Served<QueryResult>> reply = new CompletableFuture<>();
    replies.add(reply);
    return reply;
  }, 1, BatchLanes.Limits.unbounded(10_000, () -> nanos));

  private static Query get(String key, long now) {
    return get(key, now, EPOCH);
  }

  private static Query get(String key, long now, RangeEpoch epoch) {
    return Query.newBuilder().setRangeId(7).setEpoch(epoch).setNowMillis(now)
        .setGet(GetOp.newBuilder().setKey(ByteString.copyFromUtf8(key))).build();
  }

  private static GetResult found(String key, String value) {
    return GetResult.newBuilder().setFound(true).setKv(KeyValue.newBuilder().setKey(ByteString.copyFromUtf8(key))
        .setValue(ByteString.copyFromUtf8(value))).build();
  }

  private static Served<QueryResult> served(QueryResult result) {
    return new Served<>(result, "n2", result.getRevision());
  }

  @Test
  void aGetWithNothingUnderWayGoesOutAloneAndUnchanged() throws Exception {
    CompletableFuture<Served<QueryResult>> a = batcher.read(RANGE, get("a", 10), ReadMode.STRONG);
    assertEquals(List.of(get("a", 10)), sent);
    Served<QueryResult> answer = served(QueryResult.newBuilder().setRevision(40).setGet(found("a", "1")).build());
    replies.get(0).complete(answer);
    assertSame(answer, a.get());
  }

  @Test
  void getsThatQueueBehindOneUnderWayLeaveTogetherAsOneMultiGetAndEachGetsItsOwnAnswer() throws Exception {
    CompletableFuture<Served<QueryResult>> a = batcher.read(RANGE, get("a", 10), ReadMode.STRONG);
    CompletableFuture<Served<QueryResult>> b = batcher.read(RANGE, get("b", 12), ReadMode.STRONG);
    CompletableFuture<Served<QueryResult>> c = batcher.read(RANGE, get("c", 11), ReadMode.STRONG);
    CompletableFuture<Served<QueryResult>> b2 = batcher.read(RANGE, get("b", 9), ReadMode.STRONG);
    assertEquals(1, sent.size(), "the later gets wait for the first");

    replies.get(0).complete(served(QueryResult.newBuilder().setRevision(40).setGet(found("a", "1")).build()));
    assertEquals(2, sent.size());
    Query batch = sent.get(1);
    assertEquals(7, batch.getRangeId());
    assertEquals(EPOCH, batch.getEpoch());
    assertEquals(12, batch.getNowMillis(), "the latest member's clock judges expiry");
    assertEquals(List.of("b", "c", "b"), batch.getMultiGet().getKeysList().stream().map(ByteString::toStringUtf8).toList());
    assertEquals(ReadMode.STRONG, modes.get(1));
    assertTrue(!b.isDone() && !c.isDone() && !b2.isDone());

    replies.get(1).complete(served(QueryResult.newBuilder().setRevision(41).setMultiGet(MultiGetResult.newBuilder()
        .addResults(found("b", "2")).addResults(GetResult.newBuilder().setFound(false)).addResults(found("b", "2")))
        .build()));
    assertEquals("1", a.get().result().getGet().getKv().getValue().toStringUtf8());
    assertEquals(QueryResult.newBuilder().setRevision(41).setGet(found("b", "2")).build(), b.get().result());
    assertEquals(QueryResult.newBuilder().setRevision(41).setGet(GetResult.newBuilder().setFound(false)).build(),
        c.get().result());
    assertEquals(b.get().result(), b2.get().result());
    assertEquals("n2", c.get().servedBy());
    assertEquals(41, c.get().appliedRevision());
  }

  @Test
  void aBatchNeverMixesRangeEpochs() {
    RangeEpoch newer = EPOCH.toBuilder().setVersion(3).build();
    batcher.read(RANGE, get("a", 10), ReadMode.STRONG);
    batcher.read(RANGE, get("b", 10), ReadMode.STRONG);
    batcher.read(RANGE, get("c", 10, newer), ReadMode.STRONG);
    batcher.read(RANGE, get("d", 10, newer), ReadMode.STRONG);
    replies.get(0).complete(served(QueryResult.newBuilder().setGet(found("a", "1")).build()));
    assertEquals(get("b", 10), sent.get(1), "b alone: c and d carry another epoch");
    replies.get(1).complete(served(QueryResult.newBuilder().setGet(found("b", "1")).build()));
    assertEquals(newer, sent.get(2).getEpoch());
    assertEquals(2, sent.get(2).getMultiGet().getKeysCount());
  }

  @Test
  void aBatchRejectedAsAWholeIsEveryMembersRejection() throws Exception {
    batcher.read(RANGE, get("a", 10), ReadMode.FOLLOWER);
    CompletableFuture<Served<QueryResult>> b = batcher.read(RANGE, get("b", 10), ReadMode.FOLLOWER);
    CompletableFuture<Served<QueryResult>> c = batcher.read(RANGE, get("c", 10), ReadMode.FOLLOWER);
    replies.get(0).complete(served(QueryResult.newBuilder().setGet(found("a", "1")).build()));
    QueryResult rejected = QueryResult.newBuilder().setRevision(5).setRejected(Rejection.newBuilder()
        .setReason(Rejection.Reason.EPOCH_MISMATCH).setCurrent(RANGE)).build();
    replies.get(1).complete(served(rejected));
    assertEquals(rejected, b.get().result());
    assertEquals(rejected, c.get().result());
  }

  @Test
  void aFailedBatchFailsEveryMemberAndTheNextBatchStillGoes() {
    batcher.read(RANGE, get("a", 10), ReadMode.STRONG);
    CompletableFuture<Served<QueryResult>> b = batcher.read(RANGE, get("b", 10), ReadMode.STRONG);
    CompletableFuture<Served<QueryResult>> c = batcher.read(RANGE, get("c", 10), ReadMode.STRONG);
    replies.get(0).complete(served(QueryResult.newBuilder().setGet(found("a", "1")).build()));
    CompletableFuture<Served<QueryResult>> d = batcher.read(RANGE, get("d", 10), ReadMode.STRONG);
    replies.get(1).completeExceptionally(new IOException("no leader"));
    ExecutionException eb = assertThrows(ExecutionException.class, b::get);
    assertEquals("no leader", eb.getCause().getMessage());
    assertThrows(ExecutionException.class, c::get);
    assertEquals(get("d", 10), sent.get(2), "the lane goes on after a failure");
    assertTrue(!d.isDone());
  }

  @Test
  void membersAnAnswerDidNotReachGoAgainFirst() throws Exception {
    batcher.read(RANGE, get("a", 10), ReadMode.STRONG);
    CompletableFuture<Served<QueryResult>> b = batcher.read(RANGE, get("b", 10), ReadMode.STRONG);
    CompletableFuture<Served<QueryResult>> c = batcher.read(RANGE, get("c", 10), ReadMode.STRONG);
    CompletableFuture<Served<QueryResult>> d = batcher.read(RANGE, get("d", 10), ReadMode.STRONG);
    replies.get(0).complete(served(QueryResult.newBuilder().setGet(found("a", "1")).build()));
    assertEquals(ReadBatcher.RESULT_BYTES, sent.get(1).getMultiGet().getMaxResultBytes(), "the answer is bounded");
    CompletableFuture<Served<QueryResult>> e = batcher.read(RANGE, get("e", 10), ReadMode.STRONG);
    replies.get(1).complete(served(QueryResult.newBuilder().setRevision(4).setMultiGet(MultiGetResult.newBuilder()
        .addResults(found("b", "2"))).build()));
    assertEquals(found("b", "2"), b.get().result().getGet());
    assertTrue(!c.isDone() && !d.isDone(), "not answered, not failed");
    assertEquals(List.of("c", "d", "e"),
        sent.get(2).getMultiGet().getKeysList().stream().map(ByteString::toStringUtf8).toList(),
        "the unanswered go again ahead of later gets");
  }

  @Test
  void aMultiGetAnsweredWithoutResultsFailsItsMembersInsteadOfGoingAgain() {
    assertABadAnswerFailsTheBatchAndFreesTheLane(
        served(QueryResult.newBuilder().setMultiGet(MultiGetResult.getDefaultInstance()).build()));
  }

  @Test
  void anAnswerThatIsNullStillFreesTheLane() {
    assertABadAnswerFailsTheBatchAndFreesTheLane(null);
  }

  private void assertABadAnswerFailsTheBatchAndFreesTheLane(Served<QueryResult> answer) {
    batcher.read(RANGE, get("a", 10), ReadMode.STRONG);
    CompletableFuture<Served<QueryResult>> b = batcher.read(RANGE, get("b", 10), ReadMode.STRONG);
    CompletableFuture<Served<QueryResult>> c = batcher.read(RANGE, get("c", 10), ReadMode.STRONG);
    replies.get(0).complete(served(QueryResult.newBuilder().setGet(found("a", "1")).build()));
    replies.get(1).complete(answer);
    assertThrows(ExecutionException.class, b::get);
    assertThrows(ExecutionException.class, c::get);
    assertEquals(2, sent.size(), "not sent again");
    batcher.read(RANGE, get("d", 10), ReadMode.STRONG);
    assertEquals(get("d", 10), sent.get(2), "the lane is free again");
  }

  @Test
  void aGetThatWaitedLongerThanTheRequestTimeoutIsDroppedWithATimeout() {
    batcher.read(RANGE, get("a", 10), ReadMode.STRONG);
    CompletableFuture<Served<QueryResult>> old = batcher.read(RANGE, get("old", 10), ReadMode.STRONG);
    nanos += 10_001_000_000L;
    CompletableFuture<Served<QueryResult>> fresh = batcher.read(RANGE, get("fresh", 10), ReadMode.STRONG);
    replies.get(0).complete(served(QueryResult.newBuilder().setGet(found("a", "1")).build()));
    ExecutionException timedOut = assertThrows(ExecutionException.class, old::get);
    assertEquals(io.flotilla.common.ErrorCode.TIMEOUT,
        ((io.flotilla.common.FlotillaException) timedOut.getCause()).code());
    assertEquals(get("fresh", 10), sent.get(1), "the fresh get goes out alone");
    assertTrue(!fresh.isDone());
  }

  @Test
  void aReaderThatThrowsFailsItsBatchAndTheLaneGoesOn() throws Exception {
    List<Query> seen = new ArrayList<>();
    ReadBatcher throwing = new ReadBatcher((range, query, mode) -> {
      seen.add(query);
      if (seen.size() == 1) {
        throw new IllegalStateException("boom");
      }
      return CompletableFuture.completedFuture(served(QueryResult.newBuilder().setGet(found("b", "2")).build()));
    }, 1, BatchLanes.Limits.unbounded(10_000, () -> 0));
    ExecutionException first = assertThrows(ExecutionException.class,
        () -> throwing.read(RANGE, get("a", 10), ReadMode.STRONG).get());
    assertEquals("boom", first.getCause().getMessage());
    assertEquals("2", throwing.read(RANGE, get("b", 10), ReadMode.STRONG).get().result().getGet().getKv().getValue()
        .toStringUtf8(), "nothing is left under way after the throw");
  }

  @Test
  void withTwoUnderWayTheThirdGetWaitsForEitherToFinish() {
    ReadBatcher two = new ReadBatcher((range, query, mode) -> {
      sent.add(query);
      CompletableFuture<Served<QueryResult>> reply = new CompletableFuture<>();
      replies.add(reply);
      return reply;
    }, 2, BatchLanes.Limits.unbounded(10_000, () -> 0));
    two.read(RANGE, get("a", 10), ReadMode.STRONG);
    two.read(RANGE, get("b", 10), ReadMode.STRONG);
    two.read(RANGE, get("c", 10), ReadMode.STRONG);
    two.read(RANGE, get("d", 10), ReadMode.STRONG);
    assertEquals(List.of(get("a", 10), get("b", 10)), sent);
    replies.get(1).complete(served(QueryResult.newBuilder().setGet(found("b", "1")).build()));
    assertEquals(2, sent.get(2).getMultiGet().getKeysCount(), "c and d leave together once b is answered");
  }

  @Test
  void eachModeHasItsOwnLane() {
    batcher.read(RANGE, get("a", 10), ReadMode.STRONG);
    batcher.read(RANGE, get("b", 10), ReadMode.FOLLOWER);
    assertEquals(List.of(ReadMode.STRONG, ReadMode.FOLLOWER), modes);
  }

  @Test
  void staleReadsScansAndMultiGetsGoOutUnchangedAtOnce() {
    batcher.read(RANGE, get("a", 10), ReadMode.STRONG);
    Query stale = get("b", 10);
    Query scan = Query.newBuilder().setRangeId(7).setEpoch(EPOCH).setScan(ScanQuery.newBuilder().setLimit(5)).build();
    Query multi = Query.newBuilder().setRangeId(7).setEpoch(EPOCH)
        .setMultiGet(MultiGetQuery.newBuilder().addKeys(ByteString.copyFromUtf8("c"))).build();
    batcher.read(RANGE, stale, ReadMode.STALE);
    batcher.read(RANGE, scan, ReadMode.STRONG);
    batcher.read(RANGE, multi, ReadMode.STRONG);
    assertEquals(List.of(get("a", 10), stale, scan, multi), sent);
  }

  @Test
  void aBatchCarriesAtMostMaxKeys() {
    batcher.read(RANGE, get("first", 10), ReadMode.STRONG);
    for (int i = 0; i < ReadBatcher.MAX_KEYS + 3; i++) {
      batcher.read(RANGE, get("k" + i, 10), ReadMode.STRONG);
    }
    replies.get(0).complete(served(QueryResult.newBuilder().setGet(found("first", "1")).build()));
    assertEquals(ReadBatcher.MAX_KEYS, sent.get(1).getMultiGet().getKeysCount());
    assertEquals(2, sent.size(), "the rest wait for the full batch");
  }
}
