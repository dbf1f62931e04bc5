package io.flotilla.api.service;

import io.flotilla.client.RangeGroups;
import io.flotilla.pd.PdGroups;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.raft.NodeHost;
import io.flotilla.raft.RangeStateMachine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands the leaderships a stopping node holds to other replicas before its Raft server closes,
 * so that its ranges and the placement driver go on serving at once instead of waiting out an
 * election timeout after it is gone: a rolling restart costs clients a leader transfer per
 * range (milliseconds) rather than an election (seconds). Ranges asleep have no leader and are
 * left alone. What is not handed over within the budget (a replica behind, a transfer timing
 * out) is elected after the node stops, as after a crash.
 */
public final class LeadershipHandoff {
  private static final Logger LOG = LoggerFactory.getLogger(LeadershipHandoff.class);
  /** Transfers at once: each is two Raft rounds of one group (priorities, then the handover). */
  private static final int PARALLEL = 4;

  private LeadershipHandoff() {}

  /**
   * Hands over every group this node leads, within {@code budget}, to members other than those
   * {@code stopping} names (nodes this one, as a placement driver member, heard are stopping
   * too); blocking. A zero budget does nothing.
   */
  public static void run(NodeHost host, PdClient pd, Duration budget, java.util.function.Predicate<String> stopping) {
    if (budget.isZero() || budget.isNegative()) {
      return;
    }
    long started = System.nanoTime();
    long deadline = started + budget.toNanos();
    long freshMillis = host.settings().rpcTimeoutMin().toMillis();
    // A transfer normally ends within an election round; one that takes longer than the longest
    // election timeout is stuck (its target stopping too, say) and should not hold the rest.
    long transferMillis = host.settings().rpcTimeoutMax().toMillis();
    List<Callable<String>> transfers = new ArrayList<>();
    int kept = 0;
    for (long id : host.hostedRanges()) {
      if (!host.leads(id) || host.asleep(id)) {
        continue;
      }
      RangeDescriptor range = host.replica(id).map(RangeStateMachine::descriptor).orElse(null);
      // Only to a replica the range lists: a member being added may still be an incomplete copy.
      Optional<String> to = range == null ? Optional.empty()
          : host.handoffTarget(RangeGroups.groupId(id), freshMillis, stopping.negate().and(range.getReplicasList()::contains));
      if (range == null || to.isEmpty()) {
        kept++;
        continue;
      }
      transfers.add(() -> {
        // Checked again: a range that fell asleep meanwhile would be woken by its client.
        if (!host.leads(id) || host.asleep(id)) {
          return null; // nothing to hand over any more
        }
        host.client(range).transferLeader(to.get(), Math.min(transferMillis, remainingMillis(deadline)));
        return "range " + id + " to " + to.get();
      });
    }
    if (pd.leadsLocally()) {
      Optional<String> to = host.handoffTarget(PdGroups.groupId(), freshMillis, stopping.negate());
      if (to.isEmpty()) {
        kept++;
      } else {
        transfers.add(() -> {
          pd.handOffLeadership(to.get(), Math.min(transferMillis, remainingMillis(deadline)));
          return "the placement driver to " + to.get();
        });
      }
    }
    if (transfers.isEmpty() && kept == 0) {
      return;
    }
    int handedOver = 0;
    ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(PARALLEL, transfers.size())), r -> {
      Thread t = new Thread(r, "leadership-handoff");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<String>> done = transfers.isEmpty() ? List.of()
          : pool.invokeAll(transfers, remainingMillis(deadline), TimeUnit.MILLISECONDS);
      for (Future<String> f : done) {
        try {
          String handed = f.get();
          if (handed != null) {
            LOG.debug("node {}: handed leadership of {}", host.self().id(), handed);
            handedOver++;
          }
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
          kept++;
          LOG.info("node {}: a leadership stays to be elected after this node stops: {}", host.self().id(),
              e instanceof java.util.concurrent.ExecutionException ? e.getCause().toString() : "out of time");
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      pool.shutdownNow();
    }
    LOG.info("node {}: stopping; handed {} leaderships to other replicas in {} ms, {} left to elections",
        host.self().id(), handedOver, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), kept);
  }

  private static long remainingMillis(long deadlineNanos) {
    return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()));
  }
}
