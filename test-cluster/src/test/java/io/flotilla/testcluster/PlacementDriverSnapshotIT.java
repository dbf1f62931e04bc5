package io.flotilla.testcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.proto.PdSnapshot;
import io.flotilla.proto.PdState;
import io.flotilla.testcluster.ApiClient.Resp;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The placement driver's log is purged below its snapshots, and nothing is lost for it: a
 * member added after the purge fetches the leader's state instead of the purged entries, and a
 * restarted member loads its snapshot and replays the log after it.
 */
class PlacementDriverSnapshotIT {
  private static final int SUBNET = 53;
  private static final Pattern SEGMENT = Pattern.compile("log_(?:inprogress_)?(\\d+)(?:-\\d+)?");
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void aMemberAddedAfterThePurgeInstallsTheLeadersStateAndKeepsItAcrossARestart() throws Exception {
    // A snapshot every 8 entries and 1 KB segments: the placement driver's log, a few hundred
    // bytes per entry, rolls and is purged after a few dozen operators.
    Map<String, Object> overrides = Map.of(
        "raft", Map.of("snapshotThreshold", 8, "segmentSize", "1KB"),
        "initialSplits", List.of("c", "e", "g", "i", "k", "m", "o", "q"),
        "placement", Map.of("enabled", true, "interval", "500ms", "nodeDownAfter", "4s"));
    try (ProcessCluster cluster = ProcessCluster.start("pd-snapshot", SUBNET, 3, overrides)) {
      ApiClient api = cluster.api();
      assertTrue(PdViews.hostsCopy(cluster, "n1"), "the placement driver's copy on n1 is at " + PdViews.dir(cluster, "n1"));
      for (int i = 0; i < 30; i++) {
        assertEquals(200, api.put(cluster.url("n1"), (char) ('a' + i % 18) + "/" + i, "v" + i).status());
      }
      // n4 joins: the placement driver moves replicas and leaders to it, an operator each, until
      // its log has been purged below a snapshot.
      cluster.join("n1");
      Convergence.await(() -> view(api, cluster, "n2"), "the placement driver's log purged below a snapshot",
          Duration.ofSeconds(120), v -> {
            String leader = v.get("summary").get("placement_driver_leader").asText(null);
            return leader != null && firstLogIndex(cluster, leader).orElse(0) > 0;
          });
      assertFalse(PdViews.hostsCopy(cluster, "n4"), "n4 is no member yet");

      // n1 leaves: n4 takes its place in the group, and must get the state without the purged entries.
      Resp started = api.raw("POST", cluster.url("n2") + "/v1/admin/nodes/n1/decommission", null);
      assertEquals(202, started.status(), started::toString);
      Convergence.await(() -> view(api, cluster, "n3"), "n1's decommission", Duration.ofSeconds(150),
          v -> "removed".equals(PdViews.stateOf(v, "n1")) && PdViews.members(v).equals(List.of("n2", "n3", "n4")));
      OptionalLong n4First = firstLogIndex(cluster, "n4");
      assertTrue(n4First.isPresent() && n4First.getAsLong() > 0,
          "n4's copy of the log starts after the purged entries: " + pdFiles(cluster, "n4"));
      assertTrue(Files.exists(PdViews.dir(cluster, "n4").resolve("sm").resolve("pd-snapshot")),
          "n4 wrote the state it installed: " + pdFiles(cluster, "n4"));
      PdState installed = awaitSameState(cluster, List.of("n2", "n3", "n4"));
      assertTrue(installed.getOperatorsList().stream().anyMatch(op -> op.getRangeId() > 0 && !op.getStatus().equals("running")),
          "n4 knows the operators that finished before it joined: " + installed.getOperatorsList());
      assertEquals(List.of("n4"), installed.getJoinedList().stream().map(n -> n.getId()).toList());

      // A restart loads the snapshot and replays the log after it.
      cluster.kill("n4");
      cluster.start("n4");
      cluster.awaitReady(Duration.ofSeconds(90));
      assertEquals(installed.getJoinedList(), awaitSameState(cluster, List.of("n2", "n3", "n4")).getJoinedList());

      // With n2 gone, the placement driver needs n4's member to answer.
      cluster.kill("n2");
      Convergence.await(() -> operations(api, cluster, "n4"), "the placement driver answering with n3 and n4",
          Duration.ofSeconds(60), ops -> ops.has("operations") && !ops.has("placement_driver_unavailable"));
    }
  }

  private static JsonNode view(ApiClient api, ProcessCluster cluster, String via) {
    Resp r = api.raw("GET", cluster.url(via) + "/v1/admin/cluster", null);
    assertEquals(200, r.status(), r::toString);
    return r.json();
  }

  private static JsonNode operations(ApiClient api, ProcessCluster cluster, String via) {
    return api.raw("GET", cluster.url(via) + "/v1/admin/operations", null).json();
  }



  /** Waits until the members' replicas hold the same state (they apply at their own pace), and returns it. */
  private PdState awaitSameState(ProcessCluster cluster, List<String> members) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    List<PdState> states = List.of();
    while (System.nanoTime() < deadline) {
      states = new ArrayList<>();
      for (String id : members) {
        states.add(stateOn(cluster, id));
      }
      if (states.stream().distinct().count() == 1 && states.get(0) != null) {
        return states.get(0);
      }
      Thread.sleep(500);
    }
    throw new AssertionError("the placement driver's members " + members + " still differ: " + states);
  }

  private PdState stateOn(ProcessCluster cluster, String id) {
    HttpRequest req = HttpRequest.newBuilder(URI.create(cluster.url(id) + "/internal/v1/placement-driver/snapshot"))
        .timeout(Duration.ofSeconds(10)).build();
    try {
      HttpResponse<byte[]> resp = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
      return resp.statusCode() == 200 ? PdSnapshot.parseFrom(resp.body()).getState() : null;
    } catch (IOException e) {
      return null; // starting
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }


  /** The names in the copy's log and state machine directories, for messages. */
  private static List<String> pdFiles(ProcessCluster cluster, String id) {
    List<String> names = new ArrayList<>();
    for (String sub : List.of("current", "sm")) {
      try (Stream<Path> files = Files.list(PdViews.dir(cluster, id).resolve(sub))) {
        files.forEach(p -> names.add(sub + "/" + p.getFileName()));
      } catch (IOException e) {
        names.add(sub + ": " + e);
      }
    }
    return names;
  }

  /** The first index the node's copy of the placement driver's log holds, if it holds a segment. */
  private static OptionalLong firstLogIndex(ProcessCluster cluster, String id) {
    try (Stream<Path> files = Files.list(PdViews.dir(cluster, id).resolve("current"))) {
      return files.map(p -> SEGMENT.matcher(p.getFileName().toString())).filter(Matcher::matches)
          .mapToLong(m -> Long.parseLong(m.group(1))).min();
    } catch (IOException e) {
      return OptionalLong.empty(); // a segment rolled or was purged while listing
    }
  }

}
