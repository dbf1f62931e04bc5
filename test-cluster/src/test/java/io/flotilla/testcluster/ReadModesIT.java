package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.flotilla.testcluster.ApiClient.Resp;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What each read mode promises, shown on real processes with real faults: a partitioned old
 * leader serves no strong or follower read with stale data while the majority moves on; an
 * isolated follower serves stale reads (that is what {@code stale} allows) but no follower
 * reads; {@code min_revision} turns a stale read into read-your-writes, waiting (bounded) for the
 * replica to catch up; a paused follower that resumes serves follower reads only once caught up.
 *
 * <p>Partitions use per-node cgroups and iptables ({@link Network}); without them (not root,
 * no iptables) the test is skipped with the reason.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReadModesIT {
  private static final int SUBNET = 36;
  private ProcessCluster cluster;
  private Network network;
  private final ApiClient api = new ApiClient(Duration.ofSeconds(20));

  @BeforeAll
  void startCluster() throws Exception {
    String why = Network.unavailableReason();
    assumeTrue(why == null, () -> "skipping: partitions cannot be made here: " + why);
    cluster = ProcessCluster.startIsolatable("read-modes", SUBNET, 3, Map.of("requestTimeout", "4s"));
    network = new Network(cluster);
  }

  @AfterEach
  void heal() throws Exception {
    if (network != null) {
      network.heal();
    }
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (network != null) {
      network.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void aPartitionedOldLeaderServesNoStaleStrongOrFollowerRead() throws Exception {
    String key = "c/modes/leader";
    assertEquals(200, api.put(cluster.url("n1"), key, "v1").status()); // wakes the range: see leaderOf
    String oldLeader = leaderOf(1, "n1");
    String other = otherThan(oldLeader);
    awaitValue(oldLeader, key, "v1");

    network.isolate(oldLeader);
    String newLeader = awaitNewLeader(1, other, oldLeader);
    Resp write = api.put(cluster.url(other), key, "v2");
    assertEquals(200, write.status(), () -> "the majority side accepts writes under leader " + newLeader + ": " + write);
    long revision = write.json().get("revision").asLong();

    for (String mode : List.of("strong", "follower")) {
      Resp r = api.get(cluster.url(oldLeader), key, "raw&consistency=" + mode);
      assertNotEquals(200, r.status(), () -> mode + " read on the cut-off old leader answered " + r.text());
      assertTrue(r.status() == 503 || r.status() == 504, r::toString);
    }
    Resp stale = api.get(cluster.url(oldLeader), key, "raw&consistency=stale");
    assertEquals(200, stale.status(), stale::toString);
    assertEquals("v1", stale.text(), "a stale read is served locally, and here it is stale");
    assertEquals(oldLeader, stale.header("X-Flotilla-Served-By"));
    assertTrue(Long.parseLong(stale.header("X-Flotilla-Applied-Revision")) < revision);
    Resp waited = api.get(cluster.url(oldLeader), key, "raw&consistency=stale&min_revision=" + revision);
    assertEquals(504, waited.status(), () -> "min_revision waits for the revision, bounded: " + waited);

    network.heal();
    // Rejoining takes an election or a few heartbeats; until then the bounded wait answers 504.
    Resp caughtUp = awaitAnswer(oldLeader, key, "raw&consistency=stale&min_revision=" + revision);
    assertEquals("v2", caughtUp.text(), "min_revision turns a stale read into read-your-writes");
    assertTrue(Long.parseLong(caughtUp.header("X-Flotilla-Applied-Revision")) >= revision);
    assertEquals("v2", awaitAnswer(oldLeader, key, "raw&consistency=follower").text());
    assertEquals("v2", awaitAnswer(oldLeader, key, "raw").text());
  }

  /** The first answer other than 503/504 (the node is still rejoining), within 30 s. */
  private Resp awaitAnswer(String node, String key, String params) throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    Resp r = api.get(cluster.url(node), key, params);
    while ((r.status() == 503 || r.status() == 504) && System.nanoTime() < deadline) {
      Thread.sleep(200);
      r = api.get(cluster.url(node), key, params);
    }
    assertEquals(200, r.status(), r::toString);
    return r;
  }

  @Test
  void anIsolatedFollowerServesStaleReadsButNoFollowerReadsUntilItCatchesUp() throws Exception {
    String key = "j/modes/follower";
    assertEquals(200, api.put(cluster.url("n1"), key, "old").status()); // wakes the range: see leaderOf
    String leader = leaderOf(2, "n1");
    String follower = otherThan(leader);
    awaitValue(follower, key, "old");

    network.isolate(follower);
    Resp write = api.put(cluster.url(leader), key, "new");
    assertEquals(200, write.status(), write::toString);
    long revision = write.json().get("revision").asLong();
    Resp follow = api.get(cluster.url(follower), key, "raw&consistency=follower");
    assertTrue(follow.status() == 503 || follow.status() == 504,
        () -> "an isolated follower cannot learn the read index, so it must not answer: " + follow);
    Resp stale = api.get(cluster.url(follower), key, "raw&consistency=stale");
    assertEquals("old", stale.text(), "the isolated follower's own copy is behind");

    network.heal();
    Resp caughtUp = awaitAnswer(follower, key, "raw&consistency=follower");
    assertEquals("new", caughtUp.text(), "a follower read waits until the follower applied the leader's read index");
    assertEquals(follower, caughtUp.header("X-Flotilla-Served-By"), "and is served by the follower itself");
    assertTrue(Long.parseLong(caughtUp.header("X-Flotilla-Applied-Revision")) >= revision);
  }

  @Test
  void aPausedFollowerThatResumesAnswersFollowerReadsWithTheLatestWrite() throws Exception {
    String key = "q/modes/paused";
    assertEquals(200, api.put(cluster.url("n1"), key, "start").status()); // wakes the range: see leaderOf
    String leader = leaderOf(3, "n1");
    String follower = otherThan(leader);
    awaitValue(follower, key, "start");
    for (int round = 0; round < 5; round++) {
      cluster.pause(follower);
      Resp write;
      try {
        write = api.put(cluster.url(leader), key, "round-" + round);
      } finally {
        cluster.resume(follower);
      }
      assertEquals(200, write.status(), write::toString);
      Resp r = api.get(cluster.url(follower), key, "raw&consistency=follower");
      assertEquals("round-" + round, r.text(), "the follower read right after resuming is not stale");
      Resp mine = api.get(cluster.url(follower), key,
          "raw&consistency=stale&min_revision=" + write.json().get("revision").asLong());
      assertEquals("round-" + round, mine.text(), "nor is a stale read with the write's revision");
    }
  }

  /**
   * The range's leader, as confirmed by the leader's own node (another node's view may lag), and
   * the same 400 ms later: right after a use wakes a range, Ratis may hand its leadership to the
   * range's preferred replica once. Only a range in use has a leader (a new cluster's ranges sleep
   * until their first use), so callers write to the range first.
   */
  private String leaderOf(long rangeId, String via) throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (System.nanoTime() < deadline) {
      String seen = confirmedLeader(rangeId, via);
      if (seen != null) {
        Thread.sleep(400);
        if (seen.equals(confirmedLeader(rangeId, via))) {
          return seen;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("range " + rangeId + " has no leader that stays");
  }

  /** The leader {@code via} names, if that leader's own node names itself too; else null. */
  private String confirmedLeader(long rangeId, String via) {
    String seen = leaderSeenBy(rangeId, via);
    return seen != null && seen.equals(leaderSeenBy(rangeId, seen)) ? seen : null;
  }

  private String leaderSeenBy(long rangeId, String node) {
    Resp r = api.raw("GET", cluster.url(node) + "/v1/admin/ranges/" + rangeId, null);
    return r.status() == 200 && r.json().hasNonNull("leader") ? r.json().get("leader").asText() : null;
  }

  private String awaitNewLeader(long rangeId, String via, String old) throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (System.nanoTime() < deadline) {
      Resp r = api.raw("GET", cluster.url(via) + "/v1/admin/ranges/" + rangeId, null);
      if (r.status() == 200 && r.json().hasNonNull("leader") && !old.equals(r.json().get("leader").asText())) {
        return r.json().get("leader").asText();
      }
      Thread.sleep(100);
    }
    throw new AssertionError("range " + rangeId + " elected no new leader after " + old + " was cut off");
  }

  private void awaitValue(String node, String key, String value) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (value.equals(api.get(cluster.url(node), key, "raw&consistency=stale").text())) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError(node + " never applied " + key + "=" + value);
  }

  private String otherThan(String node) {
    return cluster.nodes().stream().map(m -> m.id).filter(id -> !id.equals(node)).findFirst().orElseThrow();
  }
}
