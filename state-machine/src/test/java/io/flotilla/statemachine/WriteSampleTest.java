package io.flotilla.statemachine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.flotilla.proto.BatchEntry;
import io.flotilla.proto.BatchOp;
import io.flotilla.proto.Command;
import io.flotilla.proto.PutOp;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class WriteSampleTest {
  private static Command put(String key) {
    return Command.newBuilder().setPut(PutOp.newBuilder().setKey(ByteString.copyFromUtf8(key))).build();
  }

  private static String median(WriteSample s, String start, String end) {
    return s.median(Replica.range(1, start, end, 1, 1)).map(k -> new String(k, StandardCharsets.UTF_8)).orElse(null);
  }

  @Test
  void theMedianFollowsTheRecentWritesNotTheData() {
    WriteSample s = new WriteSample();
    for (int i = 0; i < 1000; i++) { // old writes spread over a..z: pushed out of the sample
      s.record(put((char) ('a' + i % 26) + "/" + i));
    }
    for (int i = 0; i < WriteSample.CAPACITY; i++) { // then everyone writes near the end
      s.record(put("x/" + (1000 + i)));
    }
    String m = median(s, "", "");
    assertTrue(m.startsWith("x/"), m);
    assertEquals(m, median(s, "b", "z"));
  }

  @Test
  void writesMostlyOnOneKeyGiveNoSplitPoint() {
    WriteSample s = new WriteSample();
    for (int i = 0; i < 200; i++) {
      s.record(put("k/hot"));
    }
    for (int i = 0; i < 20; i++) {
      s.record(put("k/cold/" + i));
    }
    assertEquals(null, median(s, "", ""), "splitting at the hot key would move all of its load to one side");
  }

  @Test
  void keysOutsideTheSpanOrOnItsStartDoNotCountAndLongKeysAreCut() {
    WriteSample s = new WriteSample();
    s.record(Command.newBuilder().setBatch(BatchOp.newBuilder()
        .addEntries(BatchEntry.newBuilder().setPut(PutOp.newBuilder().setKey(ByteString.copyFromUtf8("m"))))
        .addEntries(BatchEntry.newBuilder().setPut(PutOp.newBuilder().setKey(ByteString.copyFromUtf8("a"))))).build());
    assertEquals(null, median(s, "m", ""), "only the start key itself: nothing to split at");
    s.record(put("p" + "q".repeat(500)));
    s.record(put("o"));
    assertEquals("p" + "q".repeat(WriteSample.KEY_PREFIX - 1), median(s, "m", "z"));
  }
}
