package io.flotilla.client.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SessionFloorsTest {
  private static byte[] k(String s) {
    return KeyOrder.utf8(s);
  }

  private static RangeSpan span(long id, String start, String end) {
    return new RangeSpan(id, k(start), end == null ? KeyOrder.NONE : k(end));
  }

  private static RangeMap map(long generation, RangeSpan... spans) {
    return RangeMap.of(List.of(spans), generation);
  }

  @Test
  void observationsRaiseTheFloorOfTheKeysRangeAndNeverLowerIt() {
    RangeMap m = map(1, span(1, "", "g"), span(2, "g", null));
    SessionFloors f = new SessionFloors();
    f.observe(m, k("a"), 7);
    f.observe(m, k("b"), 3);
    f.observe(m, k("h"), 2);
    assertEquals(7, f.of(m, k("c")).revision());
    assertEquals(2, f.of(m, k("z")).revision());
    assertEquals(2, f.of(m, k("z")).range().id());
  }

  @Test
  void aSplitChildStartsAtItsParentsFloorAndAMergedRangeAtTheLargerOfItsParts() {
    SessionFloors f = new SessionFloors();
    RangeMap before = map(1, span(1, "", "g"), span(2, "g", null));
    f.observe(before, k("a"), 7);
    f.observe(before, k("x"), 2);

    RangeMap split = map(2, span(1, "", "c"), span(5, "c", "g"), span(2, "g", null));
    assertEquals(7, f.of(split, k("d")).revision(), "child 5 inherits parent 1's floor");
    assertEquals(7, f.of(split, k("a")).revision());
    assertEquals(Map.of(1L, 7L, 5L, 7L, 2L, 2L), f.snapshot(split));

    f.observe(split, k("h"), 4);
    RangeMap merged = map(3, span(1, "", "c"), span(5, "c", null));
    assertEquals(7, f.of(merged, k("z")).revision(), "range 5 absorbed range 2: the larger floor wins");
    assertEquals(Map.of(1L, 7L, 5L, 7L), f.snapshot(merged));
  }

  @Test
  void anOlderSnapshotNeverReplacesANewerOne() {
    SessionFloors f = new SessionFloors();
    RangeMap old = map(1, span(1, "", null));
    RangeMap split = map(2, span(1, "", "m"), span(3, "m", null));
    f.observe(split, k("z"), 9);
    // a caller still holding the old listing: attribution follows the newer one the floors know
    f.observe(old, k("a"), 4);
    assertEquals(Map.of(1L, 4L, 3L, 9L), f.snapshot(old));
    assertEquals(9, f.of(old, k("q")).revision());
  }

  @Test
  void rangesNeverSeenHaveNoFloor() {
    SessionFloors f = new SessionFloors();
    RangeMap m = map(1, span(1, "", "g"), span(2, "g", null));
    f.observe(m, k("a"), 0);
    assertEquals(0, f.of(m, k("a")).revision());
    assertEquals(Map.of(), f.snapshot(m));
  }
}
