package io.flotilla.common;

import com.google.protobuf.ByteString;
import io.flotilla.proto.ClientCall;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The last write calls each Raft client had applied to one group, to apply every request at
 * most once.
 *
 * <p>Raft delivers a client's request more than once in two ways: a copy stuck in the network
 * (a partition, TCP retransmitting it) reaches the leader after the client already had its
 * answer and told the leader so, which dropped it from its retry cache; or a new leader holds
 * the old leader's uncommitted copy and appends the client's retry as a second entry. A write
 * applied twice goes back in time when it lands after later writes (a register reads an old
 * value) and a compare-and-set applied twice answers "conflict" for a write that happened.
 *
 * <p>A client is a range client's writer id (the same through every Raft client it sends on)
 * or, for requests that carry none, a Raft client id; a call is its write number or Raft call
 * id. A client's calls reach the log nearly in number order: the range client numbers and sends
 * them one at a time, but one its leader refused (stepping down, say) is sent again after later
 * ones were appended. So each client's last {@link #WINDOW} applied call ids are kept exactly: a
 * call among them is a copy; a call older than all of them is a copy too (a late one); any other
 * call applies, also when it arrives behind later ones. A real call that far behind, after
 * {@value #WINDOW} later calls of its writer applied (possible only with that many of them
 * under way at once, as increments and batches can be), is refused as a copy whose result is
 * gone: reported as an unknown outcome, never applied twice.
 *
 * <p>The table must be derived from the log alone (a range keeps it in its persisted state
 * record, the placement driver rebuilds it by replaying its log), so every replica decides the
 * same, across restarts and snapshot installs. It keeps the {@link #MAX_CLIENTS} clients that
 * wrote last; a copy from a client that went quiet before that many others wrote is no longer
 * recognised.
 *
 * <p>Not thread-safe: the state machine calls it under its apply lock.
 */
public final class AppliedCalls {
  /** Clients remembered per group: each node that writes to a group has one at a time. */
  public static final int MAX_CLIENTS = 64;
  /** Applied call ids remembered per client. */
  public static final int WINDOW = 16;

  /** Replies remembered for copies a client still waits for (memory only, not part of the record). */
  private static final int REPLIES = 128;

  /** One call of one Raft client: its client id bytes and call id. */
  public record Invocation(ByteString client, long callId) {}

  private final Map<ByteString, ClientCall> byClient = new HashMap<>();
  private final Map<Invocation, Object> replies = new java.util.LinkedHashMap<>() {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Invocation, Object> eldest) {
      return size() > REPLIES;
    }
  };

  private AppliedCalls() {}

  /** True when {@code call} is a copy of one applied before (see {@link #isCopy(ByteString, long)}). */
  public boolean isCopy(Invocation call) {
    return isCopy(call.client(), call.callId());
  }

  /** Records that {@code call} applied at {@code index}. */
  public void record(Invocation call, long index) {
    record(call.client(), call.callId(), index);
  }

  /**
   * Remembers the reply to an applied call, so that a copy of it a client still waits for (a
   * new leader's second entry of its retry) gets the real answer. Memory only: the last
   * {@value #REPLIES} calls.
   */
  public <T> void remember(Invocation call, T reply) {
    replies.put(call, reply);
  }

  /** The remembered reply to {@code call}, or null. */
  @SuppressWarnings("unchecked")
  public <T> T reply(Invocation call) {
    return (T) replies.get(call);
  }

  /** The table as recorded by {@link #recorded()}. */
  public static AppliedCalls of(List<ClientCall> recorded) {
    AppliedCalls calls = new AppliedCalls();
    recorded.forEach(c -> calls.byClient.put(c.getClientId(), c));
    return calls;
  }

  /**
   * True when {@code callId} of {@code client} was applied before, or is older than every one
   * of the client's last {@link #WINDOW} applied calls: a copy, not to be applied.
   */
  public boolean isCopy(ByteString client, long callId) {
    ClientCall last = byClient.get(client);
    if (last == null) {
      return false;
    }
    List<Long> ids = last.getCallIdsList();
    return ids.contains(callId) || (ids.size() >= WINDOW && callId < ids.get(0));
  }

  /** Records that {@code callId} of {@code client} applied at {@code index}. */
  public void record(ByteString client, long callId, long index) {
    ClientCall last = byClient.get(client);
    List<Long> ids = new ArrayList<>(last == null ? List.of() : last.getCallIdsList());
    int at = 0;
    while (at < ids.size() && ids.get(at) < callId) {
      at++;
    }
    ids.add(at, callId);
    if (ids.size() > WINDOW) {
      ids.remove(0);
    }
    byClient.put(client, ClientCall.newBuilder().setClientId(client).addAllCallIds(ids).setIndex(index).build());
    if (byClient.size() > MAX_CLIENTS) {
      // The one that wrote longest ago goes; indexes are distinct, so every replica picks the same.
      byClient.values().stream().min(Comparator.comparingLong(ClientCall::getIndex))
          .ifPresent(oldest -> byClient.remove(oldest.getClientId()));
    }
  }

  /** The table to record, ordered by log index (so every replica writes the same bytes). */
  public List<ClientCall> recorded() {
    List<ClientCall> all = new ArrayList<>(byClient.values());
    all.sort(Comparator.comparingLong(ClientCall::getIndex));
    return all;
  }

  public int size() {
    return byClient.size();
  }
}
