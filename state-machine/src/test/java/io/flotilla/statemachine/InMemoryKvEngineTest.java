package io.flotilla.statemachine;

import static io.flotilla.statemachine.Replica.k;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class InMemoryKvEngineTest extends KvEngineContract {
  @Override
  KvEngine engine() {
    return new InMemoryKvEngine();
  }

  @Test
  void sizesCountTheKeyAndValueBytesOfTheDataFamilyOnly() {
    InMemoryKvEngine e = new InMemoryKvEngine();
    e.write(new Mutations().put(ColumnFamily.DATA, k("a"), k("12345")).put(ColumnFamily.DATA, k("bb"), k("1"))
        .put(ColumnFamily.DATA, k("c"), k("")).put(ColumnFamily.META, k("meta"), k("not counted")));
    assertEquals(6 + 3 + 1, e.approximateSize(k(""), k("")));
    assertEquals(3, e.approximateSize(k("b"), k("c")));
    assertEquals(4, e.approximateSize(k("b"), k("")));
    assertEquals(10, e.totalBytes());
    assertEquals(3, e.estimatedKeys());
  }
}
