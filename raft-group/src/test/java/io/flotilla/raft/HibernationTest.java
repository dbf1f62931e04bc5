package io.flotilla.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.flotilla.client.RangeClient;
import io.flotilla.client.RangeGroups;
import io.flotilla.common.ClusterNode;
import io.flotilla.proto.Command;
import io.flotilla.proto.CommandResult;
import io.flotilla.proto.GetOp;
import io.flotilla.proto.PutOp;
import io.flotilla.proto.Query;
import io.flotilla.proto.QueryResult;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.statemachine.InMemoryKvEngine;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Idle ranges sleep on all three replicas (no Raft division runs) and wake on use, with no write
 * lost or failed: a write through the node, a write from a client elsewhere that only reaches
 * the replicas over the network, and linearizable reads.
 */
class HibernationTest {
  private static final Duration IDLE = Duration.ofSeconds(1);

  @TempDir
  Path dir;

  private final List<ClusterNode> nodes = new ArrayList<>();
  private final List<NodeHost> hosts = new ArrayList<>();
  private final List<InMemoryKvEngine> engines =
      List.of(new InMemoryKvEngine(), new InMemoryKvEngine(), new InMemoryKvEngine());
  private RangeClient outside;

  private static int freePort(String address) throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName(address))) {
      return s.getLocalPort();
    }
  }

  private static RaftSettings settings() {
    return new RaftSettings(Duration.ofMillis(150), Duration.ofMillis(300), 20, 1 << 20, Duration.ofSeconds(3), 40,
        1 << 20, true, true, IDLE);
  }

  private void startNodes() throws IOException {
    for (int i = 1; i <= 3; i++) {
      String address = "127.0.9.2" + i;
      nodes.add(new ClusterNode("n" + i, "http://" + address + ":1", address + ":" + freePort(address)));
    }
    openHosts();
  }

  /** Opens the three nodes over their engines and directories (again, after a restart). */
  private void openHosts() throws IOException {
    hosts.clear();
    for (int i = 0; i < 3; i++) {
      hosts.add(new NodeHost(nodes.get(i), nodes, engines.get(i), dir.resolve("n" + (i + 1)).toFile(),
          settings(), (n, r) -> {
            throw new IOException("no snapshots in this test");
          }));
    }
    for (NodeHost h : hosts) {
      h.start(List.of(), 3);
    }
  }

  @AfterEach
  void stopNodes() throws IOException {
    if (outside != null) {
      outside.close();
    }
    for (NodeHost h : hosts) {
      h.close();
    }
  }

  private static Command put(RangeDescriptor range, String key, String value) {
    return Command.newBuilder().setRangeId(range.getId()).setEpoch(range.getEpoch())
        .setProposedAtMillis(System.currentTimeMillis())
        .setPut(PutOp.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8(value)))
        .build();
  }

  private static Query get(RangeDescriptor range, String key) {
    return Query.newBuilder().setRangeId(range.getId()).setEpoch(range.getEpoch())
        .setNowMillis(System.currentTimeMillis()).setGet(GetOp.newBuilder().setKey(ByteString.copyFromUtf8(key)))
        .build();
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(50);
    }
  }

  private long electionsStartedOnWake() {
    return hosts.stream().mapToLong(h -> h.hibernationCounts()[2]).sum();
  }

  private boolean asleepEverywhere(long rangeId) {
    return hosts.stream().allMatch(h -> h.asleep(rangeId) && h.division(rangeId).isEmpty());
  }

  private static String value(QueryResult r) {
    return r.getGet().getKv().getValue().toStringUtf8();
  }

  @Test
  void anIdleRangeSleepsOnEveryReplicaAndWakesForWritesFromAnywhereAndReads() throws Exception {
    startNodes();
    RangeDescriptor range = hosts.get(0).routing().all().get(0);
    long id = range.getId();
    CommandResult first = hosts.get(0).client(range).write(put(range, "a", "1")).get(30, TimeUnit.SECONDS);
    assertTrue(first.hasPut(), first::toString);

    await("the range sleeps on all three nodes", () -> asleepEverywhere(id));
    assertEquals(List.of(range.getReplicas(0)),
        hosts.stream().filter(h -> h.reportsAsleep(id)).map(h -> h.self().id()).toList(),
        "one node reports the sleeping range to the placement driver: its first replica's");
    assertTrue(hosts.get(1).rangesWithoutLeader().isEmpty(), "a sleeping range is not a range without a leader");
    // A stale read needs no division: served from the sleeping replica's data.
    assertEquals("1", value(hosts.get(1).replica(id).orElseThrow().queryLocal(get(range, "a"))));

    // A client on no replica's node (its Raft requests only reach the replicas over the network).
    outside = new RangeClient(id, RangeGroups.group(range, hosts.get(0).nodes()), RaftTuning.client(settings()),
        RaftTuning.retryPolicy(settings()), "n1");
    CommandResult second = outside.write(put(range, "b", "2")).get(30, TimeUnit.SECONDS);
    assertTrue(second.hasPut(), second::toString);
    assertEquals(first.getRevision() + 1, second.getRevision(), "no write lost while the range slept");
    assertTrue(hosts.stream().noneMatch(h -> h.asleep(id)), "the write woke every replica");

    await("the range sleeps again", () -> asleepEverywhere(id));
    // A write through a node: its own replica wakes first.
    long electing = electionsStartedOnWake();
    CommandResult third = hosts.get(2).write(range, put(range, "c", "3")).get(30, TimeUnit.SECONDS);
    assertTrue(third.hasPut(), third::toString);
    assertEquals(second.getRevision() + 1, third.getRevision());
    // Started by n3's wake (on the preferred replica, over the network) or by the wake of the
    // node its range client reached first, whichever came first; counted once the answer is in.
    await("an election started at once when the write woke the range, not after an election timeout",
        () -> electionsStartedOnWake() > electing);

    await("the range sleeps a third time", () -> asleepEverywhere(id));
    // A linearizable read wakes it as well and sees every write.
    QueryResult read = hosts.get(1).client(range).read(get(range, "b")).get(30, TimeUnit.SECONDS);
    assertEquals("2", value(read));
    assertEquals("3", value(outside.read(get(range, "c")).get(30, TimeUnit.SECONDS)));
    long slept = hosts.stream().mapToLong(h -> h.hibernationCounts()[0]).sum();
    long woken = hosts.stream().mapToLong(h -> h.hibernationCounts()[1]).sum();
    assertTrue(slept >= 9 && woken >= 12, "three replicas woken four times (the first use, then after each of "
        + "three sleeps): "
        + slept + " slept, " + woken + " woken");
  }

  @Test
  void aNewClustersRangesStartAsleepAndASleepingRangeStaysAsleepAcrossARestart() throws Exception {
    startNodes();
    RangeDescriptor range = hosts.get(0).routing().all().get(0);
    long id = range.getId();
    assertTrue(asleepEverywhere(id), "a new cluster's range has not run yet: it sleeps until its first use");
    assertTrue(hosts.get(0).rangesWithoutLeader().isEmpty());
    CommandResult first = hosts.get(0).write(range, put(range, "a", "1")).get(30, TimeUnit.SECONDS);
    assertTrue(first.hasPut(), first::toString);
    await("the range falls asleep after its first use", () -> asleepEverywhere(id));

    for (NodeHost h : hosts) {
      h.close();
    }
    openHosts();
    assertTrue(asleepEverywhere(id), "a restart leaves a sleeping range asleep");
    assertEquals(List.of(range.getReplicas(0)),
        hosts.stream().filter(h -> h.reportsAsleep(id)).map(h -> h.self().id()).toList(),
        "after the restart the same one node reports it");
    assertEquals("1", value(hosts.get(2).replica(id).orElseThrow().queryLocal(get(range, "a"))),
        "its replica still answers stale reads");
    CommandResult second = hosts.get(1).write(range, put(range, "b", "2")).get(30, TimeUnit.SECONDS);
    assertEquals(first.getRevision() + 1, second.getRevision(), "no write lost across the sleep and the restart");
    assertEquals("1", value(hosts.get(0).client(range).read(get(range, "a")).get(30, TimeUnit.SECONDS)));
  }

  @Test
  void aRangeInUseStaysAwakeAndSleepsOnceLeftAlone() throws Exception {
    startNodes();
    RangeDescriptor range = hosts.get(0).routing().all().get(0);
    long id = range.getId();
    assertTrue(hosts.get(0).client(range).write(put(range, "k", "v")).get(30, TimeUnit.SECONDS).hasPut());
    // Linearizable reads every 200 ms through the second node, three times the idle time: each
    // one is a use of the range (at its leader, or at a follower asking the leader for a read index).
    long until = System.nanoTime() + 3 * IDLE.toNanos();
    while (System.nanoTime() < until) {
      assertEquals("v", value(hosts.get(1).client(range).read(get(range, "k")).get(30, TimeUnit.SECONDS)));
      for (NodeHost h : hosts) {
        assertFalse(h.asleep(id), "a range read every 200 ms stays awake on " + h.self().id());
      }
      Thread.sleep(200);
    }
    await("the range sleeps once nobody uses it", () -> asleepEverywhere(id));
  }
}
