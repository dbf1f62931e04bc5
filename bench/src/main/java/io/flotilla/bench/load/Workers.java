package io.flotilla.bench.load;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/** Runs N client threads to completion and rethrows the first failure of any of them. */
final class Workers {
  private Workers() {}

  static void run(String name, int count, IntConsumer body) throws InterruptedException {
    List<Thread> threads = new ArrayList<>();
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int i = 0; i < count; i++) {
      int index = i;
      Thread t = new Thread(() -> body.accept(index), name + "-" + i);
      t.setDaemon(true);
      t.setUncaughtExceptionHandler((thread, e) -> failures.add(e));
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
    if (!failures.isEmpty()) {
      Throwable first = failures.get(0);
      throw first instanceof RuntimeException r ? r : new IllegalStateException(first);
    }
  }
}
