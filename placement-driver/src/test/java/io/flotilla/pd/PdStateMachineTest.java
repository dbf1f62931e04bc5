package io.flotilla.pd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.proto.NodeAddress;
import io.flotilla.proto.PdCommand;
import io.flotilla.proto.PdOperator;
import java.util.ArrayList;
import java.util.List;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
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

  /**
   * A copy of a command applied before (a late network copy of a client's request) is not
   * applied again: it would bring back an operator that already finished.
   */
  @Test
  void aCopyOfAnAppliedCommandDoesNotUndoALaterOne() throws Exception {
    PdStateMachine pd = new PdStateMachine(List.of(node("n1", 11)));
    ClientId client = ClientId.randomId();
    PdOperator running = PdOperator.newBuilder().setId("op-1").setRangeId(3).setKind("move").setStatus("running").build();
    PdCommand start = PdCommand.newBuilder().setOperator(running).build();
    PdCommand done = PdCommand.newBuilder().setOperator(running.toBuilder().setStatus("succeeded")).build();

    pd.applyTransaction(entry(pd, 1, client, 40, start)).get();
    pd.applyTransaction(entry(pd, 2, client, 41, done)).get();
    pd.applyTransaction(entry(pd, 3, client, 40, start)).get(); // the copy

    List<PdOperator> ops = pd.state().getOperatorsList();
    assertEquals(1, ops.size(), ops::toString);
    assertEquals("succeeded", ops.get(0).getStatus());
    assertEquals(3, pd.getLastAppliedTermIndex().getIndex(), "the copy's index still counts as applied");
  }

  private static TransactionContext entry(PdStateMachine pd, long index, ClientId client, long callId, PdCommand command) {
    LogEntryProto entry = LogEntryProto.newBuilder().setTerm(1).setIndex(index)
        .setStateMachineLogEntry(StateMachineLogEntryProto.newBuilder().setClientId(client.toByteString())
            .setCallId(callId).setLogData(ByteString.copyFrom(command.toByteArray())))
        .build();
    return TransactionContext.newBuilder().setStateMachine(pd).setServerRole(RaftPeerRole.FOLLOWER).setLogEntry(entry).build();
  }
}
