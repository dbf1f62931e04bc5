package io.flotilla.testcluster;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What the placement-driver tests read: the members and node states of a cluster view, and each node's copy of the group. */
final class PdViews {
  /** The placement driver's Raft group id; Ratis names the group's directory after it. */
  static final String GROUP_DIR = "466c6f74-5044-0000-0000-000000000001";

  private PdViews() {}

  /** The members listed by a {@code GET /v1/admin/cluster} answer. */
  static List<String> members(JsonNode view) {
    List<String> out = new ArrayList<>();
    view.get("summary").get("placement_driver_members").forEach(n -> out.add(n.asText()));
    return out;
  }

  /** A node's state in a {@code GET /v1/admin/cluster} answer, or null when it is not listed. */
  static String stateOf(JsonNode view, String id) {
    for (JsonNode n : view.get("nodes")) {
      if (id.equals(n.get("id").asText())) {
        return n.get("state").asText();
      }
    }
    return null;
  }

  /** Where the node keeps its copy of the placement driver's group. */
  static Path dir(ProcessCluster cluster, String id) {
    return cluster.node(id).data.resolve("raft").resolve(GROUP_DIR);
  }

  /** Whether the node holds a copy of the placement driver's log. */
  static boolean hostsCopy(ProcessCluster cluster, String id) {
    return Files.isDirectory(dir(cluster, id));
  }
}
