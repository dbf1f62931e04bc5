package io.flotilla.testcluster.chaos;

import io.flotilla.testcluster.ApiClient;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Increments of one counter by 1, with strong reads now and then. Every read, and the final
 * value, must lie between the increments acknowledged before the read began and the increments
 * attempted (not certainly failed) before it ended: a read below that lost an acknowledged
 * increment; above it, counted one twice or invented one.
 */
public final class CounterWorkload implements Workload {
  private final String key;

  public CounterWorkload(String namespace) {
    this.key = "c/chaos-counter/" + namespace;
  }

  @Override
  public Op.Type step(int client, int process, Random random, ApiClient api, String node, History history) {
    if (random.nextInt(5) == 0) {
      Op inv = history.invoke(process, "read", key, null);
      Outcomes.Outcome o = Outcomes.read(() -> api.get(node, key, "raw"));
      String value = o.type() == Op.Type.OK
          ? (o.resp().status() == 404 ? "0" : new String(o.resp().body(), StandardCharsets.UTF_8)) : o.error();
      history.complete(inv, o.type(), value);
      return o.type();
    }
    Op inv = history.invoke(process, "incr", key, "1");
    Outcomes.Outcome o = Outcomes.write(() -> api.incr(node, key, "{\"delta\": 1}"));
    history.complete(inv, o.type(), o.error());
    return o.type();
  }

  @Override
  public Verdict check(List<Op> history, ApiClient api, List<String> nodes) {
    List<String> anomalies = new ArrayList<>();
    // Walk the history in order, keeping how many increments are acknowledged and how many may
    // have happened (invoked and not certainly failed).
    java.util.Map<Integer, Op> open = new java.util.HashMap<>();
    java.util.Map<Integer, Long> ackedAtInvoke = new java.util.HashMap<>();
    long acked = 0;
    long possible = 0;
    long reads = 0;
    for (Op op : history) {
      if (!key.equals(op.key())) {
        continue;
      }
      if (op.type() == Op.Type.INVOKE) {
        open.put(op.process(), op);
        if ("incr".equals(op.f())) {
          possible++;
        } else {
          ackedAtInvoke.put(op.process(), acked);
        }
        continue;
      }
      Op inv = open.remove(op.process());
      if ("incr".equals(inv.f())) {
        if (op.type() == Op.Type.OK) {
          acked++;
        } else if (op.type() == Op.Type.FAIL) {
          possible--;
        }
      } else if (op.type() == Op.Type.OK) {
        reads++;
        long value = Long.parseLong(op.value());
        long floor = ackedAtInvoke.remove(op.process());
        if (value < floor || value > possible) {
          anomalies.add(String.format("a read at %.3f s saw %d, outside [%d acknowledged, %d attempted]",
              op.nanos() / 1e9, value, floor, possible));
        }
      }
    }
    long finalValue = finalRead(api, nodes);
    if (finalValue < acked || finalValue > possible) {
      anomalies.add("the final value " + finalValue + " is outside [" + acked + " acknowledged, " + possible
          + " attempted]");
    }
    return Verdict.of(anomalies, String.format("%d increments acknowledged, %d possible, final value %d, %d reads checked",
        acked, possible, finalValue, reads));
  }

  private long finalRead(ApiClient api, List<String> nodes) {
    for (int attempt = 0; attempt < 30; attempt++) {
      try {
        ApiClient.Resp r = api.get(nodes.get(attempt % nodes.size()), key, "raw");
        if (r.status() == 200) {
          return Long.parseLong(new String(r.body(), StandardCharsets.UTF_8));
        }
        if (r.status() == 404) {
          return 0;
        }
      } catch (java.io.UncheckedIOException e) {
        // try the next node
      }
    }
    throw new IllegalStateException("could not read the counter " + key + " back");
  }
}
