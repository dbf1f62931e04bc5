package io.flotilla.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

class AppliedCallsTest {
  private static ByteString client(int n) {
    return ByteString.copyFrom(new byte[] {(byte) n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, (byte) (n >> 8)});
  }

  @Test
  void anAppliedCallIsACopyButACallResentBehindLaterOnesIsNot() {
    AppliedCalls calls = AppliedCalls.of(java.util.List.of());
    assertFalse(calls.isCopy(client(1), 40), "a client never seen");
    calls.record(client(1), 40, 7);
    calls.record(client(1), 42, 8); // 41 was refused by a leader not ready yet and is resent
    assertTrue(calls.isCopy(client(1), 40), "the same call again");
    assertTrue(calls.isCopy(client(1), 42));
    assertFalse(calls.isCopy(client(1), 41), "a call resent behind a later one still applies");
    calls.record(client(1), 41, 9);
    assertTrue(calls.isCopy(client(1), 41));
    assertFalse(calls.isCopy(client(1), 12), "older than the first applied call, but the window is not full");
    assertFalse(calls.isCopy(client(1), 43), "the client's next call");
    assertFalse(calls.isCopy(client(2), 40), "another client's call with the same id");
  }

  @Test
  void aCallOlderThanTheWholeWindowIsALateCopy() {
    AppliedCalls calls = AppliedCalls.of(java.util.List.of());
    for (int i = 0; i < 100; i++) {
      calls.record(client(1), 1000 + 2 * i, i + 1); // every other call id: reads use the others
    }
    long oldestKept = 1000 + 2 * (100 - AppliedCalls.WINDOW);
    assertTrue(calls.isCopy(client(1), 1010), "applied long ago, now delivered again");
    assertTrue(calls.isCopy(client(1), oldestKept - 1), "behind the whole window");
    assertTrue(calls.isCopy(client(1), oldestKept));
    assertFalse(calls.isCopy(client(1), oldestKept + 1), "inside the window and never applied");
  }

  @Test
  void theTableSurvivesItsRecordAndEveryReplicaRecordsTheSame() {
    AppliedCalls a = AppliedCalls.of(java.util.List.of());
    AppliedCalls b = AppliedCalls.of(java.util.List.of());
    for (int i = 0; i < 10; i++) {
      a.record(client(i % 3), 100 + i, 10 + i);
      b.record(client(i % 3), 100 + i, 10 + i);
    }
    assertEquals(a.recorded(), b.recorded());
    AppliedCalls reloaded = AppliedCalls.of(a.recorded());
    assertEquals(3, reloaded.size());
    assertTrue(reloaded.isCopy(client(0), 109));
    assertFalse(reloaded.isCopy(client(1), 108));
    assertTrue(reloaded.isCopy(client(1), 107));
  }

  @Test
  void theClientThatWroteLongestAgoIsForgottenBeyondTheLimit() {
    AppliedCalls calls = AppliedCalls.of(java.util.List.of());
    for (int i = 0; i < AppliedCalls.MAX_CLIENTS; i++) {
      calls.record(client(i), 5, i + 1);
    }
    calls.record(client(0), 6, 1000); // client 0 writes again: client 1 is now the quietest
    calls.record(client(AppliedCalls.MAX_CLIENTS), 5, 1001);
    assertEquals(AppliedCalls.MAX_CLIENTS, calls.size());
    assertFalse(calls.isCopy(client(1), 5), "forgotten");
    assertTrue(calls.isCopy(client(0), 6));
    assertTrue(calls.isCopy(client(2), 5));
    assertTrue(calls.isCopy(client(AppliedCalls.MAX_CLIENTS), 5));
  }
}
