package io.flotilla.bench.jmh;

import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The settings every benchmark here inherits (JMH's annotations are inherited): average time per
 * operation, one fork, 2 warm-up and 3 measured iterations of 2 s, a state per thread. Short so
 * the whole suite fits a few minutes on a small machine; JMH's options ({@code -f -wi -i -w -r})
 * override them for a careful run.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public abstract class ShortRun {
}
