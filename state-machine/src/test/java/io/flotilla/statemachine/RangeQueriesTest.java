package io.flotilla.statemachine;

import static io.flotilla.statemachine.Replica.bs;
import static io.flotilla.statemachine.Replica.k;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.flotilla.proto.GetOp;
import io.flotilla.proto.GetResult;
import io.flotilla.proto.KeyValue;
import io.flotilla.proto.MultiGetQuery;
import io.flotilla.proto.Query;
import io.flotilla.proto.QueryResult;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeEpoch;
import io.flotilla.proto.Rejection;
import io.flotilla.proto.ScanQuery;
import io.flotilla.proto.StatusQuery;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Reads of one range: get, multi-get and scans, with expiry judged by the reader's clock. */
class RangeQueriesTest {
  private static final RangeDescriptor RANGE = Replica.range(3, "b", "f", 2, 1);
  private static final long NOW = 1_000;
  private static final long REVISION = 9;
  private final InMemoryKvEngine engine = new InMemoryKvEngine();

  @BeforeEach
  void fill() {
    Mutations m = new Mutations();
    for (String key : List.of("a", "b", "c", "d", "e", "f", "g")) { // a, f and g belong to other ranges
      m.put(ColumnFamily.DATA, k(key), new StoredValue(key.charAt(0), 0, k("v" + key)).encode());
    }
    m.put(ColumnFamily.DATA, k("cc"), new StoredValue(5, NOW, k("expired at now")).encode());
    m.put(ColumnFamily.DATA, k("dd"), new StoredValue(6, NOW + 1, k("expires later")).encode());
    m.put(ColumnFamily.DATA, k("e1"), new StoredValue(7, NOW - 1, k("expired")).encode());
    engine.write(m);
  }

  private static Query.Builder query() {
    return Query.newBuilder().setRangeId(RANGE.getId()).setEpoch(RANGE.getEpoch()).setNowMillis(NOW);
  }

  private QueryResult evaluate(Query.Builder query) {
    return RangeQueries.evaluate(query.build(), RANGE, REVISION, engine);
  }

  private GetResult get(String key) {
    QueryResult r = evaluate(query().setGet(GetOp.newBuilder().setKey(bs(key))));
    assertEquals(REVISION, r.getRevision());
    return r.getGet();
  }

  private QueryResult scan(String start, String end, int limit, boolean reverse, boolean keysOnly) {
    return evaluate(query().setScan(ScanQuery.newBuilder().setStart(bs(start)).setEnd(bs(end))
        .setLimit(limit).setReverse(reverse).setKeysOnly(keysOnly)));
  }

  private static List<String> keys(QueryResult r) {
    return r.getScan().getItemsList().stream().map(KeyValue::getKey).map(ByteString::toStringUtf8).toList();
  }

  @Test
  void aScanNamesThePartOfItsSpanThisRangeLookedAt() {
    QueryResult wide = scan("a", "z", 100, false, true);
    assertEquals("b", wide.getScan().getScanned().getStart().toStringUtf8(), "clamped to the range's start");
    assertEquals("f", wide.getScan().getScanned().getEnd().toStringUtf8(), "and to its end");
    QueryResult inside = scan("c", "d", 100, true, true);
    assertEquals("c", inside.getScan().getScanned().getStart().toStringUtf8());
    assertEquals("d", inside.getScan().getScanned().getEnd().toStringUtf8());
    QueryResult open = scan("c", "", 1, false, true);
    assertEquals("f", open.getScan().getScanned().getEnd().toStringUtf8(), "an open end ends at the range's");
  }

  // ---- get and multi-get ----

  @Test
  void aKeysOnlyGetAnswersTheVersionAndExpiryWithoutTheValue() {
    GetResult dd = evaluate(query().setGet(GetOp.newBuilder().setKey(bs("dd")).setKeysOnly(true))).getGet();
    assertTrue(dd.getFound());
    assertEquals("dd", dd.getKv().getKey().toStringUtf8());
    assertEquals(6, dd.getKv().getVersion());
    assertEquals(NOW + 1, dd.getKv().getExpiresAtMillis());
    assertTrue(dd.getKv().getValue().isEmpty(), "no value");
    assertFalse(evaluate(query().setGet(GetOp.newBuilder().setKey(bs("cc")).setKeysOnly(true))).getGet().getFound(),
        "an expired key is absent for presence checks too");
    assertFalse(evaluate(query().setGet(GetOp.newBuilder().setKey(bs("bz")).setKeysOnly(true))).getGet().getFound());
  }

  @Test
  void getReturnsTheValueVersionAndExpiry() {
    GetResult c = get("c");
    assertTrue(c.getFound());
    assertEquals("c", c.getKv().getKey().toStringUtf8());
    assertEquals("vc", c.getKv().getValue().toStringUtf8());
    assertEquals('c', c.getKv().getVersion());
    assertEquals(0, c.getKv().getExpiresAtMillis());
    assertEquals(NOW + 1, get("dd").getKv().getExpiresAtMillis());
  }

