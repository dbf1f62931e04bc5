package io.flotilla.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.flotilla.common.FlotillaException;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.proto.RangeEpoch;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class RoutingTableTest {
  private static RangeDescriptor range(long id, String start, String end, long version) {
    return RangeDescriptor.newBuilder().setId(id).setStart(ByteString.copyFromUtf8(start))
        .setEnd(ByteString.copyFromUtf8(end)).setEpoch(RangeEpoch.newBuilder().setVersion(version).setConf(1)).build();
  }

  private static byte[] k(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void lookupFindsTheRangeWhoseSpanHoldsTheKey() {
    RoutingTable t = new RoutingTable();
    t.update(range(1, "", "g", 1));
    t.update(range(2, "g", "", 1));
    assertEquals(1, t.lookup(k("a")).getId());
    assertEquals(2, t.lookup(k("g")).getId());
    assertEquals(2, t.lookup(k("zzz")).getId());
  }

  @Test
  void aNewerEpochReplacesCoveredRangesAndAnOlderOneIsIgnored() {
    RoutingTable t = new RoutingTable();
    t.update(range(1, "", "m", 1));
    t.update(range(2, "m", "", 1));
    t.update(range(1, "", "", 3)); // range 1 merged range 2 away
    assertEquals(1, t.lookup(k("z")).getId());
    assertEquals(1, t.all().size());
    t.update(range(1, "", "m", 2)); // stale news never wins
    assertEquals(1, t.lookup(k("z")).getId());
  }

  @Test
  void overlappingListsRangesInKeyOrderOrReversed() {
    RoutingTable t = new RoutingTable();
    t.update(range(1, "", "g", 1));
    t.update(range(2, "g", "n", 1));
    t.update(range(3, "n", "", 1));
    assertEquals(List.of(2L, 3L), t.overlapping(k("h"), k("p"), false).stream().map(RangeDescriptor::getId).toList());
    assertEquals(List.of(3L, 2L, 1L), t.overlapping(k(""), k(""), true).stream().map(RangeDescriptor::getId).toList());
    assertEquals(List.of(1L), t.overlapping(k("a"), k("g"), false).stream().map(RangeDescriptor::getId).toList());
  }

  @Test
  void aSplitWhoseRightHalfIsNotKnownYetLeavesTheTableIncomplete() {
    RoutingTable t = new RoutingTable();
    t.update(range(1, "", "g", 1));
    t.update(range(2, "g", "", 1));
    assertTrue(t.isComplete());
    t.update(range(2, "g", "p", 2)); // range 2 split at p; its right half not heard of yet
    assertFalse(t.isComplete());
    t.update(range(3, "p", "", 2));
    assertTrue(t.isComplete());
    assertFalse(new RoutingTable().isComplete());
  }

  @Test
  void aKeyNoKnownRangeCoversIsUnavailable() {
    RoutingTable t = new RoutingTable();
    t.update(range(2, "g", "n", 1));
    assertThrows(FlotillaException.class, () -> t.lookup(k("a")));
  }
}
