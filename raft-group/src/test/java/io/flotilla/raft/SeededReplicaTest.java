package io.flotilla.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.flotilla.client.RangeGroups;
import io.flotilla.common.ClusterNode;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.PutOp;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.statemachine.InMemoryKvEngine;
import io.flotilla.statemachine.RangeSnapshots;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adding a replica the way a move does: copy a snapshot to the new node and create its group
 * there, then add it to the Raft configuration. The leader may take a while to get to the
 * second step (a big copy, a busy node); the new replica must still be alive and catch up then.
 * And the move's last step: the old replica, once out of the configuration, is dropped.
 */
class SeededReplicaTest {
  @TempDir
  Path dir;

  private static int freePort(String address) throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName(address))) {
      return s.getLocalPort();
    }
  }

  private static RaftSettings fast() {
    return new RaftSettings(Duration.ofMillis(150), Duration.ofMillis(300), 20, 1 << 20, Duration.ofSeconds(3), 20, 1 << 20, true, true, Duration.ZERO);
  }

  private static Command putCommand(RangeDescriptor range, String key) {
    return Command.newBuilder().setRangeId(range.getId()).setEpoch(range.getEpoch())
        .setProposedAtMillis(System.currentTimeMillis())
        .setPut(PutOp.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8("v")))
        .build();
  }

  private static CommandResult put(NodeHost host, RangeDescriptor range, String key) throws Exception {
    return host.client(range).write(putCommand(range, key)).get(30, TimeUnit.SECONDS);
  }

  private final List<ClusterNode> nodes = new ArrayList<>();
  private final List<InMemoryKvEngine> engines =
      List.of(new InMemoryKvEngine(), new InMemoryKvEngine(), new InMemoryKvEngine());
  private final List<NodeHost> hosts = new ArrayList<>();

  /** Three nodes, one range on n1 and n2 (replication 2); snapshots copied between engines. */
  private void startNodes() throws IOException {
    for (int i = 1; i <= 3; i++) {
      String address = "127.0.9.1" + i;
      nodes.add(new ClusterNode("n" + i, "http://" + address + ":1", address + ":" + freePort(address)));
    }
    SnapshotSource source = (node, rangeId) -> {
      int i = Integer.parseInt(node.substring(1)) - 1;
      hosts.get(i).replica(rangeId).orElseThrow().recordApplied();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      RangeSnapshots.write(engines.get(i), rangeId, out);
      return new ByteArrayInputStream(out.toByteArray());
    };
    for (int i = 0; i < 3; i++) {
      hosts.add(new NodeHost(nodes.get(i), nodes, engines.get(i), dir.resolve("n" + (i + 1)).toFile(), fast(),
          source));
    }
    for (NodeHost h : hosts) {
      h.start(List.of(), 2);
    }
  }

  /** Polls {@code done} every 50 ms until it holds, for 20 s at most; the caller asserts after. */
  private static void waitUntil(java.util.function.BooleanSupplier done) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!done.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
  }

  @AfterEach
  void stopNodes() throws IOException {
    for (NodeHost h : hosts) {
      h.close();
    }
  }

  @Test
  void aSeededReplicaWaitsForTheLeaderToAddItThenCatchesUp() throws Exception {
    startNodes();
    NodeHost h1 = hosts.get(0);
    NodeHost h3 = hosts.get(2);
    RangeDescriptor range = h1.routing().all().get(0);
    assertEquals(List.of("n1", "n2"), range.getReplicasList());
    for (int i = 0; i < 10; i++) {
      assertTrue(put(h1, range, "k" + i).hasPut());
    }
    String before = h1.client(range).leaderHint();

    h3.seedReplica(range, List.of("n1", "n2", "n3"), before);
    // Leadership changes after the copy (the placement driver balancing leaders): the new
    // leader's first entry is a configuration newer than the copy. Old Ratis peers that
    // campaign with a log older than the configuration and are not in it get told to shut down.
    String other = before.equals("n1") ? "n2" : "n1";
    h1.client(range).transferLeader(other, 10_000);
    Thread.sleep(3_000); // ten election timeouts before the leader adds the new replica
    assertTrue(h3.hostedRanges().contains(range.getId()), "the seeded replica's group is still there");

    h1.client(range).changeMembers(nodes.subList(0, 2).stream().map(RangeGroups::peer).toList(),
        nodes.stream().map(RangeGroups::peer).toList());
    long revision = put(h1, range, "after").getRevision();
    waitUntil(() -> h3.replica(range.getId()).orElseThrow().revision() >= revision);
    assertEquals(revision, h3.replica(range.getId()).orElseThrow().revision(),
        "the new replica applied the write made after it joined");
    assertTrue(h3.division(range.getId()).orElseThrow().isAlive(), "and its division runs");
  }

  /**
   * A client whose write reached the old replica while it led resends it there (with the same
   * call id, which the new leader's retry cache knows). Dropped outright, that replica would
   * answer "no such group" and the write would end with an unknown outcome; its division keeps
   * running a moment and answers "not the leader", so the client goes on to the leader. Shown
   * with a client that still counts the dropped node among the group and sends to it first; its
   * data is gone at once.
   */
  @Test
  void aDroppedReplicaPointsLateRequestsAtTheNewLeaderAndThenGoes() throws Exception {
    startNodes();
    NodeHost h1 = hosts.get(0);
    NodeHost h2 = hosts.get(1);
    NodeHost h3 = hosts.get(2);
    RangeDescriptor range = h1.routing().all().get(0);
    assertTrue(put(h1, range, "k").hasPut());
    String leader = h1.client(range).leaderHint();
    h3.seedReplica(range, List.of("n1", "n2", "n3"), leader);
    h1.client(range).changeMembers(nodes.subList(0, 2).stream().map(RangeGroups::peer).toList(),
        nodes.stream().map(RangeGroups::peer).toList());
    RangeDescriptor onThree = range.toBuilder().addReplicas("n3").build();
    h1.client(onThree).transferLeader("n3", 10_000);
    RangeDescriptor after = range.toBuilder().clearReplicas().addReplicas("n1").addReplicas("n3").build();
    h1.client(onThree).changeMembers(nodes.stream().map(RangeGroups::peer).toList(),
        List.of(RangeGroups.peer(nodes.get(0)), RangeGroups.peer(nodes.get(2))));

    h2.removeReplica(range.getId(), after);
    assertTrue(h2.replica(range.getId()).isEmpty(), "n2 no longer serves the range");
    assertNull(engines.get(1).get(io.flotilla.statemachine.ColumnFamily.DATA, ByteString.copyFromUtf8("k").toByteArray()),
        "and its data is gone");
    RaftGroup asN2KnewIt = RaftGroup.valueOf(RangeGroups.groupId(range.getId()),
        nodes.stream().map(RangeGroups::peer).toList());
    try (RaftClient late = RaftClient.newBuilder().setRaftGroup(asN2KnewIt).setProperties(new RaftProperties())
        .setLeaderId(RaftPeerId.valueOf("n2")).build()) {
      RaftClientReply reply = late.io().send(Message.valueOf(UnsafeByteOperations.unsafeWrap(putCommand(range, "late")
          .toByteArray())));
      assertTrue(reply.isSuccess(), () -> "the write sent to n2 reached the leader: " + reply);
      assertTrue(CommandResult.parseFrom(reply.getMessage().getContent().toByteArray()).hasPut(),
          "and was applied");
    }
    waitUntil(() -> h2.division(range.getId()).isEmpty());
    assertTrue(h2.division(range.getId()).isEmpty(), "n2's division went after its grace period");
  }

  /**
   * A merge that commits between a new replica's copy and its record in the descriptor reaches
   * that replica through the log, without the absorbed range's data (the absorbed range had no
   * replica on its node). The replica knows: it says so in its status, which the move checks
   * before recording it, and answers no reads.
   */
  @Test
  void aReplicaCopiedInBeforeAMergeCommittedKnowsItLacksTheMergedData() throws Exception {
    startNodes();
    NodeHost h1 = hosts.get(0);
    NodeHost h3 = hosts.get(2);
    RangeDescriptor whole0 = h1.routing().all().get(0);
    assertTrue(put(h1, whole0, "c").hasPut());
    assertTrue(put(h1, whole0, "p").hasPut());
    CommandResult split = h1.client(whole0).write(Command.newBuilder().setRangeId(whole0.getId())
        .setEpoch(whole0.getEpoch()).setSplit(io.flotilla.proto.SplitOp.newBuilder()
            .setSplitKey(ByteString.copyFromUtf8("m")).setNewRangeId(77)).build()).get(30, TimeUnit.SECONDS);
    RangeDescriptor left = split.getRangeChange().getRange();
    RangeDescriptor right = split.getRangeChange().getCreated();
    assertEquals(List.of("n1", "n2"), right.getReplicasList());
    waitUntil(() -> hosts.subList(0, 2).stream().allMatch(h -> h.replica(right.getId()).isPresent()));

    h3.seedReplica(left, List.of("n1", "n2", "n3"), h1.client(left).leaderHint());
    CommandResult frozen = h1.client(right).write(Command.newBuilder().setRangeId(right.getId())
        .setEpoch(right.getEpoch()).setMergeFreeze(io.flotilla.proto.MergeFreezeOp.newBuilder()
            .setIntoRangeId(left.getId())).build()).get(30, TimeUnit.SECONDS);
    RangeDescriptor frozenRight = frozen.getRangeChange().getRange();
    waitUntil(() -> hosts.subList(0, 2).stream().allMatch(h -> h.replica(right.getId()).orElseThrow().descriptor()
        .getFrozenInto() == left.getId()));
    CommandResult merged = h1.client(left).write(Command.newBuilder().setRangeId(left.getId())
        .setEpoch(left.getEpoch()).setMergeCommit(io.flotilla.proto.MergeCommitOp.newBuilder().setRight(frozenRight)
            .setRightRevision(frozen.getRevision())).build()).get(30, TimeUnit.SECONDS);
    assertTrue(merged.hasRangeChange(), merged::toString);
    RangeDescriptor whole = merged.getRangeChange().getRange();
    assertTrue(whole.getEnd().isEmpty(), whole::toString);

    h1.client(whole).changeMembers(nodes.subList(0, 2).stream().map(RangeGroups::peer).toList(),
        nodes.stream().map(RangeGroups::peer).toList());
    RangeStateMachine copied = h3.replica(left.getId()).orElseThrow();
    waitUntil(() -> copied.descriptor().equals(whole));
    assertEquals(whole, copied.descriptor(), "the new replica applied the merge");
    io.flotilla.proto.Query status = io.flotilla.proto.Query.newBuilder().setRangeId(left.getId())
        .setStatus(io.flotilla.proto.StatusQuery.getDefaultInstance()).build();
    assertTrue(copied.queryLocal(status).getStatus().getState().getIncomplete(),
        "it says it lacks the merged range's data");
    io.flotilla.proto.Query get = io.flotilla.proto.Query.newBuilder().setRangeId(left.getId())
        .setEpoch(whole.getEpoch()).setGet(io.flotilla.proto.GetOp.newBuilder().setKey(ByteString.copyFromUtf8("p")))
        .build();
    assertEquals(io.flotilla.proto.Rejection.Reason.EPOCH_MISMATCH, copied.queryLocal(get).getRejected().getReason(),
        "and answers no reads");
    RangeStateMachine listed = hosts.get(1).replica(left.getId()).orElseThrow();
    assertFalse(listed.queryLocal(status).getStatus().getState().getIncomplete(), "a listed replica holds it all");
    assertTrue(listed.queryLocal(get).hasGet() && listed.queryLocal(get).getGet().getFound(),
        () -> "and serves the merged key: " + listed.queryLocal(get));

    // Made leader, the incomplete replica takes no writes and hands the leadership back.
    try {
      h1.client(whole.toBuilder().addReplicas("n3").build()).transferLeader("n3", 10_000);
    } catch (IOException handedBackAlready) {
      // it may have handed over before the transfer was confirmed
    }
    assertTrue(put(h1, whole, "q").hasPut(), "writes go on");
    waitUntil(() -> !h3.leads(left.getId()));
    assertFalse(h3.leads(left.getId()), "the incomplete replica does not keep the leadership");
    assertTrue(copied.incomplete());
  }
}
