package io.flotilla.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.proto.RangeDescriptor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InitialLayoutTest {
  @Test
  void splitKeysTileTheKeySpaceIntoRangesNumberedInKeyOrder() {
    List<RangeDescriptor> ranges = InitialLayout.of(List.of("n1", "n2", "n3"), List.of("t", "g", "n"), 3);
    assertEquals(4, ranges.size());
    assertEquals("", ranges.get(0).getStart().toStringUtf8());
    assertEquals("g", ranges.get(0).getEnd().toStringUtf8());
    assertEquals("t", ranges.get(3).getStart().toStringUtf8());
    assertTrue(ranges.get(3).getEnd().isEmpty());
    for (int i = 0; i < ranges.size(); i++) {
      assertEquals(i + 1, ranges.get(i).getId());
      assertEquals(3, ranges.get(i).getReplicasCount());
    }
  }

  @Test
  void replicasSpreadRoundRobinSoEveryNodeIsFirstForSomeRange() {
    List<RangeDescriptor> ranges = InitialLayout.of(List.of("n1", "n2", "n3", "n4", "n5"), List.of("c", "f", "j", "p"), 3);
    Map<String, Integer> replicas = new HashMap<>();
    Map<String, Integer> first = new HashMap<>();
    for (RangeDescriptor r : ranges) {
      r.getReplicasList().forEach(n -> replicas.merge(n, 1, Integer::sum));
      first.merge(r.getReplicas(0), 1, Integer::sum);
      assertEquals(3, r.getReplicasList().stream().distinct().count());
    }
    assertEquals(5, replicas.size());
    replicas.values().forEach(n -> assertEquals(3, n));
    assertEquals(5, first.size());
  }

  @Test
  void aOneNodeClusterHasOneReplicaPerRange() {
    InitialLayout.of(List.of("n1"), List.of("m"), 3).forEach(r -> assertEquals(List.of("n1"), r.getReplicasList()));
  }
}