  @Test
  void getOfAnAbsentKeyIsNotFound() {
    assertFalse(get("c0").getFound());
  }

  @Test
  void aKeyIsExpiredFromItsExpiryInstantOnward() {
    assertFalse(get("cc").getFound(), "expires_at == now is expired");
    assertFalse(get("e1").getFound());
    assertTrue(get("dd").getFound(), "expires_at == now + 1 is still live");
  }

  @Test
  void multiGetAnswersEveryKeyInOrder() {
    QueryResult r = evaluate(query().setMultiGet(MultiGetQuery.newBuilder()
        .addKeys(bs("e")).addKeys(bs("c0")).addKeys(bs("cc")).addKeys(bs("b"))));
    List<GetResult> results = r.getMultiGet().getResultsList();
    assertEquals(4, results.size());
    assertEquals("ve", results.get(0).getKv().getValue().toStringUtf8());
    assertFalse(results.get(1).getFound());
    assertFalse(results.get(2).getFound(), "expired");
    assertEquals("vb", results.get(3).getKv().getValue().toStringUtf8());
  }

  @Test
  void aMultiGetWithAByteBudgetStopsOnceItIsReachedButAnswersAtLeastOneKey() {
    // "b", "c", "d", "e": every answer has the same size
    int one = get("b").getSerializedSize();
    MultiGetQuery.Builder four = MultiGetQuery.newBuilder().addKeys(bs("b")).addKeys(bs("c")).addKeys(bs("d"))
        .addKeys(bs("e"));
    assertEquals(1, evaluate(query().setMultiGet(four.clone().setMaxResultBytes(one))).getMultiGet().getResultsCount());
    assertEquals(2, evaluate(query().setMultiGet(four.clone().setMaxResultBytes(one + 1))).getMultiGet()
        .getResultsCount());
    assertEquals(3, evaluate(query().setMultiGet(four.clone().setMaxResultBytes(2L * one + 1))).getMultiGet()
        .getResultsCount());
    assertEquals(1, evaluate(query().setMultiGet(four.clone().setMaxResultBytes(1))).getMultiGet().getResultsCount(),
        "one answer even when it alone is over the budget");
    assertEquals(4, evaluate(query().setMultiGet(four.clone().setMaxResultBytes(0))).getMultiGet().getResultsCount(),
        "0: no budget");
    List<GetResult> firstTwo = evaluate(query().setMultiGet(four.clone().setMaxResultBytes(one + 1))).getMultiGet()
        .getResultsList();
    assertEquals("vc", firstTwo.get(1).getKv().getValue().toStringUtf8(), "the answers are the first keys, in order");
  }

  @Test
  void aGetOrMultiGetOutsideTheRangeIsRefusedWithTheRange() {
    for (QueryResult r : List.of(
        evaluate(query().setGet(GetOp.newBuilder().setKey(bs("a")))),
        evaluate(query().setGet(GetOp.newBuilder().setKey(bs("f")))),
        evaluate(query().setMultiGet(MultiGetQuery.newBuilder().addKeys(bs("c")).addKeys(bs("g")))))) {
      assertEquals(Rejection.Reason.KEY_OUT_OF_RANGE, r.getRejected().getReason());
      assertEquals(RANGE, r.getRejected().getCurrent());
    }
  }

  // ---- scans ----

  @Test
  void aScanOfEverythingIsClippedToTheRangeAndSkipsExpiredKeys() {
    assertEquals(List.of("b", "c", "d", "dd", "e"), keys(scan("", "", 100, false, false)));
  }

  @Test
  void aScanHonoursItsOwnBoundsInsideTheRange() {
    assertEquals(List.of("c", "d", "dd"), keys(scan("c", "e", 100, false, false)), "end is exclusive");
    assertEquals(List.of("c", "d"), keys(scan("bz", "d0", 100, false, false)));
  }

  @Test
  void aScanReachingPastEitherEndOfTheRangeIsClipped() {
    assertEquals(List.of("b", "c"), keys(scan("a", "cb", 100, false, false)));
    assertEquals(List.of("dd", "e"), keys(scan("da", "zzz", 100, false, false)));
    assertEquals(List.of("d", "dd", "e"), keys(scan("d", "", 100, false, false)), "empty end = the range end");
  }

  @Test
  void aReverseScanReturnsTheSameKeysDescending() {
    assertEquals(List.of("e", "dd", "d", "c", "b"), keys(scan("", "", 100, true, false)));
    assertEquals(List.of("dd", "d", "c"), keys(scan("c", "e", 100, true, false)), "end stays exclusive");
  }

