package io.flotilla.pd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.proto.NodeAddress;
import io.flotilla.proto.PdCommand;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Joins as the PD log applies them: new members are recorded once, taken ids and addresses refused. */
class PdStateMachineTest {
  private static NodeAddress node(String id, int last) {
    return NodeAddress.newBuilder().setId(id).setHttp("http://127.0.0." + last + ":7001")
        .setRaft("127.0.0." + last + ":7101").build();
  }

  private static PdCommand join(NodeAddress n) {
    return PdCommand.newBuilder().setJoin(n).build();
  }

  @Test
  void aJoinIsRecordedOnceAndConflictingOnesAreRefused() {
    PdStateMachine pd = new PdStateMachine(List.of(node("n1", 11), node("n2", 12), node("n3", 13)));
    List<String> announced = new ArrayList<>();
    pd.onJoin(n -> announced.add(n.getId()));

    assertNull(pd.apply(join(node("n4", 14))));
    assertNull(pd.apply(join(node("n4", 14))), "joining again with the same addresses is fine");
    assertTrue(pd.apply(join(node("n4", 15))).contains("taken"), "n4 is at .14 already");
    assertTrue(pd.apply(join(node("n2", 16))).contains("taken"), "a configured member's id");
    assertTrue(pd.apply(join(node("n5", 13))).contains("already uses"), "n3's addresses");

    assertEquals(List.of(node("n4", 14)), pd.state().getJoinedList());
    assertEquals(List.of("n4", "n4"), announced, "every accepted join is announced, repeats included (idempotent)");
  }
}
