package io.flotilla.client.http;

/**
 * The answer to a delete.
 *
 * @param deleted false when the key did not exist
 * @param revision the revision of the key's range after the delete
 */
public record DeleteResult(String key, boolean deleted, long revision) {}
