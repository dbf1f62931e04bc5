package io.flotilla.statemachine;

import static io.flotilla.statemachine.Replica.deleteSpan;
import static io.flotilla.statemachine.Replica.k;
import static io.flotilla.statemachine.Replica.put;
import static io.flotilla.statemachine.Replica.putExpiring;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.proto.CommandResult;
import java.util.List;
import org.junit.jupiter.api.Test;

/** delete_span: removes the range's share of a span and counts the live keys it removed. */
class RangeLogicDeleteSpanTest {
  private final InMemoryKvEngine engine = new InMemoryKvEngine();
  private final Replica replica = new Replica(engine, Replica.range(7, "b", "m", 3, 1));

  /** Keys of the neighbouring ranges, stored in the same engine as they are on a node. */
  private void neighbours(String... keys) {
    Mutations m = new Mutations();
    for (String key : keys) {
      m.put(ColumnFamily.DATA, k(key), new StoredValue(1, 0, k("neighbour")).encode());
    }
    engine.write(m);
  }

  @Test
  void countsOnlyLiveKeysButRemovesExpiredOnesToo() {
    replica.apply(put("c1", "1"));
    replica.apply(put("c2", "2"));
    replica.apply(putExpiring("c3", "x", replica.now + 1));
    replica.apply(put("d", "4"));
    replica.now += 10;

    CommandResult r = replica.apply(deleteSpan("c", "d"));

    assertEquals(2, r.getDeleteSpan().getDeleted());
    assertEquals(5, r.getRevision());
    assertNull(replica.stored("c1"));
    assertNull(replica.stored("c2"));
    assertNull(replica.stored("c3"), "the expired key is removed though not counted");
    assertEquals("4", replica.value("d"), "the end is exclusive");
  }

  @Test
  void theSpanIsClippedToTheRangeAndNeighboursKeysSurvive() {
    neighbours("a", "az", "m", "m1", "z");
    replica.apply(put("b", "1"));
    replica.apply(put("l", "2"));
    replica.apply(put("lzz", "3"));

    CommandResult r = replica.apply(deleteSpan("a", "zz"));

    assertEquals(3, r.getDeleteSpan().getDeleted());
    for (String key : List.of("b", "l", "lzz")) {
      assertNull(replica.stored(key), key);
    }
    for (String key : List.of("a", "az", "m", "m1", "z")) {
      assertNotNull(replica.stored(key), () -> key + " belongs to another range");
    }
  }

  @Test
  void anEmptyEndMeansToTheEndOfTheRange() {
    neighbours("m", "n");
    replica.apply(put("c", "1"));
    replica.apply(put("k", "2"));
    CommandResult r = replica.apply(deleteSpan("d", ""));
    assertEquals(1, r.getDeleteSpan().getDeleted());
    assertNotNull(replica.stored("c"));
    assertNull(replica.stored("k"));
    assertNotNull(replica.stored("m"));
    assertNotNull(replica.stored("n"));
  }

  @Test
  void inTheLastRangeAnEmptyEndReachesEveryHigherKey() {
    Replica last = new Replica(new InMemoryKvEngine(), Replica.range(9, "m", "", 1, 1));
    last.apply(put("m", "1"));
    last.apply(put("zzzz", "2"));
    last.apply(put("\u00e9t\u00e9", "3")); // sorts above every ASCII key
    CommandResult r = last.apply(deleteSpan("", ""));
    assertEquals(3, r.getDeleteSpan().getDeleted());
    assertNull(last.stored("\u00e9t\u00e9"));
  }

  @Test
  void aSpanWithNoLiveKeysKeepsTheRevision() {
    replica.apply(put("c", "1"));
    CommandResult r = replica.apply(deleteSpan("d", "f"));
    assertEquals(0, r.getDeleteSpan().getDeleted());
    assertEquals(1, r.getRevision());
    assertTrue(replica.last.mutations().isEmpty());
  }

  @Test
  void aSpanThatMissesTheRangeDeletesNothing() {
    // The clipped span [x, m) is inverted: every engine must treat it as empty.
    neighbours("x");
    replica.apply(put("c", "1"));
    // [x, z) lies wholly above this range's [b, m); clipped, it is empty.
    CommandResult r = replica.apply(deleteSpan("x", "z"));
    assertEquals(0, r.getDeleteSpan().getDeleted());
    assertNotNull(replica.stored("c"));
    assertNotNull(replica.stored("x"));
  }

  @Test
  void keysRecreatedAfterASpanDeleteGetGreaterVersions() {
    long v = replica.apply(put("c", "1")).getPut().getVersion();
    replica.apply(deleteSpan("", ""));
    long again = replica.apply(Replica.putIf("c", "2", 0)).getPut().getVersion();
    assertTrue(again > v);
  }
}
