package io.flotilla.common;

import com.google.protobuf.ByteString;
import io.flotilla.proto.ClientCall;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The last write call each Raft client had applied to one range, to apply every request at
 * most once.
 *
 * <p>Raft delivers a client's request more than once in two ways: a copy stuck in the network
 * (a partition, TCP retransmitting it) reaches the leader after the client already had its
 * answer and told the leader so, which dropped it from its retry cache; or a new leader holds
 * the old leader's uncommitted copy and appends the client's retry as a second entry. A write
 * applied twice goes back in time when it lands after later writes (a register reads an old
 * value) and a compare-and-set applied twice answers "conflict" for a write that happened.
 *
 * <p>A client's ordered writes reach the log in call id order (the range client sends them one
 * at a time), so an entry whose call id is at or below the last one applied for its client is
 * a copy: it is not applied. The table must be derived from the log alone (a range keeps it in
 * its persisted state record, the placement driver rebuilds it by replaying its log), so every
 * replica decides the same, across restarts and snapshot installs. It keeps the
 * {@link #MAX_CLIENTS} clients that wrote last; a copy from a client that went quiet before
 * that many others wrote is no longer recognised.
 *
 * <p>Not thread-safe: the state machine calls it under its apply lock.
 */
public final class AppliedCalls {
  /** Clients remembered per group: each node that writes to a group has one at a time. */
  public static final int MAX_CLIENTS = 64;

  private final Map<ByteString, ClientCall> byClient = new HashMap<>();

  private AppliedCalls() {}

  /** The table as recorded by {@link #recorded()}. */
  public static AppliedCalls of(List<ClientCall> recorded) {
    AppliedCalls calls = new AppliedCalls();
    recorded.forEach(c -> calls.byClient.put(c.getClientId(), c));
    return calls;
  }

  /** True when {@code callId} of {@code client} is at or below its last applied call: a copy. */
  public boolean isCopy(ByteString client, long callId) {
    ClientCall last = byClient.get(client);
    return last != null && callId <= last.getCallId();
  }

  /** Records that {@code callId} of {@code client} applied at {@code index}. */
  public void record(ByteString client, long callId, long index) {
    byClient.put(client, ClientCall.newBuilder().setClientId(client).setCallId(callId).setIndex(index).build());
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
