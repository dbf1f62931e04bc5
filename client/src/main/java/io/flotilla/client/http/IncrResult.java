package io.flotilla.client.http;

/** The answer to an increment: the counter's new value, its version and the range revision. */
public record IncrResult(String key, long value, long version, long revision) {}
