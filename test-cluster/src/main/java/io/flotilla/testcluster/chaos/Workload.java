package io.flotilla.testcluster.chaos;

import io.flotilla.testcluster.ApiClient;
import java.util.List;
import java.util.Random;

/** What clients do during a run, and how the history is judged afterwards. */
public interface Workload {
  /**
   * Performs one operation of client thread {@code client} (currently process {@code process})
   * against {@code node}, recording its invocation and
   * completion in the history; returns the completion's type (after {@code info} the runner
   * gives the client a new process id, as Jepsen does: the old one may still be in flight).
   */
  Op.Type step(int client, int process, Random random, ApiClient api, String node, History history);

  /** Prepares the data the clients start from (before any fault); nothing by default. */
  default void setup(ApiClient api, List<String> nodes) {}

  /** Judges the history once the cluster is healed (a workload may read final state through {@code nodes}). */
  Verdict check(List<Op> history, ApiClient api, List<String> nodes);

  /** A checker's answer: valid or not, what it counted, and the anomalies it found. */
  record Verdict(boolean valid, boolean unknown, String summary, List<String> anomalies) {
    public static Verdict of(List<String> anomalies, String summary) {
      return new Verdict(anomalies.isEmpty(), false, summary, List.copyOf(anomalies));
    }
  }
}
