package io.flotilla.api.service;

/**
 * One validated op of a batch.
 *
 * @param ttlSeconds 0 = no expiry
 * @param ifVersion null = unconditional
 */
public record BatchOpSpec(Kind kind, byte[] key, byte[] value, long ttlSeconds, Long ifVersion) {
  public enum Kind { PUT, DELETE, GET }
}
