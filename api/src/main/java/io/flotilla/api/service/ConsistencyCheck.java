package io.flotilla.api.service;

import io.flotilla.proto.ConsistencyChecksum;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The outcome of one consistency check of a range: each replica's checksum of the range's data
 * as of the same log entry. Replicas that applied the same log agree; any two ready checksums
 * that differ mean a replica diverged.
 *
 * @param replicas each replica's result, or null with the reason it has none (yet)
 */
public record ConsistencyCheck(long rangeId, long checkId, List<Replica> replicas) {
  /** One replica's answer: its result ({@code null} when it has none) or why it gave none. */
  public record Replica(String node, ConsistencyChecksum result, String problem) {
    boolean ready() {
      return result != null && result.getReady();
    }
  }

  public ConsistencyCheck {
    replicas = List.copyOf(replicas);
  }

  /**
   * {@code consistent}, {@code inconsistent} (two ready results differ: in checksum, or in the
   * revision or log index they were taken at, which are the same entry's on every replica), or
   * {@code incomplete} (a replica has no result).
   */
  public String status() {
    if (replicas.stream().filter(Replica::ready).map(r -> List.of(r.result().getChecksum(), r.result().getRevision(),
        r.result().getIndex())).distinct().count() > 1) {
      return "inconsistent";
    }
    return replicas.stream().allMatch(Replica::ready) ? "consistent" : "incomplete";
  }

  /** Whether waiting longer cannot change the status. */
  boolean settled() {
    return !"incomplete".equals(status());
  }

  public Map<String, Object> view() {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("range", rangeId);
    v.put("check", Long.toUnsignedString(checkId));
    v.put("status", status());
    v.put("replicas", replicas.stream().map(r -> {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("node", r.node());
      if (r.result() != null) {
        m.put("index", r.result().getIndex());
        m.put("revision", r.result().getRevision());
        m.put("checksum", r.ready() ? Long.toHexString(r.result().getChecksum()) : null);
      }
      if (!r.ready()) {
        m.put("problem", r.problem() != null ? r.problem() : "still computing");
      }
      return m;
    }).toList());
    return v;
  }
}
