package io.flotilla.testcluster.chaos;

import io.flotilla.testcluster.ApiClient;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Read-your-writes through stale reads: each client writes increasing numbers to its own key and
 * reads it back with {@code consistency=stale&min_revision=R} (R = the revision of its last
 * acknowledged write) from any node. Such a read may wait or time out, but must never return a
 * number older than the client's last acknowledged write.
 */
public final class StaleWorkload implements Workload {
  private final String namespace;
  /** Per client key: {last acknowledged number, its revision, next number to write}. */
  private final Map<String, long[]> lastWrite = new ConcurrentHashMap<>();

  public StaleWorkload(String namespace) {
    this.namespace = namespace;
  }

  private String keyOf(int client) {
    return (char) ('a' + client * 7 % 26) + "/chaos-stale/" + namespace + "/" + client;
  }

  @Override
  public Op.Type step(int client, int process, Random random, ApiClient api, String node, History history) {
    // One key per client thread, whatever its current process id (ids grow after info).
    String key = keyOf(client);
    long[] last = lastWrite.get(key);
    if (last != null && last[0] > 0 && random.nextBoolean()) {
      long floor = last[0];
      long revision = last[1];
      String k = key;
      Op inv = history.invoke(process, "stale-read", key, floor + "@" + revision);
      Outcomes.Outcome o = Outcomes.read(() -> api.get(node, k, "consistency=stale&min_revision=" + revision + "&raw"));
      String value = o.type() == Op.Type.OK
          ? (o.resp().status() == 404 ? "none" : new String(o.resp().body(), StandardCharsets.UTF_8)) : o.error();
      history.complete(inv, o.type(), value);
      return o.type();
    }
    long next = last == null ? 1 : last[2];
    String k = key;
    Op inv = history.invoke(process, "write", key, Long.toString(next));
    Outcomes.Outcome o = Outcomes.write(() -> api.put(node, k, Long.toString(next)));
    if (o.type() == Op.Type.OK) {
      lastWrite.put(key, new long[] {next, o.resp().json().get("revision").asLong(), next + 1});
    } else {
      // Not acknowledged: the floor stays; numbers still only grow (an unknown write may land).
      lastWrite.put(key, new long[] {last == null ? 0 : last[0], last == null ? 0 : last[1], next + 1});
    }
    history.complete(inv, o.type(), o.error());
    return o.type();
  }

  @Override
  public Verdict check(List<Op> history, ApiClient api, List<String> nodes) {
    List<String> anomalies = new ArrayList<>();
    java.util.Map<Integer, Op> open = new java.util.HashMap<>();
    int reads = 0;
    for (Op op : history) {
      if (op.key() == null || !op.key().contains("/chaos-stale/")) {
        continue;
      }
      if (op.type() == Op.Type.INVOKE) {
        open.put(op.process(), op);
        continue;
      }
      Op inv = open.remove(op.process());
      if (inv == null || !"stale-read".equals(inv.f()) || op.type() != Op.Type.OK) {
        continue;
      }
      reads++;
      long floor = Long.parseLong(inv.value().substring(0, inv.value().indexOf('@')));
      long seen = "none".equals(op.value()) ? 0 : Long.parseLong(op.value());
      if (seen < floor) {
        anomalies.add(String.format("a stale read of %s with min_revision %s at %.3f s saw %d, older than the "
            + "client's last acknowledged write %d", inv.key(), inv.value().substring(inv.value().indexOf('@') + 1),
            op.nanos() / 1e9, seen, floor));
      }
    }
    return Verdict.of(anomalies, reads + " stale reads with min_revision checked");
  }
}