  @Test
  void aScanStopsAtItsLimitAndSaysMoreLiveKeysFollow() {
    QueryResult two = scan("", "", 2, false, false);
    assertEquals(List.of("b", "c"), keys(two));
    assertTrue(two.getScan().getMore());
    QueryResult next = scan("c\0", "", 2, false, false); // resume after the last key returned
    assertEquals(List.of("d", "dd"), keys(next));
    assertTrue(next.getScan().getMore());
  }

  @Test
  void aScanThatReturnsExactlyTheLastLiveKeyHasNoMore() {
    QueryResult all = scan("", "", 5, false, false);
    assertEquals(5, all.getScan().getItemsCount());
    assertFalse(all.getScan().getMore());
  }

  @Test
  void onlyExpiredKeysBeyondTheLimitDoNotCountAsMore() {
    QueryResult r = scan("c", "d", 1, false, false); // c, then only the expired cc
    assertEquals(List.of("c"), keys(r));
    assertFalse(r.getScan().getMore());
  }

  @Test
  void aReverseScanWithALimitReturnsTheHighestKeysFirst() {
    QueryResult r = scan("", "", 2, true, false);
    assertEquals(List.of("e", "dd"), keys(r));
    assertTrue(r.getScan().getMore());
  }

  @Test
  void aKeysOnlyScanOmitsValuesButKeepsVersionsAndExpiry() {
    QueryResult r = scan("d", "e", 10, false, true);
    assertEquals(List.of("d", "dd"), keys(r));
    for (KeyValue kv : r.getScan().getItemsList()) {
      assertTrue(kv.getValue().isEmpty());
    }
    assertEquals('d', r.getScan().getItems(0).getVersion());
    assertEquals(6, r.getScan().getItems(1).getVersion());
    assertEquals(NOW + 1, r.getScan().getItems(1).getExpiresAtMillis());
  }

  @Test
  void aFullScanReturnsValuesVersionsAndExpiry() {
    KeyValue dd = scan("dd", "e", 10, false, false).getScan().getItems(0);
    assertEquals("expires later", dd.getValue().toStringUtf8());
    assertEquals(6, dd.getVersion());
    assertEquals(NOW + 1, dd.getExpiresAtMillis());
  }

  @Test
  void aScanThatMissesTheRangeIsRefused() {
    QueryResult r = scan("f", "z", 10, false, false);
    assertEquals(Rejection.Reason.KEY_OUT_OF_RANGE, r.getRejected().getReason());
    assertEquals(RANGE, r.getRejected().getCurrent());
    assertEquals(Rejection.Reason.KEY_OUT_OF_RANGE, scan("", "b", 10, false, false).getRejected().getReason());
  }

  @Test
  void theLastRangeScansToTheEndOfTheKeySpace() {
    RangeDescriptor last = Replica.range(4, "f", "", 1, 1);
    QueryResult r = RangeQueries.evaluate(Query.newBuilder().setRangeId(4).setEpoch(last.getEpoch())
        .setNowMillis(NOW).setScan(ScanQuery.newBuilder().setLimit(10)).build(), last, 1, engine);
    assertEquals(List.of("f", "g"), keys(r));
  }

  // ---- routing ----

  @Test
  void aStaleEpochOrAnotherRangesIdIsAnEpochMismatch() {
    for (Query.Builder q : List.of(
        query().setEpoch(RangeEpoch.newBuilder().setVersion(1).setConf(1)),
        query().setEpoch(RangeEpoch.newBuilder().setVersion(3).setConf(1)),
        query().setRangeId(4))) {
      QueryResult r = evaluate(q.setGet(GetOp.newBuilder().setKey(bs("c"))));
      assertEquals(Rejection.Reason.EPOCH_MISMATCH, r.getRejected().getReason());
      assertEquals(RANGE, r.getRejected().getCurrent());
      assertEquals(REVISION, r.getRevision());
    }
    QueryResult staleScan = evaluate(query().setEpoch(RangeEpoch.newBuilder().setVersion(1))
        .setScan(ScanQuery.newBuilder().setLimit(10)));
    assertEquals(Rejection.Reason.EPOCH_MISMATCH, staleScan.getRejected().getReason());
  }

  @Test
  void aQueryWithoutAnEpochIsNotCheckedForOne() {
    QueryResult r = evaluate(query().clearEpoch().setGet(GetOp.newBuilder().setKey(bs("c"))));
    assertTrue(r.getGet().getFound());
  }

  @Test
  void aStatusQueryIsLeftToTheHost() {
    QueryResult r = evaluate(query().setStatus(StatusQuery.getDefaultInstance()));
    assertEquals(Rejection.Reason.INVALID, r.getRejected().getReason());
  }

  // ---- counting ----

  @Test
  void countKeysCountsEveryStoredKeyOfTheRangeExpiredOnesIncluded() {
    assertEquals(7, RangeQueries.countKeys(engine, RANGE)); // b c cc d dd e e1, nothing of a, f, g
  }
}
