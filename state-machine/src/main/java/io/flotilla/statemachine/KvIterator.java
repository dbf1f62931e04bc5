package io.flotilla.statemachine;

/** A cursor over one column family, positioned by {@link KvReader#iterate}. */
public interface KvIterator extends AutoCloseable {
  boolean valid();

  byte[] key();

  /** The current value; as with {@link KvReader#get}, nobody changes the array afterwards. */
  byte[] value();

  void next();

  @Override
  void close();
}
