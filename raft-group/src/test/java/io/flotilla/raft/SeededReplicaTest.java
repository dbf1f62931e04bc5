package io.flotilla.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

    h1.client(range).setMembers(nodes.stream().map(RangeGroups::peer).toList());
    long revision = put(h1, range, "after").getRevision();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (h3.replica(range.getId()).orElseThrow().revision() < revision && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
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
    h1.client(range).setMembers(nodes.stream().map(RangeGroups::peer).toList());
    RangeDescriptor onThree = range.toBuilder().addReplicas("n3").build();
    h1.client(onThree).transferLeader("n3", 10_000);
    RangeDescriptor after = range.toBuilder().clearReplicas().addReplicas("n1").addReplicas("n3").build();
    h1.client(onThree).setMembers(List.of(RangeGroups.peer(nodes.get(0)), RangeGroups.peer(nodes.get(2))));

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
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (h2.division(range.getId()).isPresent() && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertTrue(h2.division(range.getId()).isEmpty(), "n2's division went after its grace period");
  }
}
