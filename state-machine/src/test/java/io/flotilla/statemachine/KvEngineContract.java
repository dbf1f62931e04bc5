package io.flotilla.statemachine;

import static io.flotilla.statemachine.Replica.k;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.flotilla.common.Keys;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * What every {@link KvEngine} must do; one subclass per engine supplies a fresh, empty engine
 * (and closes it afterwards).
 */
abstract class KvEngineContract {
  /** A new, empty engine. */
  abstract KvEngine engine();

  static List<String> keys(KvReader reader, ColumnFamily cf, String start, String end, boolean reverse) {
    List<String> out = new ArrayList<>();
    try (KvIterator it = reader.iterate(cf, k(start), k(end), reverse)) {
      for (; it.valid(); it.next()) {
        out.add(new String(it.key(), StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  static List<String> keys(KvReader reader, String start, String end, boolean reverse) {
    return keys(reader, ColumnFamily.DATA, start, end, reverse);
  }

  private static KvEngine fill(KvEngine e, String... keys) {
    Mutations m = new Mutations();
    for (String key : keys) {
      m.put(ColumnFamily.DATA, k(key), k("v-" + key));
    }
    e.write(m);
    return e;
  }

  // ---- point reads and writes ----

  @Test
  void anAbsentKeyReadsAsNull() {
    KvEngine e = engine();
    assertNull(e.get(ColumnFamily.DATA, k("a")));
    assertNull(e.get(ColumnFamily.META, k("a")));
  }

  @Test
  void columnFamiliesAreSeparateKeySpaces() {
    KvEngine e = engine();
    e.write(new Mutations().put(ColumnFamily.DATA, k("a"), k("data")).put(ColumnFamily.META, k("a"), k("meta"))
        .put(ColumnFamily.META, k("m"), k("x")));
    assertArrayEquals(k("data"), e.get(ColumnFamily.DATA, k("a")));
    assertArrayEquals(k("meta"), e.get(ColumnFamily.META, k("a")));
    assertNull(e.get(ColumnFamily.DATA, k("m")));
    assertEquals(List.of("a"), keys(e, ColumnFamily.DATA, "", "", false));
    assertEquals(List.of("a", "m"), keys(e, ColumnFamily.META, "", "", false));
    e.write(new Mutations().deleteSpan(ColumnFamily.DATA, k(""), Keys.END_OF_KEYSPACE));
    assertArrayEquals(k("meta"), e.get(ColumnFamily.META, k("a")), "a span delete stays in its family");
  }

  @Test
  void opsOfOneWriteApplyInOrderSoTheLastOneWins() {
    KvEngine e = engine();
    e.write(new Mutations()
        .put(ColumnFamily.DATA, k("a"), k("1")).put(ColumnFamily.DATA, k("a"), k("2"))
        .put(ColumnFamily.DATA, k("b"), k("1")).delete(ColumnFamily.DATA, k("b"))
        .delete(ColumnFamily.DATA, k("c")).put(ColumnFamily.DATA, k("c"), k("3"))
        .deleteSpan(ColumnFamily.DATA, k("d"), k("e")).put(ColumnFamily.DATA, k("d1"), k("4")));
    assertArrayEquals(k("2"), e.get(ColumnFamily.DATA, k("a")));
    assertNull(e.get(ColumnFamily.DATA, k("b")));
    assertArrayEquals(k("3"), e.get(ColumnFamily.DATA, k("c")));
    assertArrayEquals(k("4"), e.get(ColumnFamily.DATA, k("d1")), "a put after a span delete survives it");
  }

  @Test
  void anEmptyWriteChangesNothing() {
    KvEngine e = fill(engine(), "a");
    e.write(new Mutations());
    assertEquals(List.of("a"), keys(e, "", "", false));
  }

  @Test
  void emptyValuesAreStoredAsEmptyNotAbsent() {
    KvEngine e = engine();
    e.write(new Mutations().put(ColumnFamily.DATA, k("a"), new byte[0]));
    assertArrayEquals(new byte[0], e.get(ColumnFamily.DATA, k("a")));
  }

  // ---- iteration ----

  @Test
  void forwardIterationIncludesTheStartAndExcludesTheEnd() {
    KvEngine e = fill(engine(), "a", "b", "c", "d");
    assertEquals(List.of("a", "b", "c", "d"), keys(e, "", "", false));
    assertEquals(List.of("b", "c"), keys(e, "b", "d", false));
    assertEquals(List.of("b", "c"), keys(e, "aa", "cc", false));
    assertEquals(List.of("c", "d"), keys(e, "c", "", false), "empty end means +infinity");
  }

  @Test
  void reverseIterationCoversTheSameSpanDescending() {
    KvEngine e = fill(engine(), "a", "b", "c", "d");
    assertEquals(List.of("d", "c", "b", "a"), keys(e, "", "", true));
    assertEquals(List.of("c", "b"), keys(e, "b", "d", true), "the end key is excluded going backwards too");
    assertEquals(List.of("c", "b"), keys(e, "aa", "cc", true));
    assertEquals(List.of("d", "c"), keys(e, "c", "", true));
    assertEquals(List.of("a"), keys(e, "", "b", true));
  }

  @Test
  void iteratorsReturnKeysWithTheirValues() {
    KvEngine e = fill(engine(), "a", "b");
    try (KvIterator it = e.iterate(ColumnFamily.DATA, k("b"), k(""), false)) {
      assertArrayEquals(k("b"), it.key());
      assertArrayEquals(k("v-b"), it.value());
    }
  }

  @Test
  void keysOrderAsUnsignedBytes() {
    // "é" is 0xC3 0xA9 in UTF-8: a signed comparison would put it before "a".
    KvEngine e = fill(engine(), "\u00e9", "z", "a", "ab", "a\u0000");
    assertEquals(List.of("a", "a\u0000", "ab", "z", "\u00e9"), keys(e, "", "", false));
    assertEquals(List.of("\u00e9", "z", "ab", "a\u0000", "a"), keys(e, "", "", true));
    assertEquals(List.of("z", "\u00e9"), keys(e, "b", "", false));
  }

  @Test
  void anEmptySpanYieldsNothing() {
    KvEngine e = fill(engine(), "a", "b", "c");
    assertEquals(List.of(), keys(e, "b", "b", false));
    assertEquals(List.of(), keys(e, "b", "b", true));
    assertEquals(List.of(), keys(e, "bb", "bc", false));
    assertEquals(List.of(), keys(e, "d", "", true));
    assertEquals(List.of(), keys(engine(), "", "", false));
    assertEquals(List.of(), keys(engine(), "", "", true));
  }

  @Test
  void aSpanWhoseStartIsPastItsEndYieldsNothing() {
    // RangeLogic and RangeQueries clip a request's span to the range and may hand the engine an
    // inverted span (start > end): it holds nothing, in every engine.
    KvEngine e = fill(engine(), "a", "b", "c", "d");
    assertEquals(List.of(), keys(e, "c", "b", false));
    assertEquals(List.of(), keys(e, "c", "b", true));
  }

  @Test
  void anOpenIteratorDoesNotSeeWritesMadeAfterItWasCreated() {
    KvEngine e = fill(engine(), "a", "c");
    List<String> seen = new ArrayList<>();
    try (KvIterator it = e.iterate(ColumnFamily.DATA, k(""), k(""), false)) {
      e.write(new Mutations().put(ColumnFamily.DATA, k("b"), k("new")).delete(ColumnFamily.DATA, k("c")));
      for (; it.valid(); it.next()) {
        seen.add(new String(it.key(), StandardCharsets.UTF_8));
      }
    }
    assertEquals(List.of("a", "c"), seen);
  }

  // ---- deletes ----

  @Test
  void aSpanDeleteRemovesExactlyItsHalfOpenSpan() {
    KvEngine e = fill(engine(), "a", "b", "bb", "c", "d");
    e.write(new Mutations().deleteSpan(ColumnFamily.DATA, k("b"), k("d")));
    assertEquals(List.of("a", "d"), keys(e, "", "", false));
    assertEquals(List.of("d", "a"), keys(e, "", "", true));
    assertNull(e.get(ColumnFamily.DATA, k("bb")));
  }

  @Test
  void aSpanDeleteUpToTheEndOfTheKeySpaceRemovesEveryKeyFromItsStart() {
    KvEngine e = fill(engine(), "a", "m", "z", "\u00e9t\u00e9");
    e.write(new Mutations().deleteSpan(ColumnFamily.DATA, k("m"), Keys.END_OF_KEYSPACE));
    assertEquals(List.of("a"), keys(e, "", "", false));
  }

  @Test
  void deletingAbsentKeysOrAnEmptySpanIsHarmless() {
    KvEngine e = fill(engine(), "a", "c");
    e.write(new Mutations().delete(ColumnFamily.DATA, k("b")).deleteSpan(ColumnFamily.DATA, k("x"), k("y")));
    assertEquals(List.of("a", "c"), keys(e, "", "", false));
  }

  @Test
  void aDeletedKeyCanBeWrittenAgain() {
    KvEngine e = fill(engine(), "a", "b");
    e.write(new Mutations().deleteSpan(ColumnFamily.DATA, k("a"), k("c")));
    e.write(new Mutations().put(ColumnFamily.DATA, k("a"), k("again")));
    assertArrayEquals(k("again"), e.get(ColumnFamily.DATA, k("a")));
    assertEquals(List.of("a"), keys(e, "", "", false));
  }

  // ---- snapshots ----

  @Test
  void aSnapshotDoesNotSeeLaterPutsDeletesOrSpanDeletes() {
    KvEngine e = fill(engine(), "a", "b", "c", "d");
    e.write(new Mutations().put(ColumnFamily.META, k("m"), k("1")));
    try (KvEngine.Snapshot snap = e.snapshot()) {
      e.write(new Mutations().put(ColumnFamily.DATA, k("a"), k("changed")).put(ColumnFamily.DATA, k("aa"), k("new"))
          .delete(ColumnFamily.DATA, k("b")).deleteSpan(ColumnFamily.DATA, k("c"), k("e"))
          .put(ColumnFamily.META, k("m"), k("2")));

      assertArrayEquals(k("v-a"), snap.get(ColumnFamily.DATA, k("a")));
      assertNull(snap.get(ColumnFamily.DATA, k("aa")));
      assertArrayEquals(k("v-b"), snap.get(ColumnFamily.DATA, k("b")));
      assertArrayEquals(k("1"), snap.get(ColumnFamily.META, k("m")));
      assertEquals(List.of("a", "b", "c", "d"), keys(snap, "", "", false));
      assertEquals(List.of("d", "c", "b"), keys(snap, "b", "", true));

      assertEquals(List.of("a", "aa"), keys(e, "", "", false), "the engine itself sees the writes");
      assertArrayEquals(k("2"), e.get(ColumnFamily.META, k("m")));
    }
  }

  @Test
  void snapshotsTakenAtDifferentTimesSeeDifferentStates() {
    KvEngine e = fill(engine(), "a");
    try (KvEngine.Snapshot first = e.snapshot()) {
      fill(e, "b");
      try (KvEngine.Snapshot second = e.snapshot()) {
        fill(e, "c");
        assertEquals(List.of("a"), keys(first, "", "", false));
        assertEquals(List.of("a", "b"), keys(second, "", "", false));
        assertEquals(List.of("a", "b", "c"), keys(e, "", "", false));
      }
    }
  }

  // ---- against a model ----

  @Test
  void randomWritesAndIterationsAgreeWithASortedMap() {
    long seed = Seeds.announce(getClass());
    String replay = Seeds.describe(seed);
    Random random = new Random(seed);
    KvEngine e = engine();
    TreeMap<byte[], byte[]> model = new TreeMap<>(Keys.ORDER);
    for (int r = 0; r < 200; r++) {
      int round = r;
      Mutations m = new Mutations();
      for (int i = random.nextInt(5); i >= 0; i--) {
        byte[] key = randomKey(random, 1);
        switch (random.nextInt(4)) {
          case 0, 1 -> {
            byte[] value = k("r" + round + "." + i);
            m.put(ColumnFamily.DATA, key, value);
            model.put(key, value);
          }
          case 2 -> {
            m.delete(ColumnFamily.DATA, key);
            model.remove(key);
          }
          default -> {
            byte[] other = randomKey(random, 1);
            byte[] start = Keys.compare(key, other) <= 0 ? key : other;
            byte[] end = Keys.compare(key, other) <= 0 ? other : key;
            if (end.length > 0) {
              m.deleteSpan(ColumnFamily.DATA, start, end);
              model.subMap(start, true, end, false).clear();
            }
          }
        }
      }
      e.write(m);
      byte[] a = randomKey(random, 0);
      byte[] b = randomKey(random, 0);
      byte[] start = Keys.compare(a, b) <= 0 ? a : b;
      byte[] end = random.nextInt(4) == 0 ? new byte[0] : (Keys.compare(a, b) <= 0 ? b : a);
      boolean reverse = random.nextBoolean();
      NavigableMap<byte[], byte[]> span = end.length == 0 ? model.tailMap(start, true) : model.subMap(start, true, end, false);
      List<String> expected = new ArrayList<>();
      (reverse ? span.descendingMap() : span).forEach((key, value) ->
          expected.add(new String(key, StandardCharsets.ISO_8859_1) + "=" + new String(value, StandardCharsets.UTF_8)));
      List<String> actual = new ArrayList<>();
      try (KvIterator it = e.iterate(ColumnFamily.DATA, start, end, reverse)) {
        for (; it.valid(); it.next()) {
          actual.add(new String(it.key(), StandardCharsets.ISO_8859_1) + "=" + new String(it.value(), StandardCharsets.UTF_8));
        }
      }
      assertEquals(expected, actual, () -> "round " + round + ", " + replay);
    }
  }

  /** Short keys over a small alphabet (including a high byte), so writes collide and spans overlap. */
  private static byte[] randomKey(Random random, int minLength) {
    byte[] alphabet = {'a', 'b', 'c', (byte) 0xc3};
    byte[] key = new byte[minLength + random.nextInt(4 - minLength)];
    for (int i = 0; i < key.length; i++) {
      key[i] = alphabet[random.nextInt(alphabet.length)];
    }
    return key;
  }
}
