package io.flotilla.statemachine;

class InMemoryKvEngineTest extends KvEngineContract {
  @Override
  KvEngine engine() {
    return new InMemoryKvEngine();
  }
}
