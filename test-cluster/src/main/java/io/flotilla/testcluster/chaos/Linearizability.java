package io.flotilla.testcluster.chaos;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks that one key's history of register operations is linearizable: some order of the
 * operations, each taking effect at one instant between its invocation and its completion,
 * explains every result (Wing & Gong's search with Lowe's memoization, as in Knossos and
 * Porcupine).
 *
 * <p>Operations: {@code write v}; {@code read} returning v (null: no value); {@code cas x->y}
 * (ok when the register held x, fail when it did not). A {@code fail}ed write or read never
 * happened and is dropped (so is a CAS refused for any reason but {@code version_conflict});
 * an {@code info} operation may have taken effect at any point after
 * its invocation, or never (it is linearized at the very end if nothing else needs it).
 *
 * <p>The search is bounded: past {@code maxStates} memoized states or {@code deadlineNanos}
 * it gives up and answers "unknown", never "valid".
 */
public final class Linearizability {
  /** One operation with its interval; {@code end} is Long.MAX_VALUE for unknown outcomes. */
  public record Call(int id, String f, String arg, String result, Op.Type outcome, long start, long end) {}

  /** The verdict; {@code window} lists the operations around the point no order could explain. */
  public record Result(Verdict verdict, List<Call> window, long statesExplored) {}

  public enum Verdict { VALID, INVALID, UNKNOWN }

  /** Memory the memoized states may take (about; the search answers UNKNOWN past it). */
  private static final long MAX_MEMO_BYTES = 128L << 20;

  /** The empty register (null means "cannot happen" inside the search). */
  private static final String NIL = "\u0000nil";

  private Linearizability() {}

  /** Pairs each invoke with its completion (per process) into calls; an unfinished one counts as info. */
  public static List<Call> calls(List<Op> history) {
    Map<Integer, Op> open = new HashMap<>();
    Map<Integer, Integer> idOf = new HashMap<>();
    List<Call> calls = new ArrayList<>();
    int next = 0;
    for (Op op : history) {
      if (op.type() == Op.Type.INVOKE) {
        open.put(op.process(), op);
        idOf.put(op.process(), next++);
        continue;
      }
      Op inv = open.remove(op.process());
      if (inv == null) {
        continue;
      }
      boolean conflict = "cas".equals(inv.f()) && op.value() != null && op.value().contains("version_conflict");
      if (op.type() == Op.Type.FAIL && !conflict) {
        continue; // certainly did not happen (a failed CAS only tells more when it saw another value)
      }
      long end = op.type() == Op.Type.INFO ? Long.MAX_VALUE : op.nanos();
      calls.add(new Call(idOf.get(op.process()), inv.f(), inv.value(), op.value(), op.type(), inv.nanos(), end));
    }
    for (Op inv : open.values()) {
      calls.add(new Call(idOf.get(inv.process()), inv.f(), inv.value(), null, Op.Type.INFO, inv.nanos(), Long.MAX_VALUE));
    }
    return calls;
  }

  public static Result check(List<Call> calls, String initial, long maxStates, long deadlineNanos) {
    int n = calls.size();
    List<Call> byStart = new ArrayList<>(calls);
    byStart.sort((a, b) -> Long.compare(a.start(), b.start()));
    Set<Memo> seen = new HashSet<>();
    BitSet done = new BitSet(n);
    // Iterative DFS: at each level, candidates are calls not done whose start precedes the
    // earliest end among the calls not done (they could be next).
    List<Frame> stack = new ArrayList<>();
    stack.add(new Frame(initial == null ? NIL : initial, 0));
    int best = 0;
    BitSet bestDone = new BitSet(n);
    long explored = 0;
    while (!stack.isEmpty()) {
      // Each memoized state holds a copy of the n-bit set: bound the memory, not only the count.
      if (System.nanoTime() > deadlineNanos || seen.size() > maxStates
          || (long) seen.size() * (n / 8 + 64) > MAX_MEMO_BYTES) {
        return new Result(Verdict.UNKNOWN, List.of(), explored);
      }
      Frame top = stack.get(stack.size() - 1);
      if (done.cardinality() == n) {
        return new Result(Verdict.VALID, List.of(), explored);
      }
      long horizon = Long.MAX_VALUE;
      for (int i = 0; i < n; i++) {
        if (!done.get(i)) {
          horizon = Math.min(horizon, byStart.get(i).end());
        }
      }
      boolean advanced = false;
      for (int i = top.nextCandidate; i < n; i++) {
        Call c = byStart.get(i);
        if (done.get(i)) {
          continue;
        }
        if (c.start() > horizon) {
          break; // sorted by start: no later call can go before the earliest pending end
        }
        String after = apply(top.state, c);
        if (after == null) {
          continue; // this call cannot take effect now
        }
        done.set(i);
        explored++;
        if (!seen.add(new Memo((BitSet) done.clone(), after))) {
          done.clear(i);
          continue;
        }
        top.nextCandidate = i + 1;
        top.taken = i;
        stack.add(new Frame(after, 0));
        advanced = true;
        if (done.cardinality() > best) {
          best = done.cardinality();
          bestDone = (BitSet) done.clone();
        }
        break;
      }
      if (!advanced) {
        stack.remove(stack.size() - 1);
        if (!stack.isEmpty()) {
          done.clear(stack.get(stack.size() - 1).taken);
        }
      }
    }
    return new Result(Verdict.INVALID, window(byStart, bestDone), explored);
  }

  /** The state after {@code c} takes effect in {@code state}, or null if its result contradicts it. */
  static String apply(String state, Call c) {
    boolean unknown = c.outcome() == Op.Type.INFO;
    return switch (c.f()) {
      case "write" -> c.arg();
      case "read" -> unknown || state.equals(c.result() == null ? NIL : c.result()) ? state : null;
      case "cas" -> {
        String[] xy = c.arg().split("->", 2);
        boolean matches = state.equals("nil".equals(xy[0]) ? NIL : xy[0]);
        if (unknown) {
          yield matches ? xy[1] : state;
        }
        if (c.outcome() == Op.Type.OK) {
          yield matches ? xy[1] : null;
        }
        yield matches ? null : state; // failed: the register held something else
      }
      default -> throw new IllegalArgumentException("not a register operation: " + c.f());
    };
  }

  /**
   * The calls around the point no order could get past: the first call left out of the longest
   * explainable prefix (by completion), every call overlapping it, and the three calls that
   * completed last before it began (what it should have seen).
   */
  private static List<Call> window(List<Call> byStart, BitSet linearized) {
    Call stuck = null;
    for (int i = 0; i < byStart.size(); i++) {
      Call c = byStart.get(i);
      if (!linearized.get(i) && (stuck == null || c.end() < stuck.end())) {
        stuck = c;
      }
    }
    if (stuck == null) {
      return List.of();
    }
    Call s = stuck;
    List<Call> before = byStart.stream().filter(c -> c.end() < s.start())
        .sorted((a, b) -> Long.compare(b.end(), a.end())).limit(3).toList();
    List<Call> out = new ArrayList<>(before);
    java.util.Collections.reverse(out);
    for (Call c : byStart) {
      if (c.start() <= s.end() && c.end() >= s.start()) {
        out.add(c);
      }
    }
    return out;
  }

  private record Memo(BitSet done, String state) {}

  private static final class Frame {
    final String state;
    int nextCandidate;
    int taken = -1;

    Frame(String state, int nextCandidate) {
      this.state = state;
      this.nextCandidate = nextCandidate;
    }
  }
}
