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
  void pendingRequestsPerGroupAreBoundedFarBelowRatisDefaultsAndTheLogQueueIsLeftAlone() {
    RaftProperties p = server(settings(1 << 20));

    assertEquals(RaftTuning.QUEUE_ENTRIES, RaftServerConfigKeys.Write.elementLimit(p));
    assertEquals(16L << 20, RaftServerConfigKeys.Write.byteLimit(p).getSize());
    assertTrue(RaftServerConfigKeys.Write.byteLimit(p).getSize()
        < RaftServerConfigKeys.Write.BYTE_LIMIT_DEFAULT.getSize());
    // A full log queue blocks its appender, a network thread on followers: Ratis's bound stays.
    assertEquals(RaftServerConfigKeys.Log.QUEUE_BYTE_LIMIT_DEFAULT, RaftServerConfigKeys.Log.queueByteLimit(p));
    assertEquals(RaftServerConfigKeys.Log.QUEUE_ELEMENT_LIMIT_DEFAULT, RaftServerConfigKeys.Log.queueElementLimit(p));
  }

  @Test
  void pendingRequestsHoldTwoOfTheLargestEntriesWhenThoseAreLarge() {
    int largest = 12 << 20;
    long bytes = RaftServerConfigKeys.Write.byteLimit(server(settings(largest))).getSize();
    assertTrue(bytes >= 2L * largest, "a group must take the largest entry: " + bytes);
  }
}
