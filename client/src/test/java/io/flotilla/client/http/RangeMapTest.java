package io.flotilla.client.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class RangeMapTest {
  private static RangeSpan span(long id, String start, String end) {
    return new RangeSpan(id, KeyOrder.utf8(start), end == null ? KeyOrder.NONE : KeyOrder.utf8(end));
  }

  private static final RangeMap MAP = RangeMap.of(List.of(span(3, "n", null), span(1, "", "g"), span(2, "g", "n")), 1);

  private static long lookup(String key) {
    return MAP.lookup(KeyOrder.utf8(key)).id();
  }

  private static long below(String position) {
    return MAP.below(KeyOrder.utf8(position)).id();
  }

  @Test
  void everyKeyHasTheRangeWhoseSpanHoldsIt() {
    assertEquals(1, lookup("a"));
    assertEquals(1, lookup("fzzz"));
    assertEquals(2, lookup("g"));
    assertEquals(3, lookup("n"));
    assertEquals(3, lookup("\uD83D\uDE00"));
  }

  @Test
  void belowFindsTheRangeOfTheKeysJustBeforeAPosition() {
    assertEquals(3, below(""), "the end of the key space");
    assertEquals(2, below("n"));
    assertEquals(3, below("n\u0000"));
    assertEquals(1, below("g"));
    assertEquals(1, below("a"));
  }

  @Test
  void overlappingListsTheRangesASpanTouches() {
    assertEquals(List.of(1L, 2L), MAP.overlapping(KeyOrder.utf8("c"), KeyOrder.utf8("h")).stream()
        .map(RangeSpan::id).toList());
    assertEquals(List.of(2L, 3L), MAP.overlapping(KeyOrder.utf8("g"), KeyOrder.NONE).stream()
        .map(RangeSpan::id).toList());
    assertEquals(List.of(1L), MAP.overlapping(KeyOrder.utf8("a"), KeyOrder.utf8("g")).stream()
        .map(RangeSpan::id).toList());
  }

  @Test
  void aListingThatDoesNotTileTheKeySpaceIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> RangeMap.of(List.of(), 1));
    assertThrows(IllegalArgumentException.class, () -> RangeMap.of(List.of(span(1, "a", null)), 1), "gap at the start");
    assertThrows(IllegalArgumentException.class, () -> RangeMap.of(List.of(span(1, "", "g")), 1), "gap at the end");
    assertThrows(IllegalArgumentException.class,
        () -> RangeMap.of(List.of(span(1, "", "g"), span(2, "h", null)), 1), "gap in the middle");
    assertThrows(IllegalArgumentException.class,
        () -> RangeMap.of(List.of(span(1, "", "h"), span(2, "g", null)), 1), "overlap");
  }
}
