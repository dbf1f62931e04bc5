package io.flotilla.api.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterSpecTest {
  @Test
  void nodeIGetsItsOwnLoopbackAddressWithTheSamePorts() {
    ClusterSpec spec = ClusterSpec.defaults(3, Path.of("data"), "127.0.0.11", 7001, 7101);
    assertEquals("http://127.0.0.13:7001", spec.httpUrl(3));
    assertEquals("127.0.0.12:7101", spec.raftAddress(2));
    assertEquals("n2", spec.nodeId(2));
    assertTrue(spec.nodeDir(1).isAbsolute());
    @SuppressWarnings("unchecked")
    Map<String, Object> flotilla = (Map<String, Object>) spec.nodeConfig(2).get("flotilla");
    assertEquals("n2", flotilla.get("id"));
    assertEquals(3, ((List<?>) flotilla.get("peers")).size());
  }

  @Test
  void onlyLoopbackAddressesAreAccepted() {
    ClusterSpec spec = ClusterSpec.defaults(3, Path.of("data"), "10.0.0.1", 7001, 7101);
    assertThrows(IllegalArgumentException.class, () -> spec.ip(1));
  }

  @Test
  void evenSplitsAreSortedDistinctAndCountRangesMinusOne() {
    List<String> splits = ClusterSpec.evenSplits(100);
    assertEquals(99, splits.size());
    for (int i = 1; i < splits.size(); i++) {
      assertTrue(splits.get(i - 1).compareTo(splits.get(i)) < 0);
    }
    assertEquals(List.of(), ClusterSpec.evenSplits(1));
  }
}
