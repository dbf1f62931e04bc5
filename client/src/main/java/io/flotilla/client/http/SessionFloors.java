package io.flotilla.client.http;

import java.util.HashMap;
import java.util.Map;

/**
 * A session's memory: per range, the highest revision the session has seen in it (its floor).
 * Pure logic; {@link Session} feeds it the routing snapshots and the revisions of responses.
 *
 * <p>Invariant (what makes the session guarantees hold): for every key k, once the session has
 * seen revision R of the range holding k, the floor of the range that holds k in the session's
 * current snapshot stays at least R, for good. Observations raise floors and never lower them;
 * moving to a newer routing snapshot gives each new range the maximum floor of the old ranges it
 * overlaps, so a split child starts at its parent's floor and a merged range at the larger of
 * its parts'. That is safe because a child's revision starts at its parent's (RangeLogic:
 * "a child range inherits its parent's") and a revision never decreases.
 *
 * <p>What it cannot know: responses do not say which range served them, so a revision is
 * credited to the range the current snapshot gives the key. If a range split before the
 * snapshot learned of it, a child may be credited with its sibling's revision. That errs high:
 * never a stale read, but a follower or stale read of the less written child may wait (up to the
 * request timeout) for a revision that child reaches only later.
 *
 * <p>Thread-safe: every method holds the instance lock; each is a few map operations.
 */
final class SessionFloors {
  /** A range and the floor reads of it must send as {@code min_revision}. */
  record Floor(RangeSpan range, long revision) {}

  private RangeMap map;
  private Map<Long, Long> floors = new HashMap<>();

  /** The floor of the range holding {@code key}. */
  synchronized Floor of(RangeMap current, byte[] key) {
    adopt(current);
    RangeSpan r = map.lookup(key);
    return new Floor(r, floors.getOrDefault(r.id(), 0L));
  }

  /** The floor of the range holding the keys just below {@code position} (empty: the end of the key space). */
  synchronized Floor below(RangeMap current, byte[] position) {
    adopt(current);
    RangeSpan r = map.below(position);
    return new Floor(r, floors.getOrDefault(r.id(), 0L));
  }

  /** Records that the session saw revision {@code revision} of the range holding {@code key}. */
  synchronized void observe(RangeMap current, byte[] key, long revision) {
    adopt(current);
    if (revision > 0) {
      floors.merge(map.lookup(key).id(), revision, Math::max);
    }
  }

  /** A copy of the floors by range id, against the given snapshot. */
  synchronized Map<Long, Long> snapshot(RangeMap current) {
    adopt(current);
    return Map.copyOf(floors);
  }

  /** Moves to {@code current} if it is newer than the snapshot the floors refer to. */
  private void adopt(RangeMap current) {
    if (map == null) {
      map = current;
      return;
    }
    if (current.generation() <= map.generation()) {
      return; // an older or the same snapshot: keep ours (a caller may hold a stale reference)
    }
    Map<Long, Long> next = new HashMap<>();
    for (RangeSpan r : current.all()) {
      long inherited = 0;
      for (RangeSpan old : map.overlapping(r.start(), r.end())) {
        inherited = Math.max(inherited, floors.getOrDefault(old.id(), 0L));
      }
      if (inherited > 0) {
        next.put(r.id(), inherited);
      }
    }
    floors = next;
    map = current;
  }
}
