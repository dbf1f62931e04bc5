package io.flotilla.statemachine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.flotilla.proto.GetOp;
import io.flotilla.proto.KeyValue;
import io.flotilla.proto.Query;
import io.flotilla.proto.QueryResult;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeEpoch;
import io.flotilla.proto.Rejection;
import io.flotilla.proto.ScanQuery;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RangeQueriesTest {
  private static final RangeDescriptor RANGE = RangeDescriptor.newBuilder().setId(3)
      .setStart(ByteString.copyFromUtf8("b")).setEnd(ByteString.copyFromUtf8("f"))
      .setEpoch(RangeEpoch.newBuilder().setVersion(1).setConf(1)).build();
  private final InMemoryKvEngine engine = new InMemoryKvEngine();

  @BeforeEach
  void fill() {
    Mutations m = new Mutations();
    for (String k : List.of("a", "b", "c", "d", "e", "f")) { // a and f lie outside the range
      m.put(ColumnFamily.DATA, k.getBytes(StandardCharsets.UTF_8), new StoredValue(1, 0, ("v" + k).getBytes()).encode());
    }
    m.put(ColumnFamily.DATA, "cc".getBytes(), new StoredValue(2, 500, "gone".getBytes()).encode());
    engine.write(m);
  }

  private QueryResult scan(String start, String end, int limit, boolean reverse, boolean keysOnly) {
    return RangeQueries.evaluate(Query.newBuilder().setRangeId(3).setEpoch(RANGE.getEpoch()).setNowMillis(1000)
        .setScan(ScanQuery.newBuilder().setStart(ByteString.copyFromUtf8(start)).setEnd(ByteString.copyFromUtf8(end))
            .setLimit(limit).setReverse(reverse).setKeysOnly(keysOnly)).build(), RANGE, 9, engine);
  }

  private static List<String> keys(QueryResult r) {
    return r.getScan().getItemsList().stream().map(KeyValue::getKey).map(ByteString::toStringUtf8).toList();
  }

  @Test
  void scansAreClippedToTheRangeAndSkipExpiredKeys() {
    assertEquals(List.of("b", "c", "d", "e"), keys(scan("", "", 100, false, false)));
    assertEquals(List.of("e", "d", "c", "b"), keys(scan("", "", 100, true, false)));
    assertEquals(List.of("c", "d"), keys(scan("c", "e", 100, false, false)));
  }

  @Test
  void aScanStopsAtItsLimitAndSaysWhenMoreLiveKeysFollow() {
    QueryResult two = scan("", "", 2, false, true);
    assertEquals(List.of("b", "c"), keys(two));
    assertTrue(two.getScan().getMore());
    assertTrue(two.getScan().getItems(0).getValue().isEmpty(), "keys only");
    QueryResult all = scan("", "", 4, false, false);
    assertFalse(all.getScan().getMore());
    assertEquals("vb", all.getScan().getItems(0).getValue().toStringUtf8());
  }

  @Test
  void getHidesExpiredKeysAndAStaleEpochIsRejected() {
    QueryResult expired = RangeQueries.evaluate(Query.newBuilder().setRangeId(3).setEpoch(RANGE.getEpoch())
        .setNowMillis(1000).setGet(GetOp.newBuilder().setKey(ByteString.copyFromUtf8("cc"))).build(), RANGE, 9, engine);
    assertFalse(expired.getGet().getFound());
    assertEquals(9, expired.getRevision());
    QueryResult stale = RangeQueries.evaluate(Query.newBuilder().setRangeId(3)
        .setEpoch(RangeEpoch.newBuilder().setVersion(0)).setGet(GetOp.newBuilder().setKey(ByteString.copyFromUtf8("c")))
        .build(), RANGE, 9, engine);
    assertEquals(Rejection.Reason.EPOCH_MISMATCH, stale.getRejected().getReason());
    QueryResult outside = RangeQueries.evaluate(Query.newBuilder().setRangeId(3).setEpoch(RANGE.getEpoch())
        .setGet(GetOp.newBuilder().setKey(ByteString.copyFromUtf8("a"))).build(), RANGE, 9, engine);
    assertEquals(Rejection.Reason.KEY_OUT_OF_RANGE, outside.getRejected().getReason());
  }
}
