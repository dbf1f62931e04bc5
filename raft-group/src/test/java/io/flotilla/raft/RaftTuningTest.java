package io.flotilla.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.time.Duration;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.junit.jupiter.api.Test;

class RaftTuningTest {

  private static RaftSettings settings(int maxEntryBytes) {
    return new RaftSettings(Duration.ofMillis(150), Duration.ofMillis(300), 20, 8 << 20, Duration.ofSeconds(3), 40,
        maxEntryBytes, true, true, Duration.ZERO);
  }

  private static RaftProperties server(RaftSettings s) {
    return RaftTuning.server(s, new File("unused"), "127.0.0.1", 1);
  }

  @Test
  void perGroupQueuesAreBoundedFarBelowRatisDefaults() {
    RaftProperties p = server(settings(1 << 20));

    assertEquals(RaftTuning.QUEUE_ENTRIES, RaftServerConfigKeys.Write.elementLimit(p));
    assertEquals(RaftTuning.QUEUE_ENTRIES, RaftServerConfigKeys.Log.queueElementLimit(p));
    assertEquals(16L << 20, RaftServerConfigKeys.Write.byteLimit(p).getSize());
    assertEquals(16L << 20, RaftServerConfigKeys.Log.queueByteLimit(p).getSize());
    assertTrue(RaftServerConfigKeys.Write.byteLimit(p).getSize()
        < RaftServerConfigKeys.Write.BYTE_LIMIT_DEFAULT.getSize());
    assertTrue(RaftServerConfigKeys.Log.queueByteLimit(p).getSize()
        < RaftServerConfigKeys.Log.QUEUE_BYTE_LIMIT_DEFAULT.getSize());
  }

  @Test
  void queuesHoldTwoOfTheLargestEntriesWhenThoseAreLarge() {
    int largest = 12 << 20;
    RaftProperties p = server(settings(largest));

    long bytes = RaftServerConfigKeys.Log.queueByteLimit(p).getSize();
    assertEquals(bytes, RaftServerConfigKeys.Write.byteLimit(p).getSize());
    assertTrue(bytes >= 2L * largest, "the log worker's queue must take the largest entry: " + bytes);
  }
}
