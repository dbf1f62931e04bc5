package io.flotilla.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adding a replica the way a move does: copy a snapshot to the new node and create its group
 * there, then add it to the Raft configuration. The leader may take a while to get to the
 * second step (a big copy, a busy node); the new replica must still be alive and catch up then.
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
    return new RaftSettings(Duration.ofMillis(150), Duration.ofMillis(300), 20, 1 << 20, Duration.ofSeconds(3), 20, 1 << 20, true);
  }

  private static CommandResult put(NodeHost host, RangeDescriptor range, String key) throws Exception {
    return host.client(range).write(Command.newBuilder().setRangeId(range.getId()).setEpoch(range.getEpoch())
        .setProposedAtMillis(System.currentTimeMillis())
        .setPut(PutOp.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8("v")))
        .build()).get(30, TimeUnit.SECONDS);
  }

  @Test
  void aSeededReplicaWaitsForTheLeaderToAddItThenCatchesUp() throws Exception {
    List<ClusterNode> nodes = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      String address = "127.0.9.1" + i;
      nodes.add(new ClusterNode("n" + i, "http://" + address + ":1", address + ":" + freePort(address)));
    }
    List<InMemoryKvEngine> engines = List.of(new InMemoryKvEngine(), new InMemoryKvEngine(), new InMemoryKvEngine());
    List<NodeHost> hosts = new ArrayList<>();
    SnapshotSource source = (node, rangeId) -> {
      int i = Integer.parseInt(node.substring(1)) - 1;
      hosts.get(i).replica(rangeId).orElseThrow().recordApplied();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      RangeSnapshots.write(engines.get(i), rangeId, out);
      return new ByteArrayInputStream(out.toByteArray());
    };
    try {
      for (int i = 0; i < 3; i++) {
        hosts.add(new NodeHost(nodes.get(i), nodes, engines.get(i), dir.resolve("n" + (i + 1)).toFile(), fast(),
            source));
      }
      for (NodeHost h : hosts) {
        h.start(List.of(), 2);
      }
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
    } finally {
      for (NodeHost h : hosts) {
        h.close();
      }
    }
  }
}
