package io.flotilla.api.service;

import com.google.protobuf.ByteString;
import io.flotilla.common.Keys;
import io.flotilla.proto.KeyVersion;
import io.flotilla.proto.RangeDescriptor;
import io.flotilla.statemachine.ColumnFamily;
import io.flotilla.statemachine.KvIterator;
import io.flotilla.statemachine.KvReader;
import io.flotilla.statemachine.StoredValue;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The sweeper's scans for expired keys, range by range: each step reads on from where the
 * range's last step stopped, within a budget of entries, and returns the expired keys it met.
 *
 * <p>A range whose last full scan met no key with a TTL is not read again while its replica's
 * TTL generation ({@code RangeStateMachine#ttlGeneration}) stays what it was when that scan
 * began: the generation changes after every write of a key with a TTL, install or span change
 * becomes visible, so a scan that began at it saw everything it covers.
 */
final class TtlScans {
  /** The most keys one expire command carries. */
  static final int MAX_KEYS = 500;

  private final long maxExpireBytes;
  /** The scan of a range under way: where it resumes, and what it met so far. */
  private final Map<Long, Pass> passes = new ConcurrentHashMap<>();
  /** Ranges whose last full scan met no TTL key, with the generation that scan began at. */
  private final Map<Long, Long> cleanAt = new ConcurrentHashMap<>();

  /** @param maxExpireBytes the most key bytes one step returns (one expire command, one log entry) */
  TtlScans(long maxExpireBytes) {
    this.maxExpireBytes = maxExpireBytes;
  }

  /**
   * @param expired keys whose expiry passed, with the versions they had when read
   * @param read entries read (taken from the caller's budget)
   */
  record Step(List<KeyVersion> expired, int read) {}

  /** Forgets the ranges not in {@code ids} (no longer led here). */
  void retain(Set<Long> ids) {
    passes.keySet().retainAll(ids);
    cleanAt.keySet().retainAll(ids);
  }

  /**
   * One step over {@code range}.
   *
   * @param generation the replica's TTL generation, read before its descriptor and this step
   * @param budget the most entries to read
   */
  Step step(KvReader engine, RangeDescriptor range, long generation, long now, int budget) {
    if (cleanAt.getOrDefault(range.getId(), 0L) == generation) {
      return new Step(List.of(), 0);
    }
    byte[] start = range.getStart().toByteArray();
    byte[] end = range.getEnd().toByteArray();
    Pass pass = passes.get(range.getId());
    if (pass == null || !Keys.inSpan(pass.cursor, start, end)) {
      pass = new Pass(start, generation);
    }
    List<KeyVersion> expired = new ArrayList<>();
    long expiredBytes = 0;
    int read = 0;
    byte[] resume = null;
    try (KvIterator it = engine.iterate(ColumnFamily.DATA, pass.cursor, end, false)) {
      for (; it.valid(); it.next()) {
        byte[] key = it.key();
        boolean full = expired.size() >= MAX_KEYS || (!expired.isEmpty() && expiredBytes + key.length > maxExpireBytes);
        if (read >= budget || full) {
          resume = key;
          break;
        }
        read++;
        byte[] stored = it.value();
        long expiresAt = StoredValue.peekExpiresAt(stored);
        pass.sawTtl |= expiresAt != 0;
        if (expiresAt != 0 && expiresAt <= now) {
          expired.add(KeyVersion.newBuilder().setKey(ByteString.copyFrom(key))
              .setVersion(StoredValue.peekVersion(stored)).build());
          expiredBytes += key.length + 16; // the key and its version's framing
        }
      }
    }
    if (resume == null) {
      passes.remove(range.getId());
      if (!pass.sawTtl && pass.startGeneration == generation) {
        cleanAt.put(range.getId(), generation);
      } else {
        cleanAt.remove(range.getId());
      }
    } else {
      pass.cursor = Arrays.copyOf(resume, resume.length);
      passes.put(range.getId(), pass);
    }
    return new Step(expired, read);
  }

  /** One range's scan from its start to its end, possibly over several steps. */
  private static final class Pass {
    byte[] cursor;
    final long startGeneration;
    boolean sawTtl;

    Pass(byte[] cursor, long startGeneration) {
      this.cursor = cursor;
      this.startGeneration = startGeneration;
    }
  }
}
