package io.flotilla.testcluster.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.testcluster.chaos.Linearizability.Result;
import io.flotilla.testcluster.chaos.Linearizability.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LinearizabilityTest {
  /** A history built call by call: {@code at(p, start, end)} opens and closes one call. */
  private static final class H {
    final List<Op> ops = new ArrayList<>();

    H call(int p, String f, String arg, long start, long end, Op.Type outcome, String result) {
      ops.add(new Op(p, Op.Type.INVOKE, f, "k", arg, start));
      if (end >= 0) {
        ops.add(new Op(p, outcome, f, "k", result, end));
      }
      return this;
    }

    H write(int p, String v, long start, long end) {
      return call(p, "write", v, start, end, Op.Type.OK, null);
    }

    H read(int p, String v, long start, long end) {
      return call(p, "read", null, start, end, Op.Type.OK, v);
    }

    Result check() {
      ops.sort((a, b) -> Long.compare(a.nanos(), b.nanos()));
      return Linearizability.check(Linearizability.calls(ops), null, 1_000_000, System.nanoTime() + 10_000_000_000L);
    }
  }

  @Test
  void sequentialAndOverlappingHistoriesThatSomeOrderExplainsAreValid() {
    assertEquals(Verdict.VALID, new H().write(1, "a", 0, 10).read(2, "a", 20, 30).check().verdict());
    // A read overlapping a write may see either value.
    assertEquals(Verdict.VALID, new H().write(1, "a", 0, 10).write(1, "b", 20, 40).read(2, "a", 25, 30)
        .read(3, "b", 26, 35).check().verdict());
    assertEquals(Verdict.VALID, new H().read(1, null, 0, 5).write(2, "a", 10, 20).check().verdict());
  }

  @Test
  void aStaleReadAfterANewerWriteCompletedIsInvalidAndItsWindowNamed() {
    Result r = new H().write(1, "a", 0, 10).write(1, "b", 20, 30).read(2, "a", 40, 50).check();
    assertEquals(Verdict.INVALID, r.verdict());
    assertTrue(r.window().stream().anyMatch(c -> "read".equals(c.f()) && "a".equals(c.result())), r.window()::toString);
  }

  @Test
  void readsMustNotGoBackInTime() {
    // Two reads after both writes completed... second read sees the older value: not linearizable.
    Result r = new H().write(1, "a", 0, 100).write(2, "b", 0, 100).read(3, "b", 110, 120).read(3, "a", 130, 140)
        .check();
    assertEquals(Verdict.INVALID, r.verdict());
  }

  @Test
  void anUnknownWriteMayOrMayNotHaveHappened() {
    H happened = new H().call(1, "write", "a", 0, 10, Op.Type.INFO, null).read(2, "a", 20, 30);
    assertEquals(Verdict.VALID, happened.check().verdict());
    H never = new H().call(1, "write", "a", 0, 10, Op.Type.INFO, null).read(2, null, 20, 30);
    assertEquals(Verdict.VALID, never.check().verdict());
    H lateEffect = new H().call(1, "write", "a", 0, -1, null, null).read(2, null, 20, 30).read(2, "a", 40, 50);
    assertEquals(Verdict.VALID, lateEffect.check().verdict(), "an unfinished write may land any time later");
  }

  @Test
  void casSucceedsOnlyOnTheExpectedValueAndAFailedCasSawAnotherValue() {
    assertEquals(Verdict.VALID, new H().write(1, "a", 0, 10).call(2, "cas", "a->b", 20, 30, Op.Type.OK, null)
        .read(3, "b", 40, 50).check().verdict());
    assertEquals(Verdict.INVALID, new H().write(1, "a", 0, 10).call(2, "cas", "z->b", 20, 30, Op.Type.OK, null)
        .check().verdict());
    assertEquals(Verdict.INVALID, new H().write(1, "a", 0, 10)
        .call(2, "cas", "a->b", 20, 30, Op.Type.FAIL, "409 version_conflict").check().verdict(),
        "nothing else could have changed the register: the cas should have succeeded");
    assertEquals(Verdict.VALID, new H().write(1, "a", 0, 10)
        .call(2, "cas", "a->b", 20, 30, Op.Type.FAIL, "503 unavailable").read(3, "a", 40, 50).check().verdict(),
        "refused for another reason: it did not happen");
    assertEquals(Verdict.VALID, new H().call(1, "cas", "nil->a", 0, 10, Op.Type.OK, null).read(2, "a", 20, 30)
        .check().verdict());
  }

  @Test
  void aFailedWriteNeverHappened() {
    assertEquals(Verdict.INVALID, new H().write(1, "a", 0, 10).call(2, "write", "b", 20, 30, Op.Type.FAIL, null)
        .read(3, "b", 40, 50).check().verdict());
  }

  @Test
  void manyConcurrentClientsOfACorrectRegisterCheckQuickly() {
    // A simulated atomic register: each op takes effect at a random instant inside its interval.
    Random random = new Random(7);
    H h = new H();
    String[] state = {null};
    long now = 0;
    record Pending(int p, String f, String arg, long start, long end, long point) {}
    List<Pending> pending = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      int p = i % 8;
      long start = now + random.nextInt(5);
      long end = start + 1 + random.nextInt(30);
      long point = start + random.nextInt((int) (end - start));
      boolean write = random.nextBoolean();
      pending.add(new Pending(p + 8 * (i / 8), write ? "write" : "read", write ? "v" + i : null, start, end, point));
      now += 4;
    }
    pending.sort((a, b) -> Long.compare(a.point(), b.point()));
    for (Pending c : pending) {
      String result = null;
      if ("write".equals(c.f())) {
        state[0] = c.arg();
      } else {
        result = state[0];
      }
      h.call(c.p(), c.f(), c.arg(), c.start(), c.end(), Op.Type.OK, result);
    }
    Result r = h.check();
    assertEquals(Verdict.VALID, r.verdict(), () -> "window " + r.window());
  }
}
