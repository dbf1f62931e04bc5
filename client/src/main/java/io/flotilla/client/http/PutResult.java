package io.flotilla.client.http;

import java.time.Instant;

/**
 * The answer to a put.
 *
 * @param revision the revision of the key's range at which the put was applied
 * @param expiresAt null when the key has no TTL
 */
public record PutResult(String key, long version, long revision, Instant expiresAt) {}
