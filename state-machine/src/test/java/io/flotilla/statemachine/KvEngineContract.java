package io.flotilla.statemachine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What every {@link KvEngine} must do; one subclass per engine. */
abstract class KvEngineContract {
  abstract KvEngine engine();

  static byte[] k(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static List<String> keys(KvReader reader, String start, String end, boolean reverse) {
    List<String> out = new ArrayList<>();
    try (KvIterator it = reader.iterate(ColumnFamily.DATA, k(start), k(end), reverse)) {
      for (; it.valid(); it.next()) {
        out.add(new String(it.key(), StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  @Test
  void writesApplyAcrossColumnFamiliesAndIterationHonoursBoundsBothWays() {
    KvEngine e = engine();
    e.write(new Mutations().put(ColumnFamily.DATA, k("a"), k("1")).put(ColumnFamily.DATA, k("b"), k("2"))
        .put(ColumnFamily.DATA, k("c"), k("3")).put(ColumnFamily.META, k("m"), k("x")));
    assertArrayEquals(k("x"), e.get(ColumnFamily.META, k("m")));
    assertNull(e.get(ColumnFamily.META, k("a")));
    assertEquals(List.of("a", "b", "c"), keys(e, "", "", false));
    assertEquals(List.of("b"), keys(e, "b", "c", false));
    assertEquals(List.of("c", "b", "a"), keys(e, "", "", true));
    assertEquals(List.of("b", "a"), keys(e, "", "c", true), "reverse scans exclude the end key");
    assertEquals(List.of("c", "b"), keys(e, "b", "", true));
  }

  @Test
  void deletesAndSpanDeletesRemoveOnlyWhatTheyName() {
    KvEngine e = engine();
    e.write(new Mutations().put(ColumnFamily.DATA, k("a"), k("1")).put(ColumnFamily.DATA, k("b"), k("2"))
        .put(ColumnFamily.DATA, k("c"), k("3")).put(ColumnFamily.DATA, k("d"), k("4")));
    e.write(new Mutations().delete(ColumnFamily.DATA, k("a")).deleteSpan(ColumnFamily.DATA, k("b"), k("d")));
    assertEquals(List.of("d"), keys(e, "", "", false));
  }

  @Test
  void aSnapshotDoesNotSeeLaterWrites() {
    KvEngine e = engine();
    e.write(new Mutations().put(ColumnFamily.DATA, k("a"), k("1")));
    try (KvEngine.Snapshot snap = e.snapshot()) {
      e.write(new Mutations().put(ColumnFamily.DATA, k("a"), k("2")).put(ColumnFamily.DATA, k("b"), k("3")));
      assertArrayEquals(k("1"), snap.get(ColumnFamily.DATA, k("a")));
      assertEquals(List.of("a"), keys(snap, "", "", false));
    }
    assertArrayEquals(k("2"), e.get(ColumnFamily.DATA, k("a")));
  }
}
