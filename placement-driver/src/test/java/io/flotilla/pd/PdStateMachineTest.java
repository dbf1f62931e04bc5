package io.flotilla.pd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.proto.NodeAddress;
import io.flotilla.proto.PdCommand;
import io.flotilla.proto.NodeStateChange;
import io.flotilla.proto.PdOperator;
import io.flotilla.proto.PdSnapshot;
import io.flotilla.proto.PdState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Joins as the PD log applies them: new members are recorded once, taken ids and addresses
 * refused; copies of applied commands are not applied again; snapshots keep all of it.
 */
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

  /**
   * A snapshot holds everything the log built: a replica restored from it has the same state,
   * refuses the same conflicting joins, and still knows which calls it applied.
   */
  @Test
  void aReplicaRestoredFromASnapshotHasTheSameStateAndRecognisesCopies() throws Exception {
    PdStateMachine pd = new PdStateMachine(List.of(node("n1", 11), node("n2", 12), node("n3", 13)));
    ClientId client = ClientId.randomId();
    PdOperator first = PdOperator.newBuilder().setId("op-1").setRangeId(3).setKind("move").setStatus("running").build();
    PdOperator second = PdOperator.newBuilder().setId("op-2").setRangeId(4).setKind("split").setStatus("running").build();
    PdCommand declared = PdCommand.newBuilder().setNodeState(NodeStateChange.newBuilder().setNode("n2")
        .setState("DECOMMISSIONING")).build();
    pd.applyTransaction(entry(pd, 1, client, 1, join(node("n4", 14)))).get();
    pd.applyTransaction(entry(pd, 2, client, 2, PdCommand.newBuilder().setOperator(first).build())).get();
    pd.applyTransaction(entry(pd, 3, client, 3, PdCommand.newBuilder().setOperator(second).build())).get();
    pd.applyTransaction(entry(pd, 4, client, 4,
        PdCommand.newBuilder().setOperator(first.toBuilder().setStatus("succeeded")).build())).get();
    pd.applyTransaction(entry(pd, 5, client, 5, declared)).get();

    PdSnapshot snapshot = pd.snapshot();
    assertEquals(5, snapshot.getAppliedIndex());
    assertEquals(1, snapshot.getAppliedTerm());

    PdStateMachine restored = new PdStateMachine(List.of(node("n1", 11), node("n2", 12), node("n3", 13)));
    List<String> announced = new ArrayList<>();
    restored.onJoin(n -> announced.add(n.getId()));
    restored.restore(snapshot);
    assertEquals(pd.state(), restored.state());
    assertTrue(restored.apply(join(node("n5", 14))).contains("already uses"), "n4's addresses, joined before the snapshot");

    // A late copy of call 2 (op-1 starting) must not bring back the finished operator.
    restored.applyTransaction(entry(restored, 6, client, 2, PdCommand.newBuilder().setOperator(first).build())).get();
    assertEquals(pd.state(), restored.state(), "the copy changed nothing");
    assertEquals(List.of(), announced, "restore itself announces nothing; loading a snapshot does");
  }

  @Test
  void aSnapshotFileIsReplacedWhole(@TempDir Path dir) throws Exception {
    PdSnapshotFile file = new PdSnapshotFile(dir.resolve("sm"));
    assertTrue(file.read().isEmpty());
    PdSnapshot one = PdSnapshot.newBuilder().setAppliedTerm(1).setAppliedIndex(10).build();
    PdSnapshot two = PdSnapshot.newBuilder().setAppliedTerm(2).setAppliedIndex(20)
        .setState(PdState.newBuilder().addJoined(node("n4", 14))).build();
    file.write(one);
    assertEquals(one, file.read().orElseThrow());
    file.write(two);
    assertEquals(two, file.read().orElseThrow());
    try (var files = Files.list(dir.resolve("sm"))) {
      assertEquals(List.of(PdSnapshotFile.NAME), files.map(p -> p.getFileName().toString()).toList(),
          "nothing left beside the snapshot");
    }
  }

  private static TransactionContext entry(PdStateMachine pd, long index, ClientId client, long callId, PdCommand command) {
    LogEntryProto entry = LogEntryProto.newBuilder().setTerm(1).setIndex(index)
        .setStateMachineLogEntry(StateMachineLogEntryProto.newBuilder().setClientId(client.toByteString())
            .setCallId(callId).setLogData(ByteString.copyFrom(command.toByteArray())))
        .build();
    return TransactionContext.newBuilder().setStateMachine(pd).setServerRole(RaftPeerRole.FOLLOWER).setLogEntry(entry).build();
  }
}
