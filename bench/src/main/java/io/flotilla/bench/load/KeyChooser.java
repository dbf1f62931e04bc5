package io.flotilla.bench.load;

import java.util.random.RandomGenerator;

/** Picks the number of the key an operation reads or updates. Thread-safe: the caller brings its random source. */
public interface KeyChooser {
  long next(RandomGenerator random);
}
